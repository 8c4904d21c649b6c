package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/ratelimit"
)

// rateLimitPolicy checks a route's limits (internal/ratelimit, GCRA) in
// one atomic store call, and tells clients where they stand with the
// RateLimit-Policy and RateLimit fields of
// draft-ietf-httpapi-ratelimit-headers-11 (docs/ratelimit.md).
//
// Each limit counts requests per bucket: the route, the limit's name and
// a SHA-256 of the key's value (client network, issuer and subject,
// header value...), so that no raw header value or token reaches the
// store. A request without the value (no user, no such header) is counted
// by its client network instead: rate limiting must not be escaped by
// leaving a header out, and refusing such requests is the job of the
// layers that require identity.
type rateLimitPolicy struct {
	limits []rateLimit
	// uniform is set when every limit has the same key: the buckets of a
	// request then have the key's hash as their group, and Redis Cluster
	// spreads clients over its masters. Otherwise the group is the route,
	// whose buckets all live in one slot (see docs/ratelimit.md).
	uniform  bool
	ipv6Bits int
	policy   []string // the RateLimit-Policy field value, shared: never modified

	store    ratelimit.Store // the shared store, or the local one
	local    ratelimit.Store // the local store, when store is shared; else nil
	open     bool            // on a store error, fall back to local (else refuse)
	timeout  time.Duration
	health   *storeHealth
	errors   prometheus.Counter
	fallback prometheus.Counter
}

type keyKind uint8

const (
	keyIP keyKind = iota
	keySub
	keyInstall
	keyAPIKey
	keyHeader
	keyClaim
)

var keyKinds = map[string]keyKind{"ip": keyIP, "sub": keySub, "install": keyInstall, "apikey": keyAPIKey, "header": keyHeader, "claim": keyClaim}

type rateLimit struct {
	limit ratelimit.Limit
	kind  keyKind
	arg   string // canonical header name or claim name
	item  string // the limit's name as a structured-field string
}

// sharedLimiter is implemented by hot stores that also keep rate limits
// (store/redis), so that every replica shares them.
type sharedLimiter interface{ RateLimits() ratelimit.Store }

// storeRetryInterval is how long after a shared-store failure the layer
// goes straight to its fallback (or refuses) before trying the store
// again, so that a dead or blackholed Redis costs each request nothing,
// not a timeout.
const storeRetryInterval = time.Second

func buildRateLimit(spec *config.PolicySpec, b *buildEnv) (Policy, []config.Problem) {
	c := spec.RateLimit
	g := b.st.g
	p := &rateLimitPolicy{uniform: true, ipv6Bits: c.IPv6Prefix, open: c.OnStoreError == "open", timeout: c.Timeout.D()}
	var problems []config.Problem
	items := make([]string, 0, len(c.Limits))
	for i, lc := range c.Limits {
		l := rateLimit{
			limit: ratelimit.Limit{Name: lc.Name, Count: lc.Rate, Period: lc.Per.D(), Burst: lc.Burst},
			item:  strconv.Quote(lc.Name), // names are [A-Za-z0-9._-]: a valid sf-string
		}
		kind, arg, _ := strings.Cut(lc.Key, ":") // checked by config.Validate
		l.kind, l.arg = keyKinds[kind], arg
		if l.kind == keyHeader {
			l.arg = http.CanonicalHeaderKey(arg)
		}
		if err := l.limit.Validate(); err != nil {
			problems = append(problems, b.problem(fmt.Sprintf("limits[%d]", i), strings.TrimPrefix(err.Error(), ratelimit.ErrInvalid.Error()+": ")))
		}
		if i > 0 && (l.kind != p.limits[0].kind || l.arg != p.limits[0].arg) {
			p.uniform = false
		}
		p.limits = append(p.limits, l)
		items = append(items, fmt.Sprintf("%s;q=%d;w=%d", l.item, lc.Rate, int64(lc.Per.D()/time.Second)))
	}
	if len(problems) > 0 {
		return nil, problems
	}
	p.policy = []string{strings.Join(items, ", ")}[:1:1]
	p.store = g.limiter.get(g.now)
	if sl, ok := b.hot.(sharedLimiter); ok {
		p.store, p.local = sl.RateLimits(), p.store
	}
	where := strings.TrimSuffix(b.path, ".ratelimit") // routes[0].policies[2]
	p.health = &storeHealth{log: g.log, where: where, now: b.now}
	p.errors = g.metrics.rateLimit.storeErrors.WithLabelValues(where)
	p.fallback = g.metrics.rateLimit.fallbacks.WithLabelValues(where)
	return p, nil
}

// rateLimitScratch is the per-request working space of Decide.
type rateLimitScratch struct {
	checks [ratelimit.MaxChecks]ratelimit.Check
	out    [ratelimit.MaxChecks]ratelimit.Result
	buf    []byte // a partition value
	keys   []byte // the bucket keys
}

