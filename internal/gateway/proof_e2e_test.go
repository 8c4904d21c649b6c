package gateway_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
	"github.com/drawbridge-gw/drawbridge/internal/dpop/dpoptest"
	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// The end-to-end tests act as an app: attest through the gateway's
// development attestation endpoint with a request-signing key K, receive a
// token bound to K, then call routes that require HTTP message signatures
// or DPoP proofs by K.

const proofE2EYAML = `
listen: ${LISTEN}
upstreams:
  app:
    url: ${UPSTREAM}
apps:
  shop:
    dev: {ca_files: ["${DEV_CA}"]}
    environments: [development]
attestation:
  issuer: https://gw.test
  signing_keys: ["${SIGNING_KEY}"]
routes:
  - name: signed
    match: {path_prefix: /signed/}
    upstream: app
    policies:
      - attestation: {apps: [shop]}
      - signature:
          attested: true
          required: ['@method', '@authority', '@path', attestation-token]
  - name: dpop
    match: {path_prefix: /dpop/}
    upstream: app
    policies:
      - attestation: {apps: [shop]}
      - dpop: {}
`

// app is the client side: a request-signing key and what attestation
// gave it.
type app struct {
	key    *dpoptest.Key // K: DPoP proofs and, as an ECDSA key, signatures
	signer *httpsig.Signer
	token  string
}

func newApp(t *testing.T) *app {
	t.Helper()
	k, err := dpoptest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	return &app{key: k, signer: &httpsig.Signer{
		Key: httpsig.SigningKey{Algorithm: httpsig.ECDSAP256SHA256, Private: k.Private.(*ecdsa.PrivateKey)}, KeyID: k.JKT, Nonce: true,
		Components: []string{"@method", "@authority", "@path", "attestation-token"},
	}}
}

