// Package gateway is drawbridge's HTTP front: it routes each request,
// runs the route's policy chain, and forwards what passes to the upstream
// with net/http/httputil.ReverseProxy.
//
// # Request path
//
// A request is handled in one order, every time:
//
//  1. The connection guard (internal/httpwire) has already refused
//     ambiguous framing; such a request arrives here only as a refusal to
//     render.
//  2. The client address is worked out from the TCP peer and the trusted
//     proxies; fields the client named in Connection are dropped, so that
//     policies judge exactly what will be forwarded.
//  3. The path is normalised once (internal/urlpath); routing, policies and
//     the upstream all see that one path.
//  4. The first matching route's policy chain, compiled at config load,
//     runs in order. The first denial answers the request.
//  5. The request is forwarded. Headers the gateway vouches for are added
//     after hop-by-hop stripping, replacing anything the client sent.
//
// Every outcome is one decision: logged as one JSON line, counted in
// Prometheus metrics, and, for refusals, answered as RFC 9457
// problem+json with a stable reason code and no internal detail. Reason
// codes become HTTP statuses in one table (problem.go).
//
// # Reloads
//
// A config is compiled into an immutable value and swapped atomically;
// requests in flight finish on the config they started with. A config that
// does not compile is refused and the old one keeps serving.
package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/httpwire"
	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
	"github.com/drawbridge-gw/drawbridge/internal/token"
	"github.com/drawbridge-gw/drawbridge/internal/upstream"
	"github.com/drawbridge-gw/drawbridge/internal/urlpath"
)

// Options configure a Gateway. The zero value is usable.
type Options struct {
	// Logger receives operational logs, and decision logs when
	// DecisionLog is nil. If nil, logs are discarded.
	Logger *slog.Logger
	// DecisionLog receives one JSON line per request (one Write per
	// line, see DecisionHandler). It should not block: see AsyncWriter.
	// If nil, decisions go to Logger's handler.
	DecisionLog io.Writer
	// Metrics records decisions. If nil, a private registry is used.
	Metrics *Metrics
	// Now is the clock. If nil, time.Now.
	Now func() time.Time
	// Hot and Durable are the stores layers keep state in (replay guard,
	// rate limits, device registry, run-time controls). If nil, private
	// in-memory stores are used.
	Hot     store.Hot
	Durable store.Durable
}

// Gateway is the HTTP handler at the heart of drawbridge.
type Gateway struct {
	log        *slog.Logger
	decisions  slog.Handler
	hot        store.Hot
	durable    store.Durable
	attest     attestState
	metrics    *Metrics
	now        func() time.Time
	errorLog   *log.Logger
	bufferPool *upstream.BufferPool
	transports transports
	keySources keySources // remote token key sets, shared across reloads
	guard      atomic.Pointer[httpwire.Guard]
	cur        atomic.Pointer[compiled]
	proofs     proofState // dpop nonce secret, API key verifier

	// limiter is the memory rate limiter, shared across reloads.
	limiter localLimiter
}

// compiled is one loaded config, ready to serve. It is never modified
// after it is built.
type compiled struct {
	file      *config.File
	router    router
	trusted   []netip.Prefix
	decisions bool
	pathOpts  urlpath.Options
	noRoute   *routeMetrics
	attest    *attestEndpoints   // nil when the attestation service is off
	keysUsed  map[sourceKey]bool // the remote key sets its policies use
}

// New returns a Gateway with no config; it refuses every request with 503
// until Load succeeds.
func New(o Options) *Gateway {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Hot == nil {
		o.Hot = memory.NewHot(memory.HotOptions{})
	}
	if o.Durable == nil {
		o.Durable = memory.NewDurable()
	}
	return &Gateway{
		hot:        watchHot(o.Hot, o.Logger), // logs outages once (hot_health.go)
		durable:    o.Durable,
		log:        o.Logger,
		decisions:  decisionHandler(o),
		metrics:    o.Metrics,
		now:        o.Now,
		errorLog:   slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
		bufferPool: upstream.NewBufferPool(),
	}
}

func decisionHandler(o Options) slog.Handler {
	if o.DecisionLog != nil {
		return NewDecisionHandler(o.DecisionLog, nil)
	}
	return o.Logger.Handler()
}

// Metrics returns the gateway's metrics.
func (g *Gateway) Metrics() *Metrics { return g.metrics }

// Config returns the config in force, or nil.
func (g *Gateway) Config() *config.File {
	if c := g.cur.Load(); c != nil {
		return c.file
	}
	return nil
}

