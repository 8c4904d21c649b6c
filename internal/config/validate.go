package config

import (
	"fmt"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Problem is a validation finding before it is given a file position.
type Problem struct {
	Field string
	Msg   string
}

// Locate gives problems (from Validate or from compiling the config) their
// file positions.
func (f *File) Locate(problems []Problem) Errors {
	errs := make(Errors, 0, len(problems))
	for _, p := range problems {
		pos := f.Pos(p.Field)
		errs = append(errs, &Error{File: f.Name, Line: pos.Line, Col: pos.Col, Field: p.Field, Msg: p.Msg})
	}
	return errs
}

type validator struct{ problems []Problem }

func (v *validator) add(field, format string, args ...any) {
	v.problems = append(v.problems, Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Validate reports every problem of a defaulted config. It changes nothing.
func (c *Config) Validate() []Problem {
	v := &validator{}
	v.hostPort("listen", c.Listen)
	if c.Admin.Listen != "" {
		v.hostPort("admin.listen", c.Admin.Listen)
		if c.Admin.Listen == c.Listen && !strings.HasSuffix(c.Listen, ":0") {
			v.add("admin.listen", "must differ from listen")
		}
	}
	if c.TLS.Enabled() {
		if c.TLS.CertFile == "" {
			v.add("tls.cert_file", "is required when tls.key_file is set")
		}
		if c.TLS.KeyFile == "" {
			v.add("tls.key_file", "is required when tls.cert_file is set")
		}
	}
	if c.TLS.MinVersion != "1.2" && c.TLS.MinVersion != "1.3" {
		v.add("tls.min_version", "want 1.2 or 1.3, got %q", c.TLS.MinVersion)
	}
	c.Limits.validate(v)
	c.State.validate(v)
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		v.add("log.level", "want debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.Log.BufferLines < 0 {
		v.add("log.buffer_lines", "must not be negative")
	}
	names := make([]string, 0, len(c.Upstreams))
	for name := range c.Upstreams {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		c.Upstreams[name].validate(v, "upstreams."+name)
	}
	if len(c.Routes) == 0 {
		v.add("routes", "at least one route is required; without routes every request is refused")
	}
	seen := map[string]int{}
	for i := range c.Routes {
		r := &c.Routes[i]
		p := fmt.Sprintf("routes[%d]", i)
		if j, dup := seen[r.Name]; dup {
			v.add(p+".name", "route name %q is already used by routes[%d]", r.Name, j)
		}
		seen[r.Name] = i
		r.validate(v, p, c)
	}
	c.validateJWT(v)
	c.validateAttestation(v)
	c.validateRateLimits(v)
	c.validateProofs(v)
	return v.problems
}

func (v *validator) hostPort(field, s string) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		v.add(field, "want host:port such as 127.0.0.1:8080, got %q", s)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add(field, "port must be a number from 0 to 65535, got %q", port)
	}
	_ = host // empty host means every interface, which is allowed
}

func (s State) validate(v *validator) {
	switch {
	case s.Hot == "memory", strings.HasPrefix(s.Hot, "redis://"), strings.HasPrefix(s.Hot, "rediss://"):
	default:
		v.add("state.hot", "want memory or a redis:// or rediss:// URL")
	}
	switch {
	case s.Durable == "memory", strings.HasPrefix(s.Durable, "postgres://"), strings.HasPrefix(s.Durable, "postgresql://"):
	case strings.HasPrefix(s.Durable, "sqlite:") && len(s.Durable) > len("sqlite:"):
	default:
		v.add("state.durable", "want sqlite:PATH, a postgres:// URL, or memory")
	}
}

func (l *Limits) validate(v *validator) {
	positive := []struct {
		field string
		val   int64
	}{
		{"limits.max_header_bytes", int64(l.MaxHeaderBytes)},
		{"limits.max_request_line_bytes", int64(l.MaxRequestLineBytes)},
		{"limits.max_header_count", int64(l.MaxHeaderCount)},
		{"limits.max_body_bytes", int64(l.MaxBodyBytes)},
		{"limits.read_header_timeout", int64(l.ReadHeaderTimeout)},
		{"limits.read_timeout", int64(l.ReadTimeout)},
		{"limits.write_timeout", int64(l.WriteTimeout)},
		{"limits.idle_timeout", int64(l.IdleTimeout)},
		{"limits.max_connections", int64(l.MaxConnections)},
		{"limits.shutdown_timeout", int64(l.ShutdownTimeout)},
	}
	for _, p := range positive {
		if p.val <= 0 {
			v.add(p.field, "must be greater than zero")
		}
	}
	if l.ShutdownDelay < 0 {
		v.add("limits.shutdown_delay", "must not be negative (0 means close at once)")
	}
	if l.MaxConnectionsPerIP < 0 {
		v.add("limits.max_connections_per_ip", "must not be negative (0 means no per-address cap)")
	}
	if l.MaxRequestLineBytes > l.MaxHeaderBytes {
		v.add("limits.max_request_line_bytes", "must not exceed limits.max_header_bytes (%d)", l.MaxHeaderBytes)
	}
	if l.MaxHeaderBytes > 1<<20 {
		v.add("limits.max_header_bytes", "must be at most 1MiB")
	}
}

func (u Upstream) validate(v *validator, p string) {
	if u.URL == "" {
		v.add(p+".url", "is required")
		return
	}
	pu, err := url.Parse(u.URL)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		v.add(p+".url", "want an http:// or https:// URL with a host, got %q", u.URL)
		return
	}
	if pu.User != nil || pu.RawQuery != "" || pu.Fragment != "" {
		v.add(p+".url", "must not carry credentials, a query or a fragment")
	}
	if u.MaxIdleConns < 0 {
		v.add(p+".max_idle_conns", "must not be negative")
	}
	if u.CAFile != "" && pu.Scheme != "https" {
		v.add(p+".ca_file", "only applies to https upstreams")
	}
}

