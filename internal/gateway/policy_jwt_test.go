package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/gateway"
	"github.com/drawbridge-gw/drawbridge/internal/token"
	"github.com/drawbridge-gw/drawbridge/internal/token/tokentest"
)

// jwksServer is a real JWKS endpoint that counts its fetches.
type jwksServer struct {
	*httptest.Server
	hits   atomic.Int64
	body   atomic.Value // []byte
	status atomic.Int64
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	s := &jwksServer{}
	s.body.Store(body)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if st := s.status.Load(); st != 0 {
			w.WriteHeader(int(st))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.body.Load().([]byte))
	}))
	t.Cleanup(s.Close)
	return s
}

const jwtYAML = `
listen: ${LISTEN}
upstreams:
  app:
    url: ${UPSTREAM}
issuers:
  main:
    issuer: https://issuer.test
    jwks_url: ${JWKS_URL}
    algorithms: [ES256, EdDSA, RS256, PS256]
    audiences: [https://api.test]
    type: at+jwt
    require: [sub]
    max_age: 24h
  hmac:
    issuer: https://hmac-issuer.test
    jwks_file: ${HMAC_KEYS}
    algorithms: [HS256, RS256, ES256]
    audiences: [https://api.test]
  down:
    issuer: https://down.test
    jwks_url: ${DOWN_URL}
    algorithms: [ES256]
    audiences: [https://api.test]
routes:
  - name: jwe
    match: {path_prefix: /jwe/}
    upstream: app
    policies:
      - jwt:
          issuers: [main, hmac]
          jwe:
            keys_file: ${JWE_KEYS}
            algorithms: [RSA-OAEP-256, ECDH-ES, ECDH-ES+A256KW, dir, PBES2-HS256+A128KW]
  - name: plain
    match: {path_prefix: /plain/}
    upstream: app
    policies:
      - jwt:
          issuers: [main, hmac]
  - name: orders
    match: {path_prefix: /orders/}
    upstream: app
    policies:
      - jwt:
          issuers: [main]
          cookie: session
          scopes: [orders:write]
          claims:
            - {claim: email, equals: alice@example.com}
            - {claim: roles, contains: buyer}
            - {claim: plan, one_of: [pro, enterprise]}
          forward:
            X-User-Sub: sub
            X-User-Email: email
            X-User-Plan: plan
          max_token_bytes: 8KiB
  - name: down
    match: {path_prefix: /down/}
    upstream: app
    policies:
      - jwt:
          issuers: [down]
`

// jwtEnv starts a gateway with jwtYAML: the main issuer's keys behind a
// real JWKS URL, the HMAC issuer's in a file, the JWE keys in a file, and
// an issuer whose key server fails.
func jwtEnv(t *testing.T) (*env, *jwksServer) {
	f := tokentest.New()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keys := newJWKSServer(t, f.PublicJWKS())
	down := newJWKSServer(t, nil)
	down.status.Store(500)
	e := startEnv(t, jwtYAML, func(e *env) {
		e.vars["JWKS_URL"] = keys.URL + "/jwks.json"
		e.vars["DOWN_URL"] = down.URL + "/jwks.json"
		e.vars["HMAC_KEYS"] = write("hmac.json", f.HMACIssuerKeys())
		e.vars["JWE_KEYS"] = write("jwe.json", f.DecryptionJWKS())
	})
	return e, keys
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// TestJWTAttacks runs the whole attack catalogue through the gateway:
// every hostile token is refused with its jwt.* reason and never reaches
// the upstream; tokens larger than the header limit are refused by the
// listener before any parsing; no injected jku/x5u URL is fetched.
func TestJWTAttacks(t *testing.T) {
	f := tokentest.New()
	injected := newJWKSServer(t, f.PublicJWKS())
	tokentest.SetInjectionURL(injected.URL + "/jwks.json")
	e, _ := jwtEnv(t)
	covered := map[string]bool{}
	for _, a := range f.Attacks() {
		t.Run(a.ID+"/"+a.Name, func(t *testing.T) {
			if strings.ContainsAny(a.Token, "\r\n\x00") {
				t.Skip("not expressible in a header field; the framing guard refuses such bytes")
			}
			path := tokentest.PathJWE + "x"
			if a.Plain {
				path = tokentest.PathPlain + "x"
			}
			before := e.up.hits.Load()
			covered[a.ID] = true
			if len(a.Token) > 32<<10 {
				// Larger than the header section limit: the listener refuses
				// it (431, or a reset while the client is still sending)
				// before any parsing.
				req, _ := http.NewRequest("GET", e.base+path, nil)
				req.Header.Set("Authorization", "Bearer "+a.Token)
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					defer resp.Body.Close()
					if p := readProblem(t, resp); resp.StatusCode != 431 || p.Reason != "framing.headers_too_large" {
						t.Fatalf("status %d %s, want 431 framing.headers_too_large", resp.StatusCode, p.Reason)
					}
				}
				if e.up.hits.Load() != before {
					t.Error("a refused request reached the upstream")
				}
				return
			}
			resp := e.do("GET", path, bearer(a.Token), "")
			switch {
			case a.Reason == "":
				if resp.StatusCode != 200 {
					t.Fatalf("status %d, want 200: %+v", resp.StatusCode, readProblem(t, resp))
				}
				return
			default:
				want := gateway.JWTReason(a.Reason)
				p := readProblem(t, resp)
				if p.Reason != want || resp.StatusCode != 401 {
					t.Fatalf("status %d %s, want 401 %s", resp.StatusCode, p.Reason, want)
				}
				if got := resp.Header.Get("WWW-Authenticate"); got != `Bearer realm="drawbridge", error="invalid_token"` {
					t.Errorf("WWW-Authenticate = %q", got)
				}
				if strings.Contains(p.Detail, a.Token[:min(20, len(a.Token))]) {
					t.Error("the problem echoes the token")
				}
			}
			if e.up.hits.Load() != before {
				t.Error("a refused request reached the upstream")
			}
		})
	}
	if n := injected.hits.Load(); n != 0 {
		t.Errorf("the injected jku/x5u server was fetched %d times", n)
	}
	for _, id := range []string{"JWT-01", "JWT-16", "JWT-24", "JWT-29", "JWT-30", "JWT-31", "JWT-32"} {
		if !covered[id] {
			t.Errorf("%s was not run", id)
		}
	}
}