// Load compiles f and, if it compiles, puts it in force atomically. On
// failure the config in force is unchanged and the error is config.Errors.
func (g *Gateway) Load(f *config.File) error {
	c, used, problems := g.compile(f)
	if len(problems) > 0 {
		// Key sets the refused config created were never started; those
		// of the config in force stay.
		var keep map[sourceKey]bool
		if cur := g.cur.Load(); cur != nil {
			keep = cur.keysUsed
		}
		g.keySources.retain(keep)
		g.metrics.reloads.WithLabelValues("refused").Inc()
		return f.Locate(problems)
	}
	g.cur.Store(c)
	g.transports.retain(used)
	g.keySources.retain(c.keysUsed)
	g.metrics.reloads.WithLabelValues("ok").Inc()
	g.metrics.configTimestamp.Set(float64(g.now().Unix()))
	return nil
}

// Check compiles f without putting it in force, for `config check`.
func Check(f *config.File) error {
	g := New(Options{})
	_, _, problems := g.compile(f)
	for _, tr := range g.transports.m {
		tr.CloseIdleConnections()
	}
	g.Close()
	if len(problems) > 0 {
		return f.Locate(problems)
	}
	return nil
}

func (g *Gateway) compile(f *config.File) (*compiled, map[transportKey]bool, []config.Problem) {
	cfg := f.Config
	var problems []config.Problem
	used := map[transportKey]bool{}
	proxies := map[string]*upstreamProxy{}
	for name, u := range cfg.Upstreams {
		p, ps := g.buildUpstream(name, u, used)
		problems = append(problems, ps...)
		proxies[name] = p
	}
	c := &compiled{
		file:      f,
		decisions: cfg.Log.DecisionsEnabled(),
		noRoute:   g.metrics.forRoute(""),
		keysUsed:  map[sourceKey]bool{},
	}
	st := &compileState{g: g, issuers: map[string]*token.IssuerConfig{}, used: c.keysUsed}
	for _, t := range cfg.TrustedProxies {
		c.trusted = append(c.trusted, t.Prefix)
	}
	problems = append(problems, g.compileAttestation(cfg, st, c)...)
	for i := range cfg.Routes {
		rc := &cfg.Routes[i]
		path := fmt.Sprintf("routes[%d]", i)
		r := &route{
			name:        rc.Name,
			stripPrefix: rc.StripPrefix,
			maxBody:     int64(rc.MaxBodyBytes),
			websocket:   rc.WebSocket,
			proxy:       proxies[rc.Upstream],
			metrics:     g.metrics.forRoute(rc.Name),
		}
		if err := compileMatch(r, rc.Match); err != nil {
			problems = append(problems, config.Problem{Field: path + ".match.path", Msg: err.Error()})
		}
		steps, ps := g.buildChain(path, rc.Policies, cfg, st)
		problems = append(problems, ps...)
		r.steps = steps
		c.router.routes = append(c.router.routes, r)
	}
	problems = append(problems, c.attestClashes()...)
	return c, used, problems
}

// buildChain compiles a policy list into its steps. path is the field path
// of the list's owner (routes[2], attestation).
func (g *Gateway) buildChain(path string, specs []config.PolicySpec, cfg *config.Config, st *compileState) ([]step, []config.Problem) {
	var steps []step
	var problems []config.Problem
	for j := range specs {
		spec := &specs[j]
		layer := spec.Layer()
		build, ok := builders[layer]
		if !ok {
			problems = append(problems, config.Problem{Field: fmt.Sprintf("%s.policies[%d]", path, j), Msg: fmt.Sprintf("layer %q is not available in this build", layer)})
			continue
		}
		p, ps := build(spec, &buildEnv{path: fmt.Sprintf("%s.policies[%d].%s", path, j, layer), cfg: cfg, st: st, hot: g.hot, durable: g.durable, now: g.now})
		problems = append(problems, ps...)
		if p != nil {
			steps = append(steps, step{layer: layer, policy: p})
		}
	}
	return steps, problems
}

// Close stops the gateway's background work (the refreshing of remote
// token key sets). The config in force keeps serving with the keys it
// has.
func (g *Gateway) Close() {
	g.keySources.retain(nil)
	g.attest.mu.Lock()
	if g.attest.controls != nil {
		g.attest.controls.Close()
		g.attest.controls = nil
	}
	g.attest.mu.Unlock()
}

// SetGuard tells the gateway which connection guard emits refusals.
func (g *Gateway) SetGuard(gd *httpwire.Guard) { g.guard.Store(gd) }