func (r *Route) validate(v *validator, p string, c *Config) {
	if r.Upstream == "" {
		v.add(p+".upstream", "is required")
	} else if _, ok := c.Upstreams[r.Upstream]; !ok {
		known := make([]string, 0, len(c.Upstreams))
		for n := range c.Upstreams {
			known = append(known, n)
		}
		slices.Sort(known)
		v.add(p+".upstream", "unknown upstream %q (defined: %s)", r.Upstream, strings.Join(known, ", "))
	}
	m := r.Match
	if m.PathPrefix != "" && !strings.HasPrefix(m.PathPrefix, "/") {
		v.add(p+".match.path_prefix", "must start with /")
	}
	if m.Path != "" && !strings.HasPrefix(m.Path, "/") {
		v.add(p+".match.path", "must start with /")
	}
	if m.Path != "" && m.PathPrefix != "" {
		v.add(p+".match", "set path or path_prefix, not both")
	}
	for i, meth := range m.Methods {
		if !isToken(meth) || strings.ToUpper(meth) != meth {
			v.add(fmt.Sprintf("%s.match.methods[%d]", p, i), "want an upper-case method such as GET, got %q", meth)
		}
	}
	for i, h := range m.Hosts {
		if !validHostPattern(h) {
			v.add(fmt.Sprintf("%s.match.hosts[%d]", p, i), "want a host name or *.domain without port, got %q", h)
		}
	}
	if r.StripPrefix != "" {
		if !strings.HasPrefix(r.StripPrefix, "/") {
			v.add(p+".strip_prefix", "must start with /")
		} else if m.PathPrefix == "" || !strings.HasPrefix(strings.TrimSuffix(m.PathPrefix, "/")+"/", strings.TrimSuffix(r.StripPrefix, "/")+"/") {
			v.add(p+".strip_prefix", "must be a prefix of match.path_prefix, so that every forwarded path has it")
		}
	}
	if r.MaxBodyBytes < 0 {
		v.add(p+".max_body_bytes", "must not be negative")
	}
	for i := range r.Policies {
		r.Policies[i].validate(v, fmt.Sprintf("%s.policies[%d]", p, i))
	}
}

// Layers lists the policy layer names in PolicySpec order.
func Layers() []string {
	t := reflect.TypeFor[PolicySpec]()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		names = append(names, name)
	}
	return names
}

// Layer returns the name of the one layer a spec sets, or "" when it sets
// none or several.
func (s *PolicySpec) Layer() string {
	set := s.setLayers()
	if len(set) != 1 {
		return ""
	}
	return set[0]
}

