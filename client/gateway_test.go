package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/client"
	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/gateway"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// The tests run the client against a real gateway (gateway.Server on
// loopback, in-memory stores) in front of a real upstream that echoes
// what it received.

const gatewayYAML = `
listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
  token: ${ADMIN_TOKEN}
upstreams:
  app:
    url: ${UPSTREAM}
issuers:
  idp:
    issuer: https://id.test
    jwks_file: ${IDP_JWKS}
    algorithms: [EdDSA]
    audiences: [https://api.test]
apps:
  shop:
    dev: {ca_files: ["${DEV_CA}"]}
    environments: [development]
  kiosk:
    dev: {ca_files: ["${DEV_CA}"]}
    environments: [development]
  prod:
    apple: {team_id: TEAM123456, bundle_id: test.prod}
attestation:
  issuer: https://gw.test
routes:
  - name: signed
    match: {path_prefix: /signed/}
    upstream: app
    policies:
      - attestation: {apps: [shop]}
      - signature: {attested: true}
  - name: tagged
    match: {path_prefix: /tagged/}
    upstream: app
    policies:
      - attestation: {apps: [shop]}
      - signature: {attested: true, label: app, tag: shop-api, required: ['@method', '@authority', '@path', '@query', attestation-token]}
  - name: dpop
    match: {path_prefix: /dpop/}
    upstream: app
    policies:
      - attestation: {apps: [shop]}
      - dpop: {}
  - name: dpop-nonce
    match: {path_prefix: /nonce/}
    upstream: app
    policies:
      - attestation: {apps: [shop]}
      - dpop: {nonce: {}}
  - name: dpop-user
    match: {path_prefix: /user/}
    upstream: app
    policies:
      - attestation: {apps: [shop]}
      - jwt: {issuers: [idp], schemes: [DPoP]}
      - dpop: {}
  - name: bound
    match: {path_prefix: /bound/}
    upstream: app
    policies:
      - attestation: {apps: [shop], bind_authorization: true}
      - signature: {attested: true}
  - name: plain
    match: {path_prefix: /plain/}
    upstream: app
    policies:
      - attestation: {apps: [shop]}
`

// testGateway is a running gateway and what a test needs to call it.
type testGateway struct {
	URL, Admin, AdminToken string
	clock                  *clock
	ca                     *x509.Certificate
	caKey                  *ecdsa.PrivateKey
	idp                    *token.Signer
	up                     *upstream
}

// clock is the gateway's clock, which a test may move.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// upstream echoes what it received and counts requests.
type upstream struct {
	*httptest.Server
	hits atomic.Int64
}

func newUpstream() *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "uri": r.RequestURI, "header": r.Header})
	}))
	return u
}

// startGateway starts a gateway with gatewayYAML; it stops when the test
// ends.
func startGateway(t testing.TB) *testGateway {
	t.Helper()
	g, stop, err := newTestGateway(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return g
}

// newTestGateway starts the gateway with its files in dir, for tests and
// the example.
func newTestGateway(dir string) (*testGateway, func(), error) {
	g := &testGateway{clock: &clock{}, up: newUpstream(), AdminToken: rand.Text()}
	ca, caKey, err := devkey.NewCA(time.Now(), 24*time.Hour)
	if err != nil {
		return nil, nil, err
	}
	g.ca, g.caKey = ca, caKey
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o600); err != nil {
		return nil, nil, err
	}
	idpKey, err := token.GenerateKey("EdDSA")
	if err != nil {
		return nil, nil, err
	}
	jwks, err := token.PublicJWKS(idpKey)
	if err != nil {
		return nil, nil, err
	}
	jwksFile := filepath.Join(dir, "idp.json")
	if err := os.WriteFile(jwksFile, jwks, 0o600); err != nil {
		return nil, nil, err
	}
	if g.idp, err = token.NewSigner(idpKey, "EdDSA"); err != nil {
		return nil, nil, err
	}
	vars := map[string]string{"UPSTREAM": g.up.URL, "DEV_CA": caFile, "IDP_JWKS": jwksFile, "ADMIN_TOKEN": g.AdminToken}
	f, err := config.Parse("client_test.yaml", []byte(gatewayYAML), config.Source{LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
	if err != nil {
		return nil, nil, err
	}
	gw := gateway.New(gateway.Options{Now: g.clock.Now})
	if err := gw.Load(f); err != nil {
		return nil, nil, err
	}
	srv, err := gateway.NewServer(gw, f, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, nil, err
	}
	g.URL, g.Admin = "http://"+srv.Addr().String(), "http://"+srv.AdminAddr().String()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ctx) })
	stop := func() {
		cancel()
		wg.Wait()
		gw.Close()
		g.up.Close()
	}
	return g, stop, nil
}

// device makes a development device certified for app.
func (g *testGateway) device(t testing.TB, app string) *client.DevAttestor {
	t.Helper()
	a, err := g.newDevice(app)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (g *testGateway) newDevice(app string) (*client.DevAttestor, error) {
	a, err := devkey.NewAttestor(g.ca, g.caKey, app, time.Now(), 24*time.Hour)
	if err != nil {
		return nil, err
	}
	return &client.DevAttestor{Device: a.Device, Chain: a.Chain}, nil
}

// transport is a Transport of app shop on a new development device, whose
// key is K.
func (g *testGateway) transport(t testing.TB, proof client.Proof) *client.Transport {
	t.Helper()
	d := g.device(t, "shop")
	return &client.Transport{Gateway: g.URL, App: "shop", AppVersion: "1.0.0", Attestor: d, Key: d.Device, Proof: proof}
}

// admin calls the operator API.
func (g *testGateway) admin(t testing.TB, method, path, body string) {
	t.Helper()
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, g.Admin+path, rb)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+g.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s", method, path, resp.Status)
	}
}

// accessToken mints a user access token of the test issuer, bound to jkt
// when it is not empty.
func (g *testGateway) accessToken(t testing.TB, jkt string) string {
	t.Helper()
	now := time.Now()
	c := map[string]any{"iss": "https://id.test", "aud": "https://api.test", "sub": "alice", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if jkt != "" {
		c["cnf"] = map[string]string{"jkt": jkt}
	}
	tok, err := g.idp.Sign(c, "at+jwt")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// problem is a refusal's body.
type problem struct {
	Status int    `json:"status"`
	Reason string `json:"reason"`
}

// call sends a request through c and returns the status and the problem
// reason ("" for success).
func call(t testing.TB, c *client.Client, method, url, body string, header map[string]string) (int, string) {
	t.Helper()
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rb)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		var e *client.Error
		if errors.As(err, &e) {
			return e.Status, e.Reason
		}
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var p problem
	_ = json.NewDecoder(resp.Body).Decode(&p)
	return resp.StatusCode, p.Reason
}

func answer(status int, reason string) string {
	return strings.TrimSpace(fmt.Sprintf("%d %s", status, reason))
}
