package gateway_test

import (
	"context"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/apikey"
	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
)

const testPepper = "pepper-pepper-pepper-pepper-pepper-32"

const apiKeyYAML = `
listen: ${LISTEN}
upstreams:
  app:
    url: ${UPSTREAM}
api_keys:
  pepper: ${PEPPER}
routes:
  - name: keys
    match: {path_prefix: /k/}
    upstream: app
    policies:
      - apikey: {forward_id: X-Api-Key-Id}
  - name: scoped
    match: {path_prefix: /scoped/}
    upstream: app
    policies:
      - apikey: {scopes: [orders:write]}
  - name: query
    match: {path_prefix: /q/}
    upstream: app
    policies:
      - apikey: {query: api_key}
`

// keyStore is the gateway's durable store, whose API key reads can fail.
type keyStore struct {
	*memory.Durable
	fail atomic.Bool
}

func (k *keyStore) APIKey(ctx context.Context, id string) ([]store.APIKey, error) {
	if k.fail.Load() {
		return nil, store.ErrUnavailable
	}
	return k.Durable.APIKey(ctx, id)
}

// newKey creates a key in st as `drawbridge apikey create` does.
func newKey(t *testing.T, st store.APIKeys, id string, scopes []string, expires time.Time) string {
	t.Helper()
	h, _ := apikey.NewHasher([]byte(testPepper))
	c, err := apikey.New(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateAPIKey(context.Background(), store.APIKey{ID: id, Hash: h.Hash(c.Secret), Scopes: scopes, CreatedAt: time.Now(), ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
	return c.String()
}

// TestAPIKey: keys in a header or the query, their id forwarded and
// Scope.APIKeyID set, the key itself never forwarded; every refusal with
// its reason; a revocation applies within a second; rotation overlaps.
func TestAPIKey(t *testing.T) {
	st := &keyStore{Durable: memory.NewDurable()}
	good := newKey(t, st, "acme", []string{"orders:read"}, time.Time{})
	writer := newKey(t, st, "writer", []string{"orders:read", "orders:write"}, time.Time{})
	expired := newKey(t, st, "old", nil, time.Now().Add(-time.Minute))
	e := startEnv(t, apiKeyYAML, func(e *env) {
		e.vars["PEPPER"] = testPepper
		e.gwOpts.Durable = st
	})
	hdr := func(k string) map[string]string { return map[string]string{"X-Api-Key": k} }

	wantOK(t, e.do("GET", "/k/orders", map[string]string{"X-Api-Key": good, "X-Api-Key-Id": "forged"}, ""))
	got := e.up.last(t)
	if got.Header.Get("X-Api-Key") != "" || got.Header.Get("X-Api-Key-Id") != "acme" {
		t.Errorf("upstream got X-Api-Key %q, X-Api-Key-Id %q", got.Header.Get("X-Api-Key"), got.Header.Get("X-Api-Key-Id"))
	}
	wantOK(t, e.do("GET", "/q/orders?page=2&api_key="+url.QueryEscape(good)+"&sort=asc", nil, ""))
	if got := e.up.last(t).RequestURI; got != "/q/orders?page=2&sort=asc" {
		t.Errorf("upstream got %q: the key was forwarded in the query", got)
	}
	wantOK(t, e.do("GET", "/scoped/orders", hdr(writer), ""))

	wrong := good[:len(good)-4] + "AAAA"
	for _, tc := range []struct {
		name, target string
		header       map[string]string
		status       int
		reason       string
	}{
		{"no key", "/k/x", nil, 401, "apikey.missing"},
		{"not in the query where only headers count", "/k/x?api_key=" + url.QueryEscape(good), nil, 401, "apikey.missing"},
		{"header and query", "/q/x?api_key=" + url.QueryEscape(good), hdr(good), 400, "apikey.bad_request"},
		{"wrong secret", "/k/x", hdr(wrong), 401, "apikey.invalid"},
		{"unknown id", "/k/x", hdr(strings.Replace(good, "dbk_acme_", "dbk_nobody_", 1)), 401, "apikey.invalid"},
		{"not a key", "/k/x", hdr("hunter2"), 401, "apikey.invalid"},
		{"expired", "/k/x", hdr(expired), 401, "apikey.expired"},
		{"scope not granted", "/scoped/x", hdr(good), 403, "apikey.insufficient_scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.up.hits.Load()
			wantRefused(t, e, e.do("GET", tc.target, tc.header, ""), before, tc.status, tc.reason)
			if strings.Contains(e.logs.String(), good[10:]) {
				t.Fatal("a key's secret reached the logs")
			}
		})
	}

	// Rotation: both secrets work during the overlap.
	h, _ := apikey.NewHasher([]byte(testPepper))
	next, _ := apikey.New("acme")
	if err := st.RotateAPIKey(context.Background(), store.APIKey{ID: "acme", Hash: h.Hash(next.Secret), Scopes: []string{"orders:read"}, CreatedAt: time.Now()}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, e, hdr(next.String()), 200) // a new secret, like a revocation, within a second
	wantOK(t, e.do("GET", "/k/x", hdr(good), ""))

	// A revocation applies within a second, on this node's cached key too.
	if err := st.RevokeAPIKey(context.Background(), "acme", time.Now()); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, e, hdr(good), 401)
	if p := readProblem(t, e.do("GET", "/k/x", hdr(good), "")); p.Reason != "apikey.revoked" {
		t.Fatalf("after revocation: %s", p.Reason)
	}

	// The store down: fail closed (503), once the cache has to ask it.
	st.fail.Store(true)
	before := e.up.hits.Load()
	wantRefused(t, e, e.do("GET", "/k/x", hdr(newKeyCredential(t, "fresh")), ""), before, 503, "apikey.unavailable")
}

// newKeyCredential is a well-formed key of an id the store has never
// seen.
func newKeyCredential(t *testing.T, id string) string {
	c, err := apikey.New(id)
	if err != nil {
		t.Fatal(err)
	}
	return c.String()
}

// waitStatus sends GET /k/x with header until the gateway answers with
// status, for at most a second: the time a key change may take to reach
// every node.
func waitStatus(t *testing.T, e *env, header map[string]string, status int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		if resp := e.do("GET", "/k/x", header, ""); resp.StatusCode == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no status %d within a second of the change", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