func (s *PolicySpec) setLayers() []string {
	rv := reflect.ValueOf(s).Elem()
	var set []string
	for i, name := range Layers() {
		if !rv.Field(i).IsNil() {
			set = append(set, name)
		}
	}
	return set
}

func (s *PolicySpec) validate(v *validator, p string) {
	switch set := s.setLayers(); len(set) {
	case 0:
		v.add(p, "a policy names exactly one layer (one of: %s)", strings.Join(Layers(), ", "))
		return
	case 1:
	default:
		v.add(p, "a policy names exactly one layer, got %d: %s (write each as its own list item)", len(set), strings.Join(set, ", "))
		return
	}
	switch {
	case s.IP != nil:
		s.IP.validate(v, p+".ip")
	case s.UserAgent != nil:
		s.UserAgent.validate(v, p+".useragent")
	case s.Headers != nil:
		s.Headers.validate(v, p+".headers")
	case s.CORS != nil:
		s.CORS.validate(v, p+".cors")
	}
}

func (ip *IPPolicy) validate(v *validator, p string) {
	if len(ip.Allow) == 0 && len(ip.Deny) == 0 {
		v.add(p, "set allow, deny or both")
	}
}

func (ua *UserAgentPolicy) validate(v *validator, p string) {
	if len(ua.Allow) == 0 && len(ua.Deny) == 0 && !ua.DenyEmpty {
		v.add(p, "set allow, deny or deny_empty")
	}
	for _, l := range []struct {
		name string
		pats []string
	}{{"allow", ua.Allow}, {"deny", ua.Deny}} {
		for i, pat := range l.pats {
			if strings.TrimSpace(pat) == "" {
				v.add(fmt.Sprintf("%s.%s[%d]", p, l.name, i), "pattern must not be empty")
			}
		}
	}
}

func (h *HeadersPolicy) validate(v *validator, p string) {
	for _, l := range []struct {
		name  string
		names []string
	}{{"require", h.Require}, {"forbid", h.Forbid}} {
		for i, n := range l.names {
			if !isToken(n) {
				v.add(fmt.Sprintf("%s.%s[%d]", p, l.name, i), "want a header name, got %q", n)
			}
		}
	}
	for name, val := range h.Response {
		if !isToken(name) {
			v.add(p+".response."+name, "want a header name, got %q", name)
		}
		if strings.ContainsAny(val, "\r\n\x00") {
			v.add(p+".response."+name, "value must not contain CR, LF or NUL")
		}
	}
	if len(h.Require) == 0 && len(h.Forbid) == 0 && len(h.Response) == 0 && !h.SecurityHeaders && !h.NoStore {
		v.add(p, "set require, forbid, response, security_headers or no_store")
	}
	if h.HSTSMaxAge < 0 {
		v.add(p+".hsts_max_age", "must not be negative")
	}
}

func (c *CORSPolicy) validate(v *validator, p string) {
	if len(c.AllowOrigins) == 0 {
		v.add(p+".allow_origins", "list at least one origin")
	}
	for i, o := range c.AllowOrigins {
		f := fmt.Sprintf("%s.allow_origins[%d]", p, i)
		if o == "*" {
			if c.AllowCredentials {
				v.add(f, `"*" cannot be combined with allow_credentials: list the origins`)
			}
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			v.add(f, "want an origin such as https://app.example.com, got %q", o)
		}
	}
	for i, m := range c.AllowMethods {
		if !isToken(m) {
			v.add(fmt.Sprintf("%s.allow_methods[%d]", p, i), "want a method, got %q", m)
		}
	}
	for i, h := range c.AllowHeaders {
		if !isToken(h) {
			v.add(fmt.Sprintf("%s.allow_headers[%d]", p, i), "want a header name, got %q", h)
		}
	}
	for i, h := range c.ExposeHeaders {
		if !isToken(h) {
			v.add(fmt.Sprintf("%s.expose_headers[%d]", p, i), "want a header name, got %q", h)
		}
	}
}

// isToken reports whether s is an RFC 9110 token (method, header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || !tokenChars[c] {
			return false
		}
	}
	return true
}

var tokenChars = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return
}()

func validHostPattern(h string) bool {
	h = strings.TrimPrefix(h, "*.")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