// ServeHTTP handles one client request.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := g.cur.Load()
	s := getScope()
	defer putScope(s)
	defer g.recoverPanic(w, s, c)
	s.Start = g.now()
	s.Request = r
	s.OriginalTarget = r.RequestURI
	s.RequestID = newRequestID()
	if c == nil {
		g.deny(w, s, nil, "gateway", Deny("gateway.not_ready"))
		return
	}
	if gd := g.guard.Load(); gd != nil {
		if reason, refused := gd.Refusal(r); refused {
			w.Header().Set("Connection", "close")
			g.deny(w, s, c, "framing", Deny(reason))
			return
		}
	}
	g.clientAddr(s, c)
	if d := stripConnectionFields(r.Header); d != nil {
		g.deny(w, s, c, "framing", d)
		return
	}
	path, err := urlpath.Normalize(targetPath(r), c.pathOpts)
	if err != nil {
		g.deny(w, s, c, "path", asDenial(err))
		return
	}
	s.Path = path
	if c.attest != nil && g.serveAttestation(w, s, c, path) {
		return
	}
	rt, reason := c.router.find(r.Host, path, r.Method)
	if rt == nil {
		g.deny(w, s, c, "route", Deny(reason))
		return
	}
	s.route, s.RouteName = rt, rt.name
	if up := r.Header.Get("Upgrade"); up != "" {
		w.Header().Set("Connection", "close")
		if !rt.websocket || !strings.EqualFold(up, "websocket") {
			g.deny(w, s, c, "request", Deny("request.upgrade_not_allowed"))
			return
		}
		w.Header().Del("Connection")
		s.upgrade = true
	}
	if r.ContentLength > rt.maxBody {
		w.Header().Set("Connection", "close")
		g.deny(w, s, c, "request", Deny("request.body_too_large"))
		return
	}
	for _, st := range rt.steps {
		s.layer = st.layer
		if err := st.policy.Decide(s); err != nil {
			if rep, ok := err.(*Reply); ok {
				g.reply(w, s, c, st.layer, rep)
				return
			}
			g.deny(w, s, c, st.layer, asDenial(err))
			return
		}
	}
	if r.Body != nil && r.Body != http.NoBody {
		declared := int64(-1)
		if r.ProtoMajor == 2 {
			declared = r.ContentLength
		}
		if declared == 0 {
			if err := checkEmptyH2Body(r); err != nil {
				g.deny(w, s, c, "framing", asDenial(err))
				return
			}
		}
		s.body.reset(r.Body, rt.maxBody, declared)
		r.Body = &s.body
	}
	if s.upgrade {
		// An upgraded connection lives as long as the WebSocket; the
		// server's read and write deadlines no longer apply.
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
	}
	s.layer = ""
	s.forwarding = true
	s.w = w
	rt.proxy.rp.ServeHTTP(w, r.WithContext(withScope(r.Context(), s)))
	g.finish(s, c, rt.metrics, "allow")
}

// recoverPanic turns a panic in the request's own handling (a policy bug)
// into a gateway.internal refusal: the request fails closed and the process
// lives on. Panics while forwarding (http.ErrAbortHandler when a client
// goes away mid-response) belong to net/http.
func (g *Gateway) recoverPanic(w http.ResponseWriter, s *Scope, c *compiled) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler || s.forwarding {
		panic(v)
	}
	g.log.Error("panic while handling a request; refused it", "request_id", s.RequestID, "layer", s.layer, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	g.deny(w, s, c, s.layer, &Denial{Reason: "gateway.internal", Cause: fmt.Errorf("panic: %v", v)})
}

// clientAddr sets the client address and scheme. Behind trusted proxies it
// walks X-Forwarded-For from the right and takes the first address that
// is not itself a trusted proxy; otherwise it is the TCP peer.
func (g *Gateway) clientAddr(s *Scope, c *compiled) {
	r := s.Request
	ci := connFrom(r.Context())
	s.Secure = r.TLS != nil || (ci != nil && ci.tls)
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return
	}
	peer := ap.Addr().Unmap()
	s.ClientIP = peer
	if len(c.trusted) == 0 || !containsAddr(c.trusted, peer) {
		return
	}
	s.peerTrusted = true
	if proto := r.Header.Get("X-Forwarded-Proto"); proto == "https" {
		s.Secure = true
	}
	xff := r.Header["X-Forwarded-For"]
	for i := len(xff) - 1; i >= 0; i-- {
		parts := strings.Split(xff[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return // a malformed entry ends the trusted chain
			}
			s.ClientIP = a.Unmap()
			if !containsAddr(c.trusted, s.ClientIP) {
				return
			}
		}
	}
}

// targetPath is the path of the request target exactly as the client sent
// it: normalisation starts from the client's bytes, not from net/http's
// re-escaped reading of them.
func targetPath(r *http.Request) string {
	t := r.RequestURI
	if i := strings.Index(t, "://"); t == "" || (i > 0 && t[0] != '/') {
		// A request built in process, or the absolute form (RFC 9112
		// §3.2.2): the parsed URL has the path.
		return r.URL.EscapedPath()
	}
	if i := strings.IndexByte(t, '?'); i >= 0 {
		t = t[:i]
	}
	return t
}