var rateLimitScratches = sync.Pool{New: func() any {
	return &rateLimitScratch{buf: make([]byte, 0, 128), keys: make([]byte, 0, 256)}
}}

// hashLen is the length of a bucket key's hash: 128 bits of SHA-256,
// unpadded base64url.
const hashLen = 22

// Decide counts the request against every limit and refuses it when one
// has no room.
func (p *rateLimitPolicy) Decide(s *Scope) error {
	sc := rateLimitScratches.Get().(*rateLimitScratch)
	defer rateLimitScratches.Put(sc)
	checks, out := sc.checks[:len(p.limits)], sc.out[:len(p.limits)]
	// Every bucket key, route/limit/hash, is built in one buffer and
	// converted to one string, which the keys and the group slice.
	var ends [ratelimit.MaxChecks]int
	var sum [sha256.Size]byte
	keys := sc.keys[:0]
	for i := range p.limits {
		l := &p.limits[i]
		if i == 0 || !p.uniform {
			sc.buf = p.partition(s, l, sc.buf[:0])
			sum = sha256.Sum256(sc.buf)
		}
		keys = append(append(append(append(keys, s.RouteName...), '/'), l.limit.Name...), '/')
		keys = base64.RawURLEncoding.AppendEncode(keys, sum[:16])
		ends[i] = len(keys)
	}
	sc.keys = keys
	all, start := string(keys), 0
	for i := range p.limits {
		checks[i] = ratelimit.Check{Limit: p.limits[i].limit, Key: all[start:ends[i]]}
		start = ends[i]
	}
	group := all[ends[0]-hashLen : ends[0]] // the hash of the first key
	if !p.uniform {
		group = "route:" + s.RouteName
	}
	allowed, err := p.take(s, group, checks, out)
	if err != nil {
		return &Denial{Reason: "ratelimit.unavailable", Cause: err}
	}
	addResponseValues(s, "Ratelimit-Policy", p.policy)
	if !allowed {
		return p.refusal(checks, out)
	}
	s.AddResponseHeader("Ratelimit", p.fields(out, false))
	return nil
}

// take asks the store, and the local store when the shared one fails and
// the layer is open.
func (p *rateLimitPolicy) take(s *Scope, group string, checks []ratelimit.Check, out []ratelimit.Result) (bool, error) {
	if p.local == nil {
		return p.store.Take(s.Request.Context(), group, checks, out)
	}
	err := errStoreResting
	if p.health.usable() {
		ctx, cancel := context.WithTimeout(s.Request.Context(), p.timeout)
		var allowed bool
		allowed, err = p.store.Take(ctx, group, checks, out)
		cancel()
		if err == nil {
			p.health.ok()
			return allowed, nil
		}
		if s.Request.Context().Err() != nil {
			return false, err // the client went away: not the store's fault
		}
		p.errors.Inc()
		p.health.failed(err)
	}
	if !p.open {
		return false, err
	}
	p.fallback.Inc()
	return p.local.Take(s.Request.Context(), group, checks, out)
}

var errStoreResting = errors.New("ratelimit: the shared store failed recently; not tried again yet")

// partition appends the value a limit counts the request by.
func (p *rateLimitPolicy) partition(s *Scope, l *rateLimit, b []byte) []byte {
	switch l.kind {
	case keySub:
		if u := s.User; u != nil && u.Claims.Subject != "" {
			return append(append(append(append(b, "sub\x00"...), u.Issuer...), 0), u.Claims.Subject...)
		}
	case keyClaim:
		if u := s.User; u != nil {
			if v, ok := u.Claims.String(l.arg); ok && v != "" {
				b = append(append(append(append(b, "claim\x00"...), u.Issuer...), 0), l.arg...)
				return append(append(b, 0), v...)
			}
		}
	case keyInstall:
		if in := s.Install; in != nil && in.ID != "" {
			return append(append(append(append(b, "install\x00"...), in.App...), 0), in.ID...)
		}
	case keyAPIKey:
		if s.APIKeyID != "" {
			return append(append(b, "apikey\x00"...), s.APIKeyID...)
		}
	case keyHeader:
		if vs := s.Request.Header[l.arg]; len(vs) > 0 && (len(vs) > 1 || vs[0] != "") {
			b = append(append(append(b, "header\x00"...), l.arg...), 0)
			for i, v := range vs {
				if i > 0 {
					b = append(b, '\n')
				}
				b = append(b, v...)
			}
			return b
		}
	}
	return p.clientNetwork(s.ClientIP, append(b, "ip\x00"...))
}