// TestJWTRequests covers what is not a token trick: how tokens are sent,
// the size cap, scopes, claim rules, forwarding and unavailable keys.
func TestJWTRequests(t *testing.T) {
	f := tokentest.New()
	e, _ := jwtEnv(t)
	mintWith := func(mut func(map[string]any)) string {
		c := tokentest.Claims(tokentest.Issuer)
		c["roles"] = []string{"buyer", "reviewer"}
		c["plan"] = "pro"
		if mut != nil {
			mut(c)
		}
		return tokentest.Compact(tokentest.Header("ES256", "es-1"), c, f.Signer(f.ES256, "ES256"))
	}
	good := mintWith(nil)
	type hdr = map[string]string
	for _, tc := range []struct {
		name   string
		path   string
		header hdr
		status int
		reason string
		auth   string // WWW-Authenticate
	}{
		{"no token", "/orders/1", nil, 401, "jwt.missing", `Bearer realm="drawbridge"`},
		{"another scheme", "/orders/1", hdr{"Authorization": "Basic dXNlcjpwYXNz"}, 401, "jwt.missing", `Bearer realm="drawbridge"`},
		{"empty bearer", "/orders/1", hdr{"Authorization": "Bearer "}, 401, "jwt.missing", ""},
		{"lower-case scheme", "/orders/1", hdr{"Authorization": "bearer " + good}, 200, "", ""},
		{"cookie", "/orders/1", hdr{"Cookie": "session=" + good}, 200, "", ""},
		{"cookie and header", "/orders/1", hdr{"Cookie": "session=" + good, "Authorization": "Bearer " + good}, 400, "jwt.bad_request", `Bearer realm="drawbridge", error="invalid_request"`},
		{"over the route's 8KiB cap", "/orders/1", bearer(good + strings.Repeat("A", 9<<10)), 401, "jwt.too_large", ""},
		{"scope missing", "/orders/1", bearer(mintWith(func(c map[string]any) { c["scope"] = "orders:read" })), 403, "jwt.insufficient_scope", `Bearer realm="drawbridge", error="insufficient_scope", scope="orders:write"`},
		{"scp array", "/orders/1", bearer(mintWith(func(c map[string]any) { delete(c, "scope"); c["scp"] = []string{"orders:write"} })), 200, "", ""},
		{"equals fails", "/orders/1", bearer(mintWith(func(c map[string]any) { c["email"] = "mallory@example.com" })), 403, "jwt.claim_mismatch", ""},
		{"contains fails", "/orders/1", bearer(mintWith(func(c map[string]any) { c["roles"] = []string{"reviewer"} })), 403, "jwt.claim_mismatch", ""},
		{"contains as words", "/orders/1", bearer(mintWith(func(c map[string]any) { c["roles"] = "buyer admin" })), 200, "", ""},
		{"one_of fails", "/orders/1", bearer(mintWith(func(c map[string]any) { c["plan"] = "free" })), 403, "jwt.claim_mismatch", ""},
		{"claim absent", "/orders/1", bearer(mintWith(func(c map[string]any) { delete(c, "plan") })), 403, "jwt.claim_mismatch", ""},
		{"keys unavailable", "/down/1", bearer(tokentest.Compact(tokentest.Header("ES256", "k"), tokentest.Claims("https://down.test"), f.Signer(f.ES256, "ES256"))), 503, "jwt.keys_unavailable", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.do("GET", tc.path, tc.header, "")
			if tc.status == 200 {
				if resp.StatusCode != 200 {
					t.Fatalf("status %d: %+v", resp.StatusCode, readProblem(t, resp))
				}
				return
			}
			p := readProblem(t, resp)
			if resp.StatusCode != tc.status || p.Reason != tc.reason {
				t.Fatalf("status %d %s, want %d %s", resp.StatusCode, p.Reason, tc.status, tc.reason)
			}
			if tc.auth != "" && resp.Header.Get("WWW-Authenticate") != tc.auth {
				t.Errorf("WWW-Authenticate = %q, want %q", resp.Header.Get("WWW-Authenticate"), tc.auth)
			}
		})
	}
	// Two Authorization fields.
	req, _ := http.NewRequest("GET", e.base+"/orders/1", nil)
	req.Header["Authorization"] = []string{"Bearer " + good, "Bearer " + good}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if p := readProblem(t, resp); p.Reason != "jwt.bad_request" {
		t.Fatalf("two Authorization fields: %s", p.Reason)
	}
}

