package token_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// keyServer serves a JWKS that tests can change, and counts fetches.
type keyServer struct {
	*httptest.Server
	hits   atomic.Int64
	mu     sync.Mutex
	keys   []*token.Key
	header http.Header
	raw    []byte // served instead of keys when set
	status int
}

func newKeyServer(t testing.TB, keys ...*token.Key) *keyServer {
	ks := &keyServer{keys: keys, header: http.Header{}}
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.hits.Add(1)
		ks.mu.Lock()
		defer ks.mu.Unlock()
		for k, vs := range ks.header {
			w.Header()[k] = vs
		}
		if ks.status != 0 {
			w.WriteHeader(ks.status)
			return
		}
		if ks.raw != nil {
			_, _ = w.Write(ks.raw)
			return
		}
		b, err := token.PublicJWKS(ks.keys...)
		if err != nil {
			t.Error(err)
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(ks.Close)
	return ks
}

func (ks *keyServer) set(keys ...*token.Key) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.keys = keys
}

const remoteIss = "https://remote.test"

func genKey(t testing.TB, alg string) *token.Key {
	t.Helper()
	k, err := token.GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mint(t testing.TB, k *token.Key, mut ...func(map[string]any)) string {
	t.Helper()
	s, err := token.NewSigner(k, k.Alg())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	c := map[string]any{"iss": remoteIss, "sub": "u1", "aud": "api", "iat": now, "exp": now + 600}
	for _, m := range mut {
		m(c)
	}
	tok, err := s.Sign(c, "at+jwt")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func remoteVerifier(t testing.TB, src *token.RemoteKeySet, cache *token.Cache, clk *clock) *token.Verifier {
	t.Helper()
	v, err := token.NewVerifier(token.Config{
		Issuers: []token.IssuerConfig{{Issuer: remoteIss, Keys: []token.KeySource{src}, Algorithms: []string{"ES256", "EdDSA"}, Audiences: []string{"api"}}},
		Cache:   cache,
		Now:     clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestKeyRotation: the old kid keeps working until it leaves the set; a
// new kid is picked up by an unknown-kid refetch; a key removed from the
// set stops verifying at the next fetch, cached tokens included; and an
// unknown-kid refetch that no longer holds a key evicts it.
func TestKeyRotation(t *testing.T) {
	clk := newClock()
	oldKey, newKey, newerKey := genKey(t, "ES256"), genKey(t, "ES256"), genKey(t, "EdDSA")
	ks := newKeyServer(t, oldKey)
	src, err := token.NewRemoteKeySet(token.RemoteOptions{URL: ks.URL, Now: clk.Now, UnknownKIDInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	cache := token.NewCache(100, time.Hour)
	v := remoteVerifier(t, src, cache, clk)
	ctx := context.Background()
	oldTok, newTok, newerTok := mint(t, oldKey), mint(t, newKey), mint(t, newerKey)

	if _, err := v.Verify(ctx, oldTok); err != nil {
		t.Fatalf("old key before rotation: %v", err)
	}
	// The issuer adds a key: a token with the new kid triggers one refetch.
	ks.set(oldKey, newKey)
	clk.Advance(2 * time.Minute)
	if _, err := v.Verify(ctx, newTok); err != nil {
		t.Fatalf("new key after it was published: %v", err)
	}
	for range 2 {
		// The set changed (generation 2), so the cached verdict of
		// generation 1 is not served: verified again, then cached.
		if _, err := v.Verify(ctx, oldTok); err != nil {
			t.Fatalf("old key while still published: %v", err)
		}
	}
	if hits, _ := cache.Stats(); hits == 0 {
		t.Error("the old token was not served from the cache")
	}
	// The issuer removes the old key: at the next refresh it stops, even
	// though the old token is cached.
	ks.set(newKey)
	clk.Advance(2 * time.Minute)
	if _, err := v.Verify(ctx, mint(t, oldKey, func(c map[string]any) { c["jti"] = "force-refetch" })); err != nil {
		// Still in force: the set in memory has it until a fetch.
		t.Fatalf("before the refresh: %v", err)
	}
	src.Start()
	defer src.Close()
	waitFor(t, func() bool { return src.Fetches() >= 3 })
	_, err = v.Verify(ctx, oldTok)
	wantReason(t, err, token.ReasonUnknownKID)
	if _, err := v.Verify(ctx, newTok); err != nil {
		t.Fatalf("new key after the old one left: %v", err)
	}
	// An unknown-kid refetch that no longer holds newKey evicts it.
	ks.set(newerKey)
	clk.Advance(2 * time.Minute)
	if _, err := v.Verify(ctx, newerTok); err != nil {
		t.Fatalf("newer key: %v", err)
	}
	_, err = v.Verify(ctx, newTok)
	wantReason(t, err, token.ReasonUnknownKID)
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestUnknownKIDFlood: 1000 tokens with random kids in parallel cost one
// fetch per interval, not a thousand.
func TestUnknownKIDFlood(t *testing.T) {
	clk := newClock()
	k := genKey(t, "ES256")
	ks := newKeyServer(t, k)
	src, err := token.NewRemoteKeySet(token.RemoteOptions{URL: ks.URL, Now: clk.Now, UnknownKIDInterval: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	v := remoteVerifier(t, src, nil, clk)
	attacker := genKey(t, "ES256")
	s, _ := token.NewSigner(attacker, "ES256")
	flood := func() {
		var wg sync.WaitGroup
		for i := 0; i < 1000; i++ {
			wg.Go(func() {
				h := map[string]any{"iss": remoteIss, "sub": "x", "aud": "api", "exp": time.Now().Unix() + 60}
				tok, _ := s.Sign(h, "")
				// A random kid: re-sign with a signer whose kid differs.
				rk, _ := token.NewKey(attacker.Private(), fmt.Sprintf("random-%d-%d", i, time.Now().UnixNano()), "ES256")
				rs, _ := token.NewSigner(rk, "ES256")
				tok, _ = rs.Sign(h, "")
				_, err := v.Verify(context.Background(), tok)
				if token.ReasonOf(err) != token.ReasonUnknownKID {
					t.Errorf("reason %q", token.ReasonOf(err))
				}
			})
		}
		wg.Wait()
	}
	flood()
	if n := ks.hits.Load(); n < 1 || n > 2 {
		t.Fatalf("first interval: %d fetches for 1000 unknown kids, want 1-2", n)
	}
	flood()
	if n := ks.hits.Load(); n > 2 {
		t.Fatalf("same interval again: %d fetches", n)
	}
	clk.Advance(31 * time.Second)
	flood()
	if n := ks.hits.Load(); n < 2 || n > 3 {
		t.Fatalf("after the interval: %d fetches, want one more", n)
	}
	produced.Store(token.ReasonUnknownKID, true)
	t.Logf("3000 random kids over two intervals: %d fetches", ks.hits.Load())
}

// TestCacheControl: max-age decides the refresh, within bounds.
func TestCacheControl(t *testing.T) {
	src, err := token.NewRemoteKeySet(token.RemoteOptions{URL: "https://keys.test/jwks", MinRefresh: time.Minute, MaxRefresh: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cc   string
		want time.Duration
	}{
		{"", 15 * time.Minute},
		{"public, max-age=600", 10 * time.Minute},
		{"max-age=5", time.Minute},
		{"max-age=86400", time.Hour},
		{"no-store", time.Minute},
		{"no-cache, max-age=600", time.Minute},
		{"max-age=banana", 15 * time.Minute},
	} {
		h := map[string][]string{}
		if tc.cc != "" {
			h["Cache-Control"] = []string{tc.cc}
		}
		if got := src.TTLFor(h); got != tc.want {
			t.Errorf("Cache-Control %q: refresh after %v, want %v", tc.cc, got, tc.want)
		}
	}
}

// TestBackgroundRefresh honours max-age: with max-age=0 and a 30ms floor
// the set is fetched again and again, and Close stops it.
func TestBackgroundRefresh(t *testing.T) {
	k := genKey(t, "ES256")
	ks := newKeyServer(t, k)
	ks.header.Set("Cache-Control", "max-age=0")
	src, err := token.NewRemoteKeySet(token.RemoteOptions{URL: ks.URL, MinRefresh: 30 * time.Millisecond, MaxRefresh: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	src.Start()
	waitFor(t, func() bool { return ks.hits.Load() >= 3 })
	src.Close()
	n := ks.hits.Load()
	time.Sleep(100 * time.Millisecond)
	if m := ks.hits.Load(); m != n {
		t.Fatalf("fetches went on after Close: %d -> %d", n, m)
	}
}

// TestOIDCDiscovery: keys come from the discovery document's jwks_uri,
// and a document naming another issuer is refused.
func TestOIDCDiscovery(t *testing.T) {
	k := genKey(t, "EdDSA")
	var issuer string
	docIssuer := &atomic.Value{}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	issuer = srv.URL
	docIssuer.Store(issuer)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, docIssuer.Load(), srv.URL+"/keys")
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		b, _ := token.PublicJWKS(k)
		_, _ = w.Write(b)
	})
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"matching issuer", issuer, ""},
		{"another issuer", "https://evil.test", token.ReasonKeysUnavailable},
		{"trailing slash", issuer + "/", token.ReasonKeysUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docIssuer.Store(tc.doc)
			src, err := token.NewRemoteKeySet(token.RemoteOptions{Issuer: issuer})
			if err != nil {
				t.Fatal(err)
			}
			v, err := token.NewVerifier(token.Config{Issuers: []token.IssuerConfig{{Issuer: issuer, Keys: []token.KeySource{src}, Algorithms: []string{"EdDSA"}}}})
			if err != nil {
				t.Fatal(err)
			}
			s, _ := token.NewSigner(k, "EdDSA")
			tok, _ := s.Sign(map[string]any{"iss": issuer, "sub": "u", "exp": time.Now().Unix() + 60}, "")
			_, err = v.Verify(context.Background(), tok)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantReason(t, err, tc.want)
		})
	}
}

// TestRemoteRefusesSecrets: a JWKS URL that publishes private or
// symmetric keys is not used at all.
func TestRemoteRefusesSecrets(t *testing.T) {
	k := genKey(t, "ES256")
	for name, raw := range map[string]string{
		"oct key":     `{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2U"}]}`,
		"server down": "",
	} {
		t.Run(name, func(t *testing.T) {
			ks := newKeyServer(t, k)
			if raw == "" {
				ks.status = http.StatusInternalServerError
			} else {
				ks.raw = []byte(raw)
			}
			src, _ := token.NewRemoteKeySet(token.RemoteOptions{URL: ks.URL})
			v := remoteVerifier(t, src, nil, newClock())
			_, err := v.Verify(context.Background(), mint(t, k))
			wantReason(t, err, token.ReasonKeysUnavailable)
		})
	}
}