// stripConnectionFields removes the fields a client named in Connection
// (RFC 9110 §7.6.1) before any policy looks at the request, and refuses
// Connection tokens that name framing fields.
func stripConnectionFields(h http.Header) *Denial {
	conn := h["Connection"]
	if len(conn) == 0 {
		return nil
	}
	for _, line := range conn {
		for _, tok := range strings.Split(line, ",") {
			name := http.CanonicalHeaderKey(strings.TrimSpace(tok))
			switch name {
			case "", "Close", "Keep-Alive", "Upgrade":
				// Upgrade is handled by the upgrade check and ReverseProxy.
			case "Content-Length", "Transfer-Encoding", "Host":
				return Deny("framing.bad_connection")
			default:
				delete(h, name)
			}
		}
	}
	return nil
}

func (g *Gateway) deny(w http.ResponseWriter, s *Scope, c *compiled, layer string, d *Denial) {
	m := (*routeMetrics)(nil)
	if s.route != nil {
		m = s.route.metrics
	} else if c != nil {
		m = c.noRoute
	}
	g.denyWith(w, s, c, m, layer, d)
}

// denyWith answers a refusal and records it under the metrics m.
func (g *Gateway) denyWith(w http.ResponseWriter, s *Scope, c *compiled, m *routeMetrics, layer string, d *Denial) {
	s.layer, s.reason, s.cause = layer, d.Reason, d.Cause
	w.Header().Set("X-Request-Id", s.RequestID)
	writeProblem(w, d, s.RequestID, s.responseHeader)
	g.finish(s, c, m, "deny")
}

func (g *Gateway) reply(w http.ResponseWriter, s *Scope, c *compiled, layer string, rep *Reply) {
	g.replyWith(w, s, c, s.route.metrics, layer, rep)
}

// replyWith answers a layer's direct reply (a CORS preflight).
func (g *Gateway) replyWith(w http.ResponseWriter, s *Scope, c *compiled, m *routeMetrics, layer string, rep *Reply) {
	s.layer = layer
	h := w.Header()
	for k, vs := range s.responseHeader {
		h[k] = vs
	}
	for k, vs := range rep.Header {
		h[k] = vs
	}
	h.Set("X-Request-Id", s.RequestID)
	w.WriteHeader(rep.Status)
	g.finish(s, c, m, "reply")
}

// finish records the decision: one log line and the metrics.
func (g *Gateway) finish(s *Scope, c *compiled, m *routeMetrics, decision string) {
	elapsed := g.now().Sub(s.Start)
	if decision == "allow" && s.reason != "" {
		// The chain allowed the request but forwarding failed: the
		// upstream was unreachable, the body too large, or the client left.
		decision = "deny"
		if s.layer == "client" {
			decision = "aborted"
		}
	}
	if decision == "allow" {
		m.allow.Inc()
		m.allowDuration.Observe(elapsed.Seconds())
	} else {
		g.metrics.decision(s.RouteName, s.layer, decision, s.reason).Inc()
		if m != nil {
			m.denyDuration.Observe(elapsed.Seconds())
		}
	}
	if c != nil && !c.decisions {
		return
	}
	r := s.Request
	cause := ""
	if s.cause != nil {
		// Domain errors explain themselves without secrets; the client
		// only ever sees the reason code.
		cause = s.cause.Error()
	}
	if !g.decisions.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	if dh, ok := g.decisions.(*DecisionHandler); ok {
		_ = dh.writeDecision(&decisionLine{
			time: s.Start, decision: decision, route: s.RouteName, layer: s.layer,
			reason: s.reason, method: r.Method, path: s.Path, clientIP: s.clientIP(),
			requestID: s.RequestID, latencyMicros: elapsed.Microseconds(), cause: cause,
		})
		return
	}
	// A record handed straight to the handler: slog.Logger would also look
	// up the caller's program counter, which no decision line shows.
	rec := slog.NewRecord(s.Start, slog.LevelInfo, "decision", 0)
	rec.AddAttrs(
		slog.String("decision", decision),
		slog.String("route", s.RouteName),
		slog.String("layer", s.layer),
		slog.String("reason", s.reason),
		slog.String("method", r.Method),
		slog.String("path", s.Path),
		slog.String("client_ip", s.clientIP()),
		slog.String("request_id", s.RequestID),
		slog.Int64("latency_us", elapsed.Microseconds()),
	)
	if cause != "" {
		rec.AddAttrs(slog.String("cause", cause))
	}
	_ = g.decisions.Handle(r.Context(), rec)
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	var out [32]byte
	hex.Encode(out[:], b[:])
	return string(out[:])
}