// TestJWTForwarding: the upstream (a real server) receives the verified
// subject and claims, and never what the client sent under those names,
// even when the token lacks the claim or the client names the header in
// Connection.
func TestJWTForwarding(t *testing.T) {
	f := tokentest.New()
	e, _ := jwtEnv(t)
	c := tokentest.Claims(tokentest.Issuer)
	c["roles"] = []string{"buyer"}
	c["plan"] = "pro"
	tok := tokentest.Compact(tokentest.Header("ES256", "es-1"), c, f.Signer(f.ES256, "ES256"))
	resp := e.do("GET", "/orders/1", map[string]string{
		"Authorization": "Bearer " + tok,
		"X-User-Sub":    "admin",
		"X-User-Email":  "root@example.com",
		"Connection":    "X-User-Sub",
	}, "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got := e.up.last(t).Header
	if v := got.Values("X-User-Sub"); len(v) != 1 || v[0] != "user-42" {
		t.Errorf("X-User-Sub = %q, want the token's sub", v)
	}
	if v := got.Values("X-User-Email"); len(v) != 1 || v[0] != "alice@example.com" {
		t.Errorf("X-User-Email = %q", v)
	}
	if got.Get("Authorization") == "" {
		t.Error("the Authorization header was not forwarded")
	}
	// Without the claims: the client's copies are still removed.
	// (The orders route requires email; use a route without the rule.)
	delete(c, "plan")
	e2 := startEnv(t, strings.Replace(jwtYAML, "          claims:\n            - {claim: email, equals: alice@example.com}\n            - {claim: roles, contains: buyer}\n            - {claim: plan, one_of: [pro, enterprise]}\n", "", 1), func(x *env) {
		for k, v := range e.vars {
			if k != "LISTEN" && k != "UPSTREAM" {
				x.vars[k] = v
			}
		}
	})
	tok = tokentest.Compact(tokentest.Header("ES256", "es-1"), c, f.Signer(f.ES256, "ES256"))
	resp = e2.do("GET", "/orders/1", map[string]string{"Authorization": "Bearer " + tok, "X-User-Plan": "enterprise"}, "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if v := e2.up.last(t).Header.Values("X-User-Plan"); len(v) != 0 {
		t.Errorf("the client's X-User-Plan reached the upstream: %q", v)
	}
}

// TestJWTReasonsDeclared: every reason the core can give maps to a
// declared gateway reason with a status.
func TestJWTReasonsDeclared(t *testing.T) {
	declared := map[string]bool{}
	for _, r := range gateway.Reasons() {
		declared[r] = true
	}
	for _, r := range token.Reasons() {
		if !declared[gateway.JWTReason(r)] {
			t.Errorf("token reason %s maps to %s, which problem.go does not declare", r, gateway.JWTReason(r))
		}
	}
}

// TestJWTReload: key sets are shared across reloads that keep them, and a
// reload that drops an issuer stops its background refresh (no goroutine
// left fetching); config check fetches nothing.
func TestJWTReload(t *testing.T) {
	e, keys := jwtEnv(t)
	f := tokentest.New()
	if resp := e.do("GET", "/plain/x", bearer(f.Valid(f.ES256)), ""); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if n := gateway.KeySourcesRunning(e.gw); n != 2 {
		t.Fatalf("%d remote key sets, want 2 (main, down)", n)
	}
	fetched := keys.hits.Load()
	// The same config again: the same key sets, no new fetch.
	reload := func(yaml string) {
		t.Helper()
		if err := os.WriteFile(e.cfgPath, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		cf, err := config.Load(e.cfgPath, e.source())
		if err != nil {
			t.Fatal(err)
		}
		if err := e.srv.Reload(cf); err != nil {
			t.Fatal(err)
		}
	}
	reload(jwtYAML)
	if resp := e.do("GET", "/plain/x", bearer(f.Valid(f.EdDSA)), ""); resp.StatusCode != 200 {
		t.Fatalf("after reload: status %d", resp.StatusCode)
	}
	time.Sleep(50 * time.Millisecond)
	if n := keys.hits.Load(); n != fetched {
		t.Errorf("a reload with the same issuers fetched the key set again (%d -> %d)", fetched, n)
	}
	// A config without jwt policies: the key sets are closed.
	reload(basicYAML)
	if n := gateway.KeySourcesRunning(e.gw); n != 0 {
		t.Errorf("%d remote key sets still held after they left the config", n)
	}
	// config check compiles without fetching.
	before := keys.hits.Load()
	cf, err := config.Load(e.cfgPath, e.source())
	if err != nil {
		t.Fatal(err)
	}
	_ = cf
	if err := os.WriteFile(e.cfgPath, []byte(jwtYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	cf, err = config.Load(e.cfgPath, e.source())
	if err != nil {
		t.Fatal(err)
	}
	if err := gateway.Check(cf); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := keys.hits.Load(); n != before {
		t.Errorf("config check fetched a key set")
	}
}

// TestJWTConfigProblems: mistakes are reported with their field paths.
func TestJWTConfigProblems(t *testing.T) {
	yaml := `
listen: 127.0.0.1:0
upstreams: {app: {url: "http://127.0.0.1:1"}}
issuers:
  a:
    issuer: https://a.test
    jwks_url: http://keys.example.com/jwks
    algorithms: [none, ES257]
  b:
    issuer: https://a.test
routes:
  - upstream: app
    policies:
      - jwt:
          issuers: [a, nope]
          forward: {Host: sub}
          claims: [{claim: x, equals: "1", one_of: ["2"]}]
          jwe: {keys_file: "", algorithms: [RSA1_5]}
`
	p := filepath.Join(t.TempDir(), "c.yaml")
	_ = os.WriteFile(p, []byte(yaml), 0o644)
	_, err := config.Load(p, config.Source{})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		"issuers.a.jwks_url", "issuers.a.algorithms[0]", "issuers.a.audiences", "issuers.b.issuer", "issuers.b: set discovery",
		"jwt.issuers[1]", "jwt.forward.Host", "jwt.claims[0]", "jwt.jwe.keys_file", "jwt.jwe.algorithms[0]",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problems lack %q:\n%v", want, err)
		}
	}
	// Unknown algorithms are found when the gateway compiles.
	yaml2 := strings.NewReplacer("[none, ES257]", "[ES257]", "http://keys.example.com/jwks", "http://127.0.0.1:1/jwks").Replace(yaml)
	yaml2 = yaml2[:strings.Index(yaml2, "  b:")] + "    audiences: [x]\nroutes:\n  - upstream: app\n    policies:\n      - jwt: {issuers: [a]}\n"
	_ = os.WriteFile(p, []byte(yaml2), 0o644)
	cf, err := config.Load(p, config.Source{})
	if err != nil {
		t.Fatal(err)
	}
	err = gateway.Check(cf)
	if err == nil || !strings.Contains(err.Error(), "issuers.a.algorithms[0]") {
		t.Fatalf("compile: %v", err)
	}
	b, _ := json.Marshal(err.Error())
	_ = b
}