// proofEnv starts the gateway and returns it with a development attestor
// for the app shop and an issuer with the gateway's signing key.
func proofEnv(t *testing.T) (*env, *devkey.Attestor, *service.Issuer) {
	t.Helper()
	now := time.Now()
	ca, caKey, err := devkey.NewCA(now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	att, err := devkey.NewAttestor(ca, caKey, "shop", now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	caFile := writeFile(t, "ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}))
	sk, err := token.GenerateKey("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := sk.PrivatePEM()
	keyFile := writeFile(t, "signing.pem", priv)
	iss, err := service.LoadIssuer("https://gw.test", []string{keyFile})
	if err != nil {
		t.Fatal(err)
	}
	e := startEnv(t, proofE2EYAML, func(e *env) {
		e.vars["DEV_CA"], e.vars["SIGNING_KEY"] = caFile, keyFile
	})
	return e, att, iss
}

// attest runs the protocol's challenge and development exchange.
func (a *app) attest(t *testing.T, e *env, att *devkey.Attestor) {
	t.Helper()
	post := func(path string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, err := http.Post(e.base+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d %v", path, resp.StatusCode, out)
		}
		return out
	}
	ch := post("/v1/attest/challenge", map[string]string{"app": "shop"})["challenge"].(string)
	cd := service.FormatClientData(ch, a.key.JKT)
	sum := sha256.Sum256(cd)
	ev, err := att.Attest(sum[:])
	if err != nil {
		t.Fatal(err)
	}
	var evm map[string]any
	evb, _ := json.Marshal(ev)
	_ = json.Unmarshal(evb, &evm)
	evm["app"], evm["client_data"], evm["signing_key"], evm["app_version"] = "shop", base64.RawURLEncoding.EncodeToString(cd), a.key.JWK, "1.0.0"
	a.token = post("/v1/attest/dev", evm)["token"].(string)
}

// signed sends a GET signed by a's signer with a's token.
func (a *app) signed(t *testing.T, e *env, s *httpsig.Signer, path string) *http.Response {
	t.Helper()
	r := sigRequest{method: "GET", target: path, header: map[string]string{"Attestation-Token": a.token}}
	return send(t, e, r, sign(t, e, s, r))
}

func (a *app) withProof(t *testing.T, e *env, k *dpoptest.Key, path string) *http.Response {
	t.Helper()
	h := map[string]string{"Attestation-Token": a.token}
	if k != nil {
		h["DPoP"] = k.Proof("GET", "http://"+e.addr+path)
	}
	return e.do("GET", path, h, "")
}

// TestProofsEndToEnd: an app attests through the gateway and receives a
// token bound to its key, with the key in cnf.jwk; its signed requests
// and DPoP proofs pass; the same token with another key's signature or
// proof, or with none, is refused; so is a token that binds the key by
// thumbprint only, for signatures.
func TestProofsEndToEnd(t *testing.T) {
	e, att, iss := proofEnv(t)
	a := newApp(t)
	a.attest(t, e, att)
	parts := strings.Split(a.token, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Cnf struct {
			JKT string         `json:"jkt"`
			JWK map[string]any `json:"jwk"`
		} `json:"cnf"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Cnf.JKT != a.key.JKT || claims.Cnf.JWK["x"] != a.key.JWK["x"] || len(claims.Cnf.JWK) != 4 {
		t.Fatalf("token cnf %+v (%v), want jkt %s and K's public JWK", claims.Cnf, err, a.key.JKT)
	}

	wantOK(t, a.signed(t, e, a.signer, "/signed/orders"))
	wantOK(t, a.withProof(t, e, a.key, "/dpop/orders"))

	thief := newApp(t)
	thief.token = a.token // the token, copied; the key stays on the device
	byThief := *thief.signer
	byThief.KeyID = a.key.JKT // claiming K's keyid does not help
	noKey := &httpsig.Signer{Key: thief.signer.Key, Nonce: true, KeyID: thief.key.JKT, Components: thief.signer.Components}
	for _, tc := range []struct {
		name   string
		resp   func() *http.Response
		reason string
	}{
		{"signed by another key", func() *http.Response { return thief.signed(t, e, noKey, "/signed/orders") }, "signature.key_not_bound"},
		{"signed by another key under K's keyid", func() *http.Response { return thief.signed(t, e, &byThief, "/signed/orders") }, "signature.invalid"},
		{"not signed", func() *http.Response {
			return e.do("GET", "/signed/orders", map[string]string{"Attestation-Token": a.token}, "")
		}, "signature.missing"},
		{"another key's DPoP proof", func() *http.Response { return thief.withProof(t, e, thief.key, "/dpop/orders") }, "dpop.key_mismatch"},
		{"no DPoP proof", func() *http.Response { return thief.withProof(t, e, nil, "/dpop/orders") }, "dpop.missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.up.hits.Load()
			wantRefused(t, e, tc.resp(), before, 401, tc.reason)
		})
	}

	// A token that names K by thumbprint only (an App Attest refresh
	// without signing_key) still works for DPoP, whose proofs carry the
	// key, but not for signatures.
	tok, err := iss.Issue(service.Claims{Subject: "install-1", App: "shop", Version: "1.0.0", Platform: "dev", Environment: "development",
		Cnf: service.Confirmation{JKT: a.key.JKT}}, time.Now(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	thumbOnly := &app{key: a.key, signer: a.signer, token: tok}
	wantOK(t, thumbOnly.withProof(t, e, a.key, "/dpop/x"))
	before := e.up.hits.Load()
	wantRefused(t, e, thumbOnly.signed(t, e, a.signer, "/signed/x"), before, 401, "signature.unknown_key")
	if !strings.Contains(e.logs.String(), "carries no cnf.jwk") {
		t.Error("the decision log does not say why the key is unknown")
	}
}

// TestDPoPRFC9449ThroughGateway: RFC 9449's proofs, bound through
// attestation tokens naming their key, pass the gateway's dpop layer with
// its clock at their iat and its origin the RFC's; the refresh proof,
// which reuses the first proof's jti, is refused as a replay; the proofs
// are refused at the real clock, and with a token bound to the §10
// dpop_jkt.
func TestDPoPRFC9449ThroughGateway(t *testing.T) {
	v := dpoptest.LoadVectors(t)
	clock := newClock(time.Unix(v.Proofs[0].Context.Clock, 0))
	sk, _ := token.GenerateKey("EdDSA")
	priv, _ := sk.PrivatePEM()
	keyFile := writeFile(t, "signing.pem", priv)
	iss, err := service.LoadIssuer("https://gw.test", []string{keyFile})
	if err != nil {
		t.Fatal(err)
	}
	yaml := `
listen: ${LISTEN}
upstreams:
  app:
    url: ${UPSTREAM}
apps:
  shop:
    apple: {team_id: TEAM123456, bundle_id: com.example.shop}
attestation:
  issuer: https://gw.test
  signing_keys: ["` + keyFile + `"]
routes:
  - name: as
    match: {path: /token}
    upstream: app
    policies:
      - attestation: {apps: [shop]}
      - dpop: {origin: "https://server.example.com"}
  - name: rs
    match: {path: /protectedresource}
    upstream: app
    policies:
      - attestation: {apps: [shop]}
      - dpop: {origin: "https://resource.example.org"}
`
	e := startEnv(t, yaml, withClock(clock))
	tokenFor := func(jkt string, at time.Time) string {
		tok, err := iss.Issue(service.Claims{Subject: "install-1", App: "shop", Platform: "apple", Environment: "production",
			Cnf: service.Confirmation{JKT: jkt}}, at, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	send := func(i int, jkt string) *http.Response {
		ex := v.Proofs[i]
		at := clock.Now()
		path := ex.Context.URI[strings.Index(ex.Context.URI[8:], "/")+8:]
		h := map[string]string{"Attestation-Token": tokenFor(jkt, at), "DPoP": ex.Proof}
		if _, ok := ex.Payload["ath"]; ok {
			h["Authorization"] = "DPoP " + v.AccessToken
		}
		return e.do(ex.Context.Method, path, h, map[bool]string{true: "grant_type=x", false: ""}[ex.Context.Method == "POST"])
	}
	verified := 0
	for i, ex := range v.Proofs {
		clock.Set(time.Unix(ex.Context.Clock, 0))
		before := e.up.hits.Load()
		wantRefused(t, e, send(i, v.DPoPJKT.JKT), before, 401, "dpop.key_mismatch")
		resp := send(i, v.JKT)
		if i == 1 {
			wantRefused(t, e, resp, before, 401, "dpop.replayed")
			continue
		}
		wantOK(t, resp)
		verified++
	}
	if verified != 2 {
		t.Fatalf("%d proofs passed, want 2 (the third replays the first's jti)", verified)
	}
	clock.Set(time.Now())
	for i := range v.Proofs {
		before := e.up.hits.Load()
		wantRefused(t, e, send(i, v.JKT), before, 401, "dpop.too_old")
	}
}
