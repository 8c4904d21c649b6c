package gateway_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey/androidkeytest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest/appattesttest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/gateway"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// The attestation tests run a real gateway whose apps trust test roots
// (gateway.SetAttestRoots), and act as the app: fetch a challenge, build
// evidence with appattesttest or androidkeytest, exchange it, and call
// the API with the token.

const (
	attTeam    = "TEAM123456"
	attBundle  = "com.example.shop"
	attPackage = "com.example.shop"
	attIssuer  = "https://gw.test"
)

var attDigest = bytes.Repeat([]byte{0xd1}, 32)

const attestYAML = `
listen: ${LISTEN}
admin:
  listen: ${ADMIN_LISTEN}
  token: ${ADMIN_TOKEN:-}
upstreams:
  app:
    url: ${UPSTREAM}
apps:
  shop-ios:
    apple: {team_id: TEAM123456, bundle_id: com.example.shop}
    min_version: "2.0"
    blocked_versions: ["2.1.3"]
  shop-dev:
    apple: {team_id: TEAM123456, bundle_id: com.example.shop}
    environments: [production, development]
  shop-android:
    android:
      package: com.example.shop
      signing_cert_digests: ["${ANDROID_DIGEST}"]
attestation:
  issuer: https://gw.test
  signing_keys: ["${SIGNING_KEY}"]
  token_ttl: 5m
routes:
  - name: api
    match: {path_prefix: /api/}
    upstream: app
    policies:
      - attestation: {apps: [shop-ios, shop-dev, shop-android]}
  - name: bound
    match: {path_prefix: /bound/}
    upstream: app
    policies:
      - attestation: {apps: [shop-ios], bind_authorization: true}
  - name: android
    match: {path_prefix: /android/}
    upstream: app
    policies:
      - attestation: {apps: [shop-android], header: X-App-Token}
`

// attestKeys are the gateway's token signing key, in a file the config
// names, and a key of another issuer.
type attestKeys struct {
	file   string
	issuer *service.Issuer // the gateway's, from the same file
	other  *service.Issuer // same name, another key
}

var (
	attAppleAuthority   = sync.OnceValue(appattesttest.NewAuthority)
	attAndroidAuthority = sync.OnceValue(androidkeytest.NewAuthority)
)

func newAttestKeys(t *testing.T) *attestKeys {
	t.Helper()
	dir := t.TempDir()
	k := &attestKeys{file: filepath.Join(dir, "signing.pem")}
	write := func(path string) *service.Issuer {
		key, err := token.GenerateKey("EdDSA")
		if err != nil {
			t.Fatal(err)
		}
		pem, err := key.PrivatePEM()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, pem, 0o600); err != nil {
			t.Fatal(err)
		}
		iss, err := service.LoadIssuer(attIssuer, []string{path})
		if err != nil {
			t.Fatal(err)
		}
		return iss
	}
	k.issuer = write(k.file)
	k.other = write(filepath.Join(dir, "other.pem"))
	return k
}

// attestEnv is a gateway serving yaml (attestYAML by default) with test
// roots, its signing key and the vars it needs.
type attestEnv struct {
	*env
	keys *attestKeys
}

func startAttestEnv(t *testing.T, yaml string, opts ...func(*env)) *attestEnv {
	t.Helper()
	if yaml == "" {
		yaml = attestYAML
	}
	keys := newAttestKeys(t)
	e := startEnv(t, yaml, append([]func(*env){func(e *env) {
		e.vars["SIGNING_KEY"] = keys.file
		e.vars["ANDROID_DIGEST"] = hex.EncodeToString(attDigest)
	}}, opts...)...)
	apple, android := attAppleAuthority(), attAndroidAuthority()
	gateway.SetAttestRoots(e.gw, apple.Roots, apple.ReceiptRoots, android.TrustedRoots())
	return &attestEnv{env: e, keys: keys}
}

// post sends a JSON body to the gateway and returns the response and its
// body.
func (e *attestEnv) post(path string, body any, header map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			e.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, e.base+path, bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(out))
	return resp, out
}

// wantProblem fails unless resp is a problem with the status and reason.
func wantProblem(t *testing.T, resp *http.Response, status int, reason string) {
	t.Helper()
	p := readProblem(t, resp)
	if resp.StatusCode != status || p.Reason != reason {
		t.Fatalf("got %d %s, want %d %s", resp.StatusCode, p.Reason, status, reason)
	}
}

// challenge fetches a challenge for app.
func (e *attestEnv) challenge(app string) string {
	e.t.Helper()
	resp, body := e.post("/v1/attest/challenge", map[string]string{"app": app}, nil)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("challenge: %d %s", resp.StatusCode, body)
	}
	var c struct {
		Challenge string `json:"challenge"`
		ExpiresIn int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &c); err != nil || c.Challenge == "" || c.ExpiresIn != 120 {
		e.t.Fatalf("challenge body %s: %v", body, err)
	}
	return c.Challenge
}

// appKey is an app install's request-signing key K.
type appKey struct {
	key *ecdsa.PrivateKey
	jwk json.RawMessage
	jkt string
}

func newAppKey(t *testing.T) *appKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return appKeyOf(t, k)
}

