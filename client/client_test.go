package client_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/client"
)

// TestProofs: an app attests through the gateway and calls routes that
// require each kind of proof, with and without a body, a query, a user's
// access token; every call reaches the upstream.
func TestProofs(t *testing.T) {
	g := startGateway(t)
	for _, tc := range []struct {
		name         string
		proof        client.Proof
		method, path string
		body         string
		setup        func(*client.Transport)
		header       func(tr *client.Transport) map[string]string
	}{
		{name: "signature", proof: client.ProofSignature, method: "GET", path: "/signed/orders"},
		{name: "signature is the default", method: "GET", path: "/signed/orders?page=2&sort=asc"},
		{name: "signature with a body", method: "POST", path: "/signed/orders", body: `{"product_id":3}`},
		{name: "signature with a label and tag", method: "PUT", path: "/tagged/favourites/3?x=1", body: "{}",
			setup: func(tr *client.Transport) { tr.SignatureLabel, tr.SignatureTag = "app", "shop-api" }},
		{name: "signature with a user token", method: "GET", path: "/signed/me",
			header: func(*client.Transport) map[string]string {
				return map[string]string{"Authorization": "Bearer opaque-user-token"}
			}},
		{name: "token bound to the Authorization header", method: "GET", path: "/bound/me",
			setup: func(tr *client.Transport) { tr.BindAuthorization = true },
			header: func(*client.Transport) map[string]string {
				return map[string]string{"Authorization": "Bearer alice-session"}
			}},
		{name: "signature by a key that is only a crypto.Signer", method: "GET", path: "/signed/orders",
			setup: func(tr *client.Transport) { tr.Key = opaqueSigner{tr.Key} }},
		{name: "dpop", proof: client.ProofDPoP, method: "GET", path: "/dpop/orders?page=1"},
		{name: "dpop by a key that is only a crypto.Signer", proof: client.ProofDPoP, method: "GET", path: "/dpop/orders",
			setup: func(tr *client.Transport) { tr.Key = opaqueSigner{tr.Key} }},
		{name: "dpop with a body", proof: client.ProofDPoP, method: "POST", path: "/dpop/orders", body: `{"product_id":3}`},
		{name: "dpop with server nonces", proof: client.ProofDPoP, method: "GET", path: "/nonce/orders"},
		{name: "dpop with a DPoP-bound access token (ath)", proof: client.ProofDPoP, method: "GET", path: "/user/orders",
			header: func(tr *client.Transport) map[string]string {
				jkt, err := tr.Thumbprint()
				if err != nil {
					t.Fatal(err)
				}
				return map[string]string{"Authorization": "DPoP " + g.accessToken(t, jkt)}
			}},
		{name: "no proof", proof: client.ProofNone, method: "GET", path: "/plain/orders"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := g.transport(t, tc.proof)
			if tc.setup != nil {
				tc.setup(tr)
			}
			var h map[string]string
			if tc.header != nil {
				h = tc.header(tr)
			}
			c := &client.Client{Transport: tr}
			before := g.up.hits.Load()
			// Twice: the second call uses the cached token, with fresh
			// nonces and jti values.
			for i := range 2 {
				if got := answer(call(t, c, tc.method, g.URL+tc.path, tc.body, h)); got != "200" {
					t.Fatalf("call %d: %s, want 200", i+1, got)
				}
			}
			if n := g.up.hits.Load() - before; n != 2 {
				t.Fatalf("the upstream saw %d requests, want 2", n)
			}
		})
	}
}

// TestStolenToken: a token sent with another key's proof, or with none,
// is refused; so is a token for another app.
func TestStolenToken(t *testing.T) {
	g := startGateway(t)
	victim := g.transport(t, client.ProofSignature)
	tok, err := victim.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	kiosk := g.device(t, "kiosk")
	other, err := (&client.Transport{Gateway: g.URL, App: "kiosk", Attestor: kiosk, Key: kiosk.Device}).Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		token string
		proof client.Proof
		path  string
		want  string
	}{
		{"signed by the thief's key", tok.Value, client.ProofSignature, "/signed/orders", "401 signature.key_not_bound"},
		{"not signed", tok.Value, client.ProofNone, "/signed/orders", "401 signature.missing"},
		{"the thief's DPoP proof", tok.Value, client.ProofDPoP, "/dpop/orders", "401 dpop.key_mismatch"},
		{"no DPoP proof", tok.Value, client.ProofNone, "/dpop/orders", "401 dpop.missing"},
		{"another app's token", other.Value, client.ProofSignature, "/signed/orders", "403 attestation.wrong_app"},
		{"no token at all", "", client.ProofNone, "/plain/orders", "401 attestation.missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := g.up.hits.Load()
			var status int
			var reason string
			if tc.token == "" {
				resp, err := http.Get(g.URL + tc.path)
				if err != nil {
					t.Fatal(err)
				}
				status, reason = resp.StatusCode, readReason(t, resp)
			} else {
				thief := &client.Transport{Gateway: g.URL, FixedToken: tc.token, Proof: tc.proof}
				status, reason = call(t, &client.Client{Transport: thief}, "GET", g.URL+tc.path, "", nil)
			}
			if got := answer(status, reason); got != tc.want {
				t.Fatalf("%s, want %s", got, tc.want)
			}
			if g.up.hits.Load() != before {
				t.Fatal("a refused request reached the upstream")
			}
		})
	}
}

