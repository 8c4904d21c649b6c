package config

// Config is the whole drawbridge configuration: the YAML file, decoded.
//
// The zero value of every field is meaningful and documented; Default
// returns the configuration an empty file produces.
type Config struct {
	// Listen is the gateway's address (host:port) for API traffic.
	// Default: 127.0.0.1:8080.
	Listen string `yaml:"listen" jsonschema:"default=127.0.0.1:8080"`

	// Admin is the separate listener for metrics, health and operator APIs.
	Admin Admin `yaml:"admin"`

	// TLS terminates TLS on Listen when CertFile and KeyFile are set.
	// Without it the listener speaks plain HTTP/1.1.
	TLS TLS `yaml:"tls"`

	// Limits bound what one client can make the gateway hold.
	Limits Limits `yaml:"limits"`

	// TrustedProxies lists the networks (CIDR) of load balancers in front of
	// the gateway. Only a peer in this list may tell the gateway the client's
	// address through X-Forwarded-For; the client address is the right-most
	// address in the chain that is not itself trusted. Empty: the TCP peer
	// is the client, and forwarded headers are ignored.
	TrustedProxies []Prefix `yaml:"trusted_proxies"`

	// Log configures the decision log.
	Log Log `yaml:"log"`

	// State says where drawbridge keeps state between requests. Changing
	// it needs a restart.
	State State `yaml:"state"`

	// Upstreams are the API servers behind the gateway, by name.
	Upstreams map[string]Upstream `yaml:"upstreams"`

	// Apps are the apps attestation vouches for, by id.
	Apps map[string]App `yaml:"apps"`

	// Attestation configures the attestation service and its tokens.
	Attestation Attestation `yaml:"attestation"`

	// Routes are tried in order; the first whose Match accepts the request
	// handles it. A request no route matches is refused (404,
	// route.not_found) and never forwarded.
	Routes []Route `yaml:"routes"`

	// Issuers are the token issuers that jwt policies may trust, by name.
	// Their key sets are loaded once per config load and shared by every
	// route that names them.
	Issuers map[string]Issuer `yaml:"issuers"`

	// APIKeys configures the API keys apikey policies check.
	APIKeys APIKeys `yaml:"api_keys"`
}

// State locates the two stores. A single node needs nothing: hot state in
// memory, durable state in a SQLite file. Replicas share Redis and
// PostgreSQL.
type State struct {
	// Hot holds single-use challenges and nonces and rate-limit counters:
	// "memory" (default) or a redis:// or rediss:// URL
	// (redis://[:password@]host:port/db; add ?addr=host:port for more
	// Cluster nodes, or ?master_name=NAME for Sentinel).
	Hot string `yaml:"hot" jsonschema:"default=memory"`
	// Durable holds the device registry, operators' run-time controls and
	// API keys: "sqlite:PATH" (default sqlite:drawbridge.db), a
	// postgres:// URL, or "memory" (lost at exit: tests and demos only).
	Durable string `yaml:"durable" jsonschema:"default=sqlite:drawbridge.db"`
}

// Admin is the operator listener.
type Admin struct {
	// Listen is the admin address (host:port). It serves /metrics,
	// /healthz and /readyz. Empty disables the admin listener.
	Listen string `yaml:"listen"`
	// Token is the bearer token operators present to change run-time
	// controls (revoke devices, block versions, cut off tokens). Use
	// ${file:...}. Empty: the operator API only reads.
	Token string `yaml:"token"`
	// Pprof serves Go's profiler under /debug/pprof/ on the admin
	// listener. Off by default: profiles reveal internals and cost CPU.
	Pprof bool `yaml:"pprof"`
}

// TLS is server-side TLS termination.
type TLS struct {
	// CertFile is a PEM certificate chain, leaf first.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the PEM private key of the leaf.
	KeyFile string `yaml:"key_file"`
	// MinVersion is "1.2" or "1.3". Default: 1.2.
	MinVersion string `yaml:"min_version" jsonschema:"enum=1.2,enum=1.3,default=1.2"`
	// DisableHTTP2 turns off HTTP/2 negotiation (ALPN h2).
	DisableHTTP2 bool `yaml:"disable_http2"`
}