func appKeyOf(t *testing.T, k *ecdsa.PrivateKey) *appKey {
	tk, err := token.NewKey(&k.PublicKey, "", "")
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := tk.PublicJWK()
	if err != nil {
		t.Fatal(err)
	}
	jkt, err := token.Thumbprint(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return &appKey{key: k, jwk: jwk, jkt: jkt}
}

// clientData returns the client data for a challenge, base64url, and its
// hash.
func (k *appKey) clientData(challenge string) (string, []byte) {
	cd := service.FormatClientData(challenge, k.jkt)
	h := sha256.Sum256(cd)
	return base64.RawURLEncoding.EncodeToString(cd), h[:]
}

// iosInstall is an iOS app install: its App Attest key and K.
type iosInstall struct {
	att *appattesttest.Attested
	k   *appKey
}

// appleBody builds an App Attest exchange body for app.
func (e *attestEnv) appleBody(app, env, version string) (map[string]any, *iosInstall) {
	e.t.Helper()
	k := newAppKey(e.t)
	cd, hash := k.clientData(e.challenge(app))
	att := attAppleAuthority().Attest(appattesttest.Attestation{TeamID: attTeam, BundleID: attBundle, Environment: env, ClientDataHash: hash})
	return map[string]any{
		"app": app, "key_id": att.KeyIDBase64(), "attestation": att.ObjectBase64(),
		"client_data": cd, "signing_key": k.jwk, "app_version": version,
	}, &iosInstall{att: att, k: k}
}

// issued is the exchange's answer.
type issued struct {
	Token     string `json:"token"`
	ExpiresIn int    `json:"expires_in"`
	InstallID string `json:"install_id"`
}

// exchange posts body to path and wants a token.
func (e *attestEnv) exchange(path string, body map[string]any, header map[string]string) issued {
	e.t.Helper()
	resp, out := e.post(path, body, header)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("%s: %d %s", path, resp.StatusCode, out)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		e.t.Errorf("%s: Cache-Control %q, want no-store", path, cc)
	}
	var is issued
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&is); err != nil || is.Token == "" || is.InstallID == "" {
		e.t.Fatalf("%s: body %s: %v", path, out, err)
	}
	return is
}

// iosToken runs the whole App Attest flow and returns the token.
func (e *attestEnv) iosToken(app, version string) (issued, *iosInstall) {
	e.t.Helper()
	body, in := e.appleBody(app, appattesttest.Production, version)
	return e.exchange("/v1/attest/apple", body, nil), in
}

// assertionBody builds an assertion refresh of an install.
func (e *attestEnv) assertionBody(app string, in *iosInstall, counter uint32, version string) map[string]any {
	e.t.Helper()
	cd, _ := in.k.clientData(e.challenge(app))
	raw, _ := base64.RawURLEncoding.DecodeString(cd)
	a := appattesttest.Assertion(in.att.Key, attTeam, attBundle, counter, raw)
	return map[string]any{
		"app": app, "key_id": in.att.KeyIDBase64(), "assertion": base64.StdEncoding.EncodeToString(a),
		"client_data": cd, "app_version": version,
	}
}

// androidBody builds an Android exchange in which the attested key is K.
func (e *attestEnv) androidBody(app string, edit func(*androidkeytest.Attestation)) map[string]any {
	e.t.Helper()
	k := newAppKey(e.t)
	cd, hash := k.clientData(e.challenge(app))
	a := androidkeytest.Attestation{
		Challenge: hash, Package: attPackage, VersionCode: 7, SigningCertDigests: [][]byte{attDigest},
		SecurityLevel: androidkey.TrustedEnvironment, Key: k.key,
	}
	if edit != nil {
		edit(&a)
	}
	var chain []string
	for _, der := range attAndroidAuthority().Attest(a).DER {
		chain = append(chain, base64.StdEncoding.EncodeToString(der))
	}
	return map[string]any{"app": app, "certificate_chain": chain, "client_data": cd, "app_version": "3.0.0"}
}

// mint signs an attestation token with iss at a given time, as the
// gateway would.
func mint(t *testing.T, iss *service.Issuer, c service.Claims, at time.Time, ttl time.Duration) string {
	t.Helper()
	tok, err := iss.Issue(c, at, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// api calls path with the token in header (Attestation-Token when empty)
// and extra headers.
func (e *attestEnv) api(path, tok string, header map[string]string) *http.Response {
	e.t.Helper()
	h := map[string]string{"Attestation-Token": tok}
	for k, v := range header {
		h[k] = v
	}
	if tok == "" {
		delete(h, "Attestation-Token")
	}
	return e.do(http.MethodGet, path, h, "")
}

func hits(u *upstream) int64 { return u.hits.Load() }

// loadYAML loads an attestation config, as `config check` does: parse,
// validate, compile without serving.
func loadYAML(t *testing.T, yaml string) error {
	t.Helper()
	keys := newAttestKeys(t)
	vars := map[string]string{
		"LISTEN": "127.0.0.1:0", "ADMIN_LISTEN": "127.0.0.1:0", "UPSTREAM": "http://127.0.0.1:1",
		"SIGNING_KEY": keys.file, "ANDROID_DIGEST": hex.EncodeToString(attDigest),
	}
	f, err := config.Parse("drawbridge.yaml", []byte(yaml), config.Source{LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
	if err != nil {
		return err
	}
	return gateway.Check(f)
}