// clientNetwork appends the client's address, an IPv6 one masked to the
// configured prefix.
func (p *rateLimitPolicy) clientNetwork(ip netip.Addr, b []byte) []byte {
	if !ip.IsValid() {
		return append(b, "unknown"...) // a request made in process
	}
	bits := 32
	if ip.Is6() {
		bits = p.ipv6Bits
	}
	pfx, _ := ip.Prefix(bits) // bits is within the address's length
	b, _ = pfx.AppendText(b)
	return b
}

// refusal is the 429: Retry-After (RFC 9110 §10.2.3) is the longest wait
// of the limits that refused, and the RateLimit field lists only those,
// so that no item's window ends after Retry-After (draft §6).
func (p *rateLimitPolicy) refusal(checks []ratelimit.Check, out []ratelimit.Result) *Denial {
	var wait time.Duration
	var names []string
	for i, r := range out {
		if !r.Allowed {
			wait = max(wait, r.RetryAfter)
			names = append(names, checks[i].Limit.Name)
		}
	}
	return &Denial{
		Reason: "ratelimit.exceeded",
		Header: http.Header{
			"Retry-After": {strconv.FormatInt(ceilSeconds(wait), 10)},
			"Ratelimit":   {p.fields(out, true)},
		},
		Cause: fmt.Errorf("ratelimit: %s exceeded", strings.Join(names, ", ")),
	}
}

// fields renders the RateLimit field: for each limit its remaining
// requests (r) and, in seconds rounded up, the time within which using no
// more than r is safe (t): until the whole burst is back while r > 0,
// until the next request is allowed when r = 0. With refusedOnly, only the
// limits that refused are listed.
func (p *rateLimitPolicy) fields(out []ratelimit.Result, refusedOnly bool) string {
	var b strings.Builder
	b.Grow(32 * len(out))
	for i, r := range out {
		if refusedOnly && r.Allowed {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		t := r.Reset
		if r.Remaining == 0 {
			t = r.RetryAfter
		}
		b.WriteString(p.limits[i].item)
		b.WriteString(";r=")
		b.WriteString(strconv.Itoa(r.Remaining))
		b.WriteString(";t=")
		b.WriteString(strconv.FormatInt(ceilSeconds(t), 10))
	}
	return b.String()
}

func ceilSeconds(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }

// addResponseValues adds prepared values to a response field, keeping
// values an earlier layer set (a route may have several ratelimit
// layers). values is never modified.
func addResponseValues(s *Scope, name string, values []string) {
	if prev := s.responseHeader[name]; len(prev) > 0 {
		s.responseHeader[name] = append(prev[:len(prev):len(prev)], values...)
		return
	}
	s.setResponseHeaderValues(name, values)
}

// storeHealth remembers a shared store's failure for storeRetryInterval,
// and logs when the store fails and when it recovers: once per change, not
// once per request.
type storeHealth struct {
	log     *slog.Logger
	where   string
	now     func() time.Time
	retryAt atomic.Int64 // unix nanoseconds
	down    atomic.Bool
}

func (h *storeHealth) usable() bool { return h.now().UnixNano() >= h.retryAt.Load() }

func (h *storeHealth) failed(err error) {
	h.retryAt.Store(h.now().Add(storeRetryInterval).UnixNano())
	if h.down.CompareAndSwap(false, true) {
		h.log.Warn("ratelimit: shared store unavailable", "policy", h.where, "err", err.Error())
	}
}

func (h *storeHealth) ok() {
	if h.down.CompareAndSwap(true, false) {
		h.log.Info("ratelimit: shared store available again", "policy", h.where)
	}
}

// localLimiter is the process's memory limiter: the store of ratelimit
// layers when state.hot is memory, and their fallback when it is Redis.
// It belongs to the Gateway and outlives config reloads, so that a reload
// does not give every client a fresh burst.
type localLimiter struct {
	once sync.Once
	m    *ratelimit.Memory
}

func (l *localLimiter) get(now func() time.Time) *ratelimit.Memory {
	l.once.Do(func() { l.m = ratelimit.NewMemory(ratelimit.MemoryOptions{Now: now}) })
	return l.m
}

// rateLimitMetrics count what the ratelimit layers' stores do.
type rateLimitMetrics struct {
	storeErrors *prometheus.CounterVec
	fallbacks   *prometheus.CounterVec
}

func newRateLimitMetrics(reg prometheus.Registerer) *rateLimitMetrics {
	m := &rateLimitMetrics{
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drawbridge_ratelimit_store_errors_total",
			Help: "Calls of ratelimit layers to the shared store (Redis) that failed or timed out, by policy.",
		}, []string{"policy"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drawbridge_ratelimit_fallbacks_total",
			Help: "Requests a ratelimit layer with on_store_error: open checked against this node's memory because the shared store was unavailable, by policy.",
		}, []string{"policy"}),
	}
	reg.MustRegister(m.storeErrors, m.fallbacks)
	return m
}

var _ Policy = (*rateLimitPolicy)(nil)
