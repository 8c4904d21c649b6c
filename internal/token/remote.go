package token

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of RemoteOptions.
const (
	DefaultMinRefresh         = time.Minute
	DefaultMaxRefresh         = time.Hour
	DefaultRefresh            = 15 * time.Minute
	DefaultUnknownKIDInterval = time.Minute
	DefaultFetchTimeout       = 5 * time.Second
)

// RemoteOptions configure a RemoteKeySet.
type RemoteOptions struct {
	// URL is the JWKS URL (https; http only to a loopback host). Either
	// URL or Issuer is set.
	URL string
	// Issuer, when URL is empty, is an OpenID Provider: the JWKS URL is
	// the jwks_uri of Issuer + /.well-known/openid-configuration, whose
	// issuer member must equal Issuer exactly (OpenID Connect Discovery
	// 1.0 §4.3).
	Issuer string
	// Client fetches. If nil, a client with Timeout that follows at most
	// three redirects, each to https (or loopback http).
	Client *http.Client
	// MinRefresh and MaxRefresh bound how long a fetched set is used
	// before it is fetched again; within them the server's Cache-Control
	// max-age decides (RFC 9111 §5.2.2.1), and without one DefaultRefresh.
	// If zero, 1m and 1h.
	MinRefresh, MaxRefresh time.Duration
	// UnknownKIDInterval is the least time between fetches caused by
	// tokens naming a kid the set does not have: a flood of random kids
	// costs at most one fetch per interval. If zero, 1m.
	UnknownKIDInterval time.Duration
	// Timeout bounds one fetch. If zero, 5s.
	Timeout time.Duration
	// Now is the clock. If nil, time.Now.
	Now func() time.Time
	// Logger receives fetch failures. If nil, they are discarded.
	Logger *slog.Logger
}

// RemoteKeySet is a key set fetched over HTTP: cached, refreshed in the
// background once started, and refetched on an unknown kid at most once
// per UnknownKIDInterval. Each fetched set replaces the previous one
// whole, so a key removed at the source stops verifying at the next
// fetch. A failed fetch keeps the last good set.
type RemoteKeySet struct {
	o    RemoteOptions
	set  atomic.Pointer[KeySet]
	errs atomic.Int64

	mu          sync.Mutex
	inflight    *fetchCall
	lastAttempt time.Time
	jwksURL     string
	discovered  time.Time
	started     bool
	stop        chan struct{}
	done        chan struct{}

	fetches atomic.Int64
}

// NewRemoteKeySet checks o and returns a set that fetches nothing until
// Start or its first unknown kid.
func NewRemoteKeySet(o RemoteOptions) (*RemoteKeySet, error) {
	switch {
	case (o.URL == "") == (o.Issuer == ""):
		return nil, errors.New("token: set exactly one of URL and Issuer")
	case o.URL != "":
		if err := CheckURL(o.URL); err != nil {
			return nil, err
		}
	default:
		if err := CheckURL(o.Issuer); err != nil {
			return nil, err
		}
	}
	if o.MinRefresh <= 0 {
		o.MinRefresh = DefaultMinRefresh
	}
	if o.MaxRefresh <= 0 {
		o.MaxRefresh = DefaultMaxRefresh
	}
	if o.MaxRefresh < o.MinRefresh {
		return nil, errors.New("token: MaxRefresh is shorter than MinRefresh")
	}
	if o.UnknownKIDInterval <= 0 {
		o.UnknownKIDInterval = DefaultUnknownKIDInterval
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultFetchTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Client == nil {
		o.Client = &http.Client{
			Timeout: o.Timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 3 {
					return errors.New("too many redirects")
				}
				return CheckURL(req.URL.String())
			},
		}
	}
	r := &RemoteKeySet{o: o, stop: make(chan struct{}), done: make(chan struct{})}
	r.set.Store(&KeySet{})
	r.jwksURL = o.URL
	return r, nil
}

// CheckURL accepts https URLs, and http URLs whose host is a loopback
// address or localhost (tests, sidecars).
func CheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("token: want an absolute https URL, got %q", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return fmt.Errorf("token: key URLs must be https (http only to loopback), got %q", s)
}

// Start begins background refreshing: a fetch now, then one whenever the
// set's lifetime ends. Close stops it.
func (r *RemoteKeySet) Start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return
	}
	r.started = true
	go r.loop()
}

// Close stops background refreshing and waits for it to end. The set
// keeps answering with the keys it last had. Close is idempotent.
func (r *RemoteKeySet) Close() {
	r.mu.Lock()
	started := r.started
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	r.mu.Unlock()
	if started {
		<-r.done
	}
	// A fetch an unknown kid started may still run; it is bounded by
	// Timeout, and nothing starts one after this.
	r.mu.Lock()
	f := r.inflight
	r.mu.Unlock()
	if f != nil {
		<-f.done
	}
}

// Fetches returns how many fetches of the key set were started.
func (r *RemoteKeySet) Fetches() int64 { return r.fetches.Load() }

// Ready reports whether a key set was fetched.
func (r *RemoteKeySet) Ready() bool { return r.set.Load().gen > 0 }

func (r *RemoteKeySet) current() *KeySet { return r.set.Load() }