// TestRefresh: the token is reused until 80% of its lifetime, then
// replaced; by assertion when the Attestor is an Asserter, and by a new
// attestation when the gateway refuses the assertion.
func TestRefresh(t *testing.T) {
	g := startGateway(t)
	for _, tc := range []struct {
		name          string
		asserter      bool
		badAssertion  bool
		wantAsserts   int
		wantAttests   int
		wantInstallID bool // the refreshed token is the same install's
	}{
		{name: "attest again", wantAttests: 2, wantInstallID: true},
		{name: "by assertion", asserter: true, wantAttests: 1, wantAsserts: 1, wantInstallID: true},
		{name: "refused assertion", asserter: true, badAssertion: true, wantAttests: 2, wantAsserts: 1, wantInstallID: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := g.device(t, "shop")
			att := &countingAttestor{DevAttestor: d, bad: tc.badAssertion}
			var a client.Attestor = &plainAttestor{att}
			if tc.asserter {
				a = att
			}
			now := time.Now()
			tr := &client.Transport{Gateway: g.URL, App: "shop", Attestor: a, Key: d.Device, Now: func() time.Time { return now }}
			first, err := tr.Token(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			life := first.Expiry.Sub(now)
			now = now.Add(life * 79 / 100)
			if again, err := tr.Token(t.Context()); err != nil || again != first {
				t.Fatalf("at 79%% of the lifetime: %v, a new token: %v", err, again != first)
			}
			now = now.Add(life * 2 / 100)
			second, err := tr.Token(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if second == first || second.Value == first.Value {
				t.Fatal("at 81% of the lifetime the token was not refreshed")
			}
			if (second.InstallID == first.InstallID) != tc.wantInstallID {
				t.Fatalf("install %s, then %s", first.InstallID, second.InstallID)
			}
			if att.attests != tc.wantAttests || att.asserts != tc.wantAsserts {
				t.Fatalf("%d attestations and %d assertions, want %d and %d", att.attests, att.asserts, tc.wantAttests, tc.wantAsserts)
			}
		})
	}
}

// TestRetry: when the gateway says the token expired, or was cut off by
// an operator, the Transport attests again and retries the request once.
func TestRetry(t *testing.T) {
	g := startGateway(t)
	for _, tc := range []struct {
		name   string
		before func(t *testing.T)
	}{
		// The gateway's clock runs ahead of the client's: the client
		// believes its token fresh.
		{"expired", func(*testing.T) { g.clock.Advance(10 * time.Minute) }},
		{"cut off", func(t *testing.T) {
			g.clock.Advance(10 * time.Second)
			at := g.clock.Now().Add(-5 * time.Second).UTC().Format(time.RFC3339)
			g.admin(t, "POST", "/v1/apps/shop/cutoff", `{"before":"`+at+`"}`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := g.transport(t, client.ProofNone)
			c := &client.Client{Transport: tr}
			if got := answer(call(t, c, "GET", g.URL+"/plain/a", "", nil)); got != "200" {
				t.Fatal(got)
			}
			first, _ := tr.Token(t.Context())
			tc.before(t)
			if got := answer(call(t, c, "POST", g.URL+"/plain/b", "body", nil)); got != "200" {
				t.Fatalf("after %s: %s, want 200 after one retry", tc.name, got)
			}
			if again, _ := tr.Token(t.Context()); again == first {
				t.Fatal("the refused token is still cached")
			}
		})
	}
}

// TestAttestationRefused: refusals of the exchange are *Error values with
// the gateway's reason, and no request is sent.
func TestAttestationRefused(t *testing.T) {
	g := startGateway(t)
	revoked := g.device(t, "shop")
	tok, err := (&client.Transport{Gateway: g.URL, App: "shop", Attestor: revoked, Key: revoked.Device}).Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	g.admin(t, "POST", "/v1/apps/shop/devices/"+tok.InstallID+"/revoke", "")
	registered := g.device(t, "shop")
	if _, err := (&client.Transport{Gateway: g.URL, App: "shop", Attestor: registered, Key: registered.Device}).Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	g.admin(t, "POST", "/v1/apps/shop/versions/0.9/block", "")
	for _, tc := range []struct {
		name string
		tr   *client.Transport
		want string
	}{
		{"unknown app", &client.Transport{App: "nope", Attestor: g.device(t, "shop")}, "400 attestation.unknown_app"},
		{"revoked device", &client.Transport{App: "shop", Attestor: revoked, Key: revoked.Device}, "403 attestation.device_revoked"},
		{"blocked version", &client.Transport{App: "shop", AppVersion: "0.9", Attestor: g.device(t, "shop")}, "403 attestation.version_blocked"},
		{"a device of another app", &client.Transport{App: "shop", Attestor: g.device(t, "kiosk")}, "403 devkey.wrong_app"},
		{"a platform the app does not accept", &client.Transport{App: "prod", Attestor: g.device(t, "prod")}, "403 attestation.platform_not_allowed"},
		{"another key than the device's first", &client.Transport{App: "shop", Attestor: registered}, "400 attestation.key_mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.tr.Gateway = g.URL
			before := g.up.hits.Load()
			if got := answer(call(t, &client.Client{Transport: tc.tr}, "GET", g.URL+"/plain/x", "", nil)); got != tc.want {
				t.Fatalf("%s, want %s", got, tc.want)
			}
			if g.up.hits.Load() != before {
				t.Fatal("the request was sent without a token")
			}
		})
	}
}

// TestOtherOrigins: requests to other servers carry no token and no
// proof.
func TestOtherOrigins(t *testing.T) {
	g := startGateway(t)
	other := newUpstream()
	defer other.Close()
	tr := g.transport(t, client.ProofDPoP)
	resp, err := (&client.Client{Transport: tr}).Do(mustRequest(t, "GET", other.URL+"/x"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var seen struct{ Header http.Header }
	if err := json.NewDecoder(resp.Body).Decode(&seen); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Attestation-Token", "Dpop", "Signature"} {
		if v := seen.Header.Get(h); v != "" {
			t.Errorf("another origin received %s", h)
		}
	}
}

// TestConfig: a Transport that cannot attest refuses to send anything.
func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		tr   *client.Transport
		want string
	}{
		{"no gateway", &client.Transport{App: "a", Attestor: &client.DevAttestor{}}, "Gateway must be"},
		{"a gateway with a path", &client.Transport{Gateway: "http://h/api", App: "a", Attestor: &client.DevAttestor{}}, "Gateway must be"},
		{"no attestor", &client.Transport{Gateway: "http://h", App: "a"}, "App and Attestor are required"},
		{"unknown proof", &client.Transport{Gateway: "http://h", FixedToken: "t", Proof: "mtls"}, "unknown proof"},
		{"bad label", &client.Transport{Gateway: "http://h", FixedToken: "t", SignatureLabel: "Sig 1"}, "label"},
		{"bad prefix", &client.Transport{Gateway: "http://h", FixedToken: "t", Prefix: "gw/"}, "Prefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := (&client.Client{Transport: tc.tr}).Do(mustRequest(t, "GET", "http://h/x"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// TestTokenClaims: the token binds K (cnf.jkt, and cnf.jwk for
// signatures) and carries the app and version.
func TestTokenClaims(t *testing.T) {
	g := startGateway(t)
	tr := g.transport(t, client.ProofSignature)
	tok, err := tr.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	jkt, _ := tr.Thumbprint()
	parts := strings.Split(tok.Value, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Sub, App, Ver, Plat, Env string
		Cnf                      struct {
			JKT string         `json:"jkt"`
			JWK map[string]any `json:"jwk"`
		}
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	if c.Sub != tok.InstallID || c.App != "shop" || c.Ver != "1.0.0" || c.Plat != "dev" || c.Env != "development" || c.Cnf.JKT != jkt || c.Cnf.JWK["kty"] != "EC" {
		t.Fatalf("claims %+v, want install %s, app shop, version 1.0.0, dev, development, jkt %s with its JWK", c, tok.InstallID, jkt)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func readReason(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var p problem
	_ = json.Unmarshal(b, &p)
	return p.Reason
}

// TestBindAuthorization: with BindAuthorization, each Authorization value
// gets a token bound to it (uth); a token bound to one user's header is
// refused with another's, even with the right key's signature.
func TestBindAuthorization(t *testing.T) {
	g := startGateway(t)
	tr := g.transport(t, client.ProofSignature)
	tr.BindAuthorization = true
	rec := &recorder{}
	tr.Base = rec
	c := &client.Client{Transport: tr}
	header := func(user string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + user + "-session"}
	}
	for _, user := range []string{"alice", "bob", "alice"} {
		if got := answer(call(t, c, "GET", g.URL+"/bound/me", "", header(user))); got != "200" {
			t.Fatalf("as %s: %s", user, got)
		}
	}
	used := rec.tokens("/bound/me")
	if len(used) != 3 || used[0] == used[1] || used[1] == used[2] {
		t.Fatalf("tokens used: %d, want 3 with a new one for each change of user", len(used))
	}
	stolen := &client.Transport{Gateway: g.URL, FixedToken: used[0], Key: tr.Key}
	if got := answer(call(t, &client.Client{Transport: stolen}, "GET", g.URL+"/bound/me", "", header("bob"))); got != "401 attestation.binding_mismatch" {
		t.Fatalf("alice's token with bob's header: %s, want 401 attestation.binding_mismatch", got)
	}
}

// recorder is a Base transport that records the attestation token of each
// request.
type recorder struct {
	mu   sync.Mutex
	seen []struct{ path, token string }
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen = append(r.seen, struct{ path, token string }{req.URL.Path, req.Header.Get("Attestation-Token")})
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) tokens(path string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.seen {
		if s.path == path {
			out = append(out, s.token)
		}
	}
	return out
}