// Enabled reports whether TLS termination is configured.
func (t TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// Limits are the resource bounds of the listener. Zero values mean the
// documented default, never "unlimited".
type Limits struct {
	// MaxHeaderBytes caps the request head (request line and fields).
	// Larger heads are refused with 431. Default: 32KiB.
	MaxHeaderBytes ByteSize `yaml:"max_header_bytes" jsonschema:"default=32KiB"`
	// MaxRequestLineBytes caps the request line; longer targets get 414.
	// Default: 8KiB.
	MaxRequestLineBytes ByteSize `yaml:"max_request_line_bytes" jsonschema:"default=8KiB"`
	// MaxHeaderCount caps the number of header fields (431 beyond).
	// Default: 100.
	MaxHeaderCount int `yaml:"max_header_count" jsonschema:"default=100"`
	// MaxBodyBytes is the default request body cap of every route (413
	// beyond). A route may set its own. Default: 10MiB.
	MaxBodyBytes ByteSize `yaml:"max_body_bytes" jsonschema:"default=10MiB"`
	// ReadHeaderTimeout bounds the time to receive a whole request head,
	// from its first byte; a slow-header (slowloris) client is cut off.
	// Default: 10s.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout" jsonschema:"default=10s"`
	// ReadTimeout bounds the time to read a whole request, body included.
	// Default: 60s.
	ReadTimeout Duration `yaml:"read_timeout" jsonschema:"default=60s"`
	// WriteTimeout bounds the time to write a response; a client that never
	// reads is cut off. Default: 60s.
	WriteTimeout Duration `yaml:"write_timeout" jsonschema:"default=60s"`
	// IdleTimeout closes keep-alive connections idle this long. Default: 120s.
	IdleTimeout Duration `yaml:"idle_timeout" jsonschema:"default=120s"`
	// MaxConnections caps concurrent client connections; the excess is
	// closed at once. Default: 10000.
	MaxConnections int `yaml:"max_connections" jsonschema:"default=10000"`
	// MaxConnectionsPerIP caps concurrent connections from one client
	// address (the TCP peer). Default: 0, no per-address cap.
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// ShutdownTimeout is how long in-flight requests may take to finish
	// after a shutdown signal. Default: 30s.
	ShutdownTimeout Duration `yaml:"shutdown_timeout" jsonschema:"default=30s"`
	// ShutdownDelay is how long the gateway keeps serving after a shutdown
	// signal with /readyz answering 503 and keep-alive off, before it
	// closes its listener: the time a load balancer needs to see it is not
	// ready and stop sending it new connections (its health-check interval
	// times its failure threshold). Default: 0, close at once.
	ShutdownDelay Duration `yaml:"shutdown_delay"`
}

// Log configures the decision log: one JSON line per request saying which
// layer allowed or denied it and why. Tokens, query strings and header
// values are never logged.
type Log struct {
	// Level is debug, info, warn or error. Default: info.
	Level string `yaml:"level" jsonschema:"enum=debug,enum=info,enum=warn,enum=error,default=info"`
	// Decisions turns the per-request decision log on or off. Default: true.
	Decisions *bool `yaml:"decisions" jsonschema:"default=true"`
	// Output is stderr, stdout, or a file path. Default: stderr.
	Output string `yaml:"output" jsonschema:"default=stderr"`
	// BufferLines is how many log lines may wait for the writer; beyond it
	// lines are dropped and counted, so logging never blocks a request.
	// Default: 8192.
	BufferLines int `yaml:"buffer_lines" jsonschema:"default=8192"`
}

// DecisionsEnabled reports whether the decision log is on (default true).
func (l Log) DecisionsEnabled() bool { return l.Decisions == nil || *l.Decisions }

// Upstream is an API server the gateway forwards to.
type Upstream struct {
	// URL is the upstream's base URL (http or https). Its path, if any, is
	// prefixed to the forwarded path.
	URL string `yaml:"url" jsonschema:"required"`
	// PreserveHost forwards the client's Host header instead of the
	// upstream's host.
	PreserveHost bool `yaml:"preserve_host"`
	// DialTimeout bounds connecting to the upstream. Default: 5s.
	DialTimeout Duration `yaml:"dial_timeout" jsonschema:"default=5s"`
	// ResponseHeaderTimeout bounds the wait for the upstream's response
	// head. Default: 0, no bound (streaming APIs may take their time).
	ResponseHeaderTimeout Duration `yaml:"response_header_timeout"`
	// MaxIdleConns is the size of the keep-alive pool to this upstream.
	// Default: 512.
	MaxIdleConns int `yaml:"max_idle_conns" jsonschema:"default=512"`
	// IdleConnTimeout closes pooled connections idle this long. Default: 90s.
	IdleConnTimeout Duration `yaml:"idle_conn_timeout" jsonschema:"default=90s"`
	// CAFile is a PEM bundle to verify an https upstream; default: the
	// system roots.
	CAFile string `yaml:"ca_file"`
	// FlushInterval is how often buffered response bytes are flushed to the
	// client. Default: 0, Go's default (flush streaming responses
	// immediately, buffer others); -1 flushes after every write.
	FlushInterval Duration `yaml:"flush_interval"`
}

// Route is one entry of the route list: what it matches, where it goes,
// and the policies a request must pass on the way.
type Route struct {
	// Name identifies the route in logs and metrics. Default: routes[N].
	Name string `yaml:"name"`
	// Match selects the requests this route handles.
	Match Match `yaml:"match"`
	// Upstream names an entry of upstreams.
	Upstream string `yaml:"upstream" jsonschema:"required"`
	// StripPrefix removes this prefix from the path before forwarding.
	StripPrefix string `yaml:"strip_prefix"`
	// MaxBodyBytes caps the request body on this route (413 beyond).
	// Default: 0, limits.max_body_bytes.
	MaxBodyBytes ByteSize `yaml:"max_body_bytes"`
	// WebSocket allows WebSocket upgrades on this route. Other upgrades
	// (and h2c) are always refused.
	WebSocket bool `yaml:"websocket"`
	// Policies run in order; the first that denies answers the request.
	Policies []PolicySpec `yaml:"policies"`
}

// Match selects requests. Every set field must accept the request; an
// empty Match accepts every request.
type Match struct {
	// Hosts are host names (without port); "*.example.com" matches one or
	// more labels below example.com. Empty: any host.
	Hosts []string `yaml:"hosts"`
	// PathPrefix matches the normalised path segment-wise: "/api" and
	// "/api/" both match "/api/x", and neither matches "/apix".
	PathPrefix string `yaml:"path_prefix"`
	// Path is a pattern matched against the whole normalised path: literal
	// segments, {name} for one segment, and a final {name...} for the rest.
	Path string `yaml:"path"`
	// Methods are the allowed methods (upper case). Empty: any method.
	Methods []string `yaml:"methods"`
	// CaseSensitive matches paths case-sensitively. Default false: "/API/x"
	// is judged by the route for "/api/", because many upstreams treat paths
	// case-insensitively and an ACL must not be bypassed by case.
	CaseSensitive bool `yaml:"case_sensitive"`
}

// PolicySpec is one element of a route's policy list. Exactly one field
// is set; its name is the layer.
type PolicySpec struct {
	// IP allows or denies client addresses.
	IP *IPPolicy `yaml:"ip"`
	// UserAgent allows or denies User-Agent patterns. A weak layer: any
	// client can send any User-Agent.
	UserAgent *UserAgentPolicy `yaml:"useragent"`
	// Headers requires request headers and sets security response headers.
	Headers *HeadersPolicy `yaml:"headers"`
	// CORS answers preflights and adds CORS response headers for allowed
	// origins.
	CORS *CORSPolicy `yaml:"cors"`
	// JWT requires a bearer token (JWS, JWE or PASETO v4) of a trusted
	// issuer, checks scopes and claims, and forwards the verified subject
	// and claims upstream.
	JWT *JWTPolicy `yaml:"jwt"`
	// Attestation requires an attestation token: proof that the genuine
	// app, on a sound device, makes the request.
	Attestation *AttestationPolicy `yaml:"attestation"`
	// RateLimit limits request rates per client, user, install, API key,
	// header or claim (GCRA; docs/ratelimit.md).
	RateLimit *RateLimitPolicy `yaml:"ratelimit"`
	// Signature requires an HTTP message signature (RFC 9421) over the
	// request as sent, its body included (Content-Digest).
	Signature *SignaturePolicy `yaml:"signature"`
	// DPoP requires a DPoP proof (RFC 9449) by the key the request's
	// access or attestation token is bound to.
	DPoP *DPoPPolicy `yaml:"dpop"`
	// APIKey requires an API key (api_keys; docs/apikeys.md).
	APIKey *APIKeyPolicy `yaml:"apikey"`
}

// IPPolicy judges the client address (see trusted_proxies).
type IPPolicy struct {
	// Allow: when non-empty, only these networks pass.
	Allow []Prefix `yaml:"allow"`
	// Deny: these networks are refused, even if also allowed.
	Deny []Prefix `yaml:"deny"`
}

// UserAgentPolicy judges the User-Agent header with glob patterns (`*`
// matches any run of characters, case-insensitive).
type UserAgentPolicy struct {
	// Allow: when non-empty, only matching User-Agents pass.
	Allow []string `yaml:"allow"`
	// Deny: matching User-Agents are refused.
	Deny []string `yaml:"deny"`
	// DenyEmpty refuses requests with no or an empty User-Agent.
	DenyEmpty bool `yaml:"deny_empty"`
}

// HeadersPolicy checks request headers and sets response headers.
type HeadersPolicy struct {
	// Require lists header names that must be present and non-empty.
	Require []string `yaml:"require"`
	// Forbid lists header names that must be absent.
	Forbid []string `yaml:"forbid"`
	// Response are headers set on every response of the route, allowed or
	// denied (overriding the upstream's).
	Response map[string]string `yaml:"response"`
	// SecurityHeaders sets a safe default set on responses: HSTS (when
	// served over TLS or behind a trusted TLS proxy), X-Content-Type-Options
	// nosniff, Referrer-Policy no-referrer, X-Frame-Options DENY and a
	// restrictive Content-Security-Policy for API responses.
	SecurityHeaders bool `yaml:"security_headers"`
	// HSTSMaxAge is the Strict-Transport-Security max-age. Default: 1 year.
	HSTSMaxAge Duration `yaml:"hsts_max_age" jsonschema:"default=8760h"`
	// NoStore sets Cache-Control: no-store on the route's responses, for
	// routes that return personal data.
	NoStore bool `yaml:"no_store"`
}

// CORSPolicy is a CORS allow-list. Requests without an Origin header are
// not CORS requests and pass untouched.
type CORSPolicy struct {
	// AllowOrigins are exact origins (scheme://host[:port]); "*" allows
	// any origin but then credentials are never allowed.
	AllowOrigins []string `yaml:"allow_origins" jsonschema:"required"`
	// AllowMethods for preflights. Default: GET, HEAD, POST.
	AllowMethods []string `yaml:"allow_methods"`
	// AllowHeaders for preflights (case-insensitive).
	AllowHeaders []string `yaml:"allow_headers"`
	// ExposeHeaders are response headers scripts may read.
	ExposeHeaders []string `yaml:"expose_headers"`
	// AllowCredentials lets the browser send cookies.
	AllowCredentials bool `yaml:"allow_credentials"`
	// MaxAge is how long a preflight answer may be cached. Default: 10m.
	MaxAge Duration `yaml:"max_age" jsonschema:"default=10m"`
	// DenyUnknownOrigins refuses (403, cors.origin_denied) requests whose
	// Origin is not allowed, instead of only withholding CORS headers.
	DenyUnknownOrigins bool `yaml:"deny_unknown_origins"`
}