func (r *RemoteKeySet) loop() {
	defer close(r.done)
	for {
		f := r.begin(false)
		<-f.done
		wait := f.ttl
		if f.err != nil {
			wait = min(r.o.MinRefresh, 30*time.Second)
		}
		t := time.NewTimer(wait)
		select {
		case <-r.stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// refetch fetches after an unknown kid, unless a fetch began less than
// UnknownKIDInterval ago; concurrent callers share one fetch.
func (r *RemoteKeySet) refetch(ctx context.Context) *KeySet {
	if f := r.begin(true); f != nil {
		select {
		case <-f.done:
		case <-ctx.Done():
		}
	}
	return r.current()
}

// fetchCall is one fetch that several callers may wait for.
type fetchCall struct {
	done chan struct{}
	ttl  time.Duration
	err  error
}

// begin starts a fetch, or returns the one in flight. For an unknown kid
// it returns nil when the last fetch began less than UnknownKIDInterval
// ago. The fetch is not bound to any request's context: others may be
// waiting for it.
func (r *RemoteKeySet) begin(unknownKID bool) *fetchCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight != nil {
		return r.inflight
	}
	select {
	case <-r.stop:
		if unknownKID {
			return nil // closed: no new fetches
		}
	default:
	}
	if unknownKID && !r.lastAttempt.IsZero() && r.o.Now().Sub(r.lastAttempt) < r.o.UnknownKIDInterval {
		return nil
	}
	f := &fetchCall{done: make(chan struct{})}
	r.inflight = f
	r.lastAttempt = r.o.Now()
	go func() {
		f.ttl, f.err = r.fetch()
		if f.err != nil {
			r.errs.Add(1)
			r.o.Logger.Warn("key set fetch failed; the last good set stays in force", "source", r.source(), "error", f.err.Error())
		}
		r.mu.Lock()
		r.inflight = nil
		r.mu.Unlock()
		close(f.done)
	}()
	return f
}

func (r *RemoteKeySet) source() string {
	if r.o.URL != "" {
		return r.o.URL
	}
	return r.o.Issuer + " (discovery)"
}

func (r *RemoteKeySet) fetch() (time.Duration, error) {
	r.fetches.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), r.o.Timeout)
	defer cancel()
	jwksURL := r.o.URL
	if jwksURL == "" {
		u, err := r.discover(ctx)
		if err != nil {
			return 0, err
		}
		jwksURL = u
	}
	body, hdr, err := r.get(ctx, jwksURL)
	if err != nil {
		return 0, err
	}
	set, err := ParseJWKS(body)
	if err != nil {
		return 0, err
	}
	kept := &KeySet{}
	for _, k := range set.keys {
		if k.HasPrivate() {
			// A published private or secret key is compromised; using the
			// set would accept tokens anyone can mint.
			return 0, errors.New("token: the JWKS publishes private or symmetric key material; refused")
		}
		if k.use == "enc" {
			continue
		}
		kept.keys = append(kept.keys, k)
	}
	old := r.set.Load()
	kept.gen = old.gen
	if old.gen == 0 || !sameKeys(old, kept) {
		kept.gen = old.gen + 1
	}
	r.set.Store(kept)
	return r.ttl(hdr), nil
}

// sameKeys reports whether two sets hold the same keys in any order.
func sameKeys(a, b *KeySet) bool {
	if len(a.keys) != len(b.keys) {
		return false
	}
	ta := make([]string, len(a.keys))
	tb := make([]string, len(b.keys))
	for i := range a.keys {
		ta[i], tb[i] = a.keys[i].thumb, b.keys[i].thumb
	}
	slices.Sort(ta)
	slices.Sort(tb)
	return slices.Equal(ta, tb)
}

// ttl reads Cache-Control max-age (RFC 9111 §5.2.2.1), within bounds.
func (r *RemoteKeySet) ttl(h http.Header) time.Duration {
	d := DefaultRefresh
	noStore := false
	for _, line := range h.Values("Cache-Control") {
		for _, dir := range strings.Split(line, ",") {
			dir = strings.ToLower(strings.TrimSpace(dir))
			switch {
			case dir == "no-store" || dir == "no-cache":
				noStore = true
			case strings.HasPrefix(dir, "max-age="):
				if n, err := strconv.ParseInt(strings.Trim(dir[len("max-age="):], `"`), 10, 64); err == nil && n >= 0 && n < 1<<31 {
					d = time.Duration(n) * time.Second
				}
			}
		}
	}
	if noStore {
		d = 0
	}
	return min(max(d, r.o.MinRefresh), r.o.MaxRefresh)
}

func (r *RemoteKeySet) get(ctx context.Context, u string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := r.o.Client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeyBytes+1))
	if err != nil {
		return nil, nil, err
	}
	if len(body) > maxKeyBytes {
		return nil, nil, fmt.Errorf("GET %s: body larger than 1 MiB", u)
	}
	return body, resp.Header, nil
}

// discover returns the jwks_uri of the issuer, fetching the discovery
// document again once it is older than MaxRefresh.
func (r *RemoteKeySet) discover(ctx context.Context) (string, error) {
	r.mu.Lock()
	u, at := r.jwksURL, r.discovered
	r.mu.Unlock()
	if u != "" && r.o.Now().Sub(at) < r.o.MaxRefresh {
		return u, nil
	}
	doc := strings.TrimSuffix(r.o.Issuer, "/") + "/.well-known/openid-configuration"
	body, _, err := r.get(ctx, doc)
	if err != nil {
		return "", err
	}
	m, err := parseObject(body)
	if err != nil {
		return "", errors.New("token: the discovery document is not a JSON object with distinct member names")
	}
	iss, _ := m["issuer"].(string)
	if iss != r.o.Issuer {
		// OpenID Connect Discovery 1.0 §4.3: a document for another
		// issuer must not be used.
		return "", fmt.Errorf("token: the discovery document names issuer %q, not %q", truncate(iss, 200), r.o.Issuer)
	}
	jwks, _ := m["jwks_uri"].(string)
	if err := CheckURL(jwks); err != nil {
		return "", fmt.Errorf("token: discovery jwks_uri: %w", err)
	}
	r.mu.Lock()
	r.jwksURL, r.discovered = jwks, r.o.Now()
	r.mu.Unlock()
	return jwks, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
