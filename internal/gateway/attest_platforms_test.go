package gateway_test

import (
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity/playintegritytest"
)

// Play Integrity and development attestation through the gateway, with
// the app's Play Console keys and development CA in the config as an
// operator would put them.
const platformsYAML = `
listen: ${LISTEN}
upstreams:
  app:
    url: ${UPSTREAM}
apps:
  shop-play:
    play:
      package: com.example.shop
      decryption_key: ${PLAY_DECRYPTION_KEY}
      verification_key: ${PLAY_VERIFICATION_KEY}
      signing_cert_digests: ["${ANDROID_DIGEST}"]
  shop-ci:
    dev: {ca_files: ["${DEV_CA}"]}
    environments: [production, development]
attestation:
  issuer: https://gw.test
  signing_keys: ["${SIGNING_KEY}"]
routes:
  - name: api
    match: {path_prefix: /api/}
    upstream: app
    policies:
      - attestation: {apps: [shop-play, shop-ci]}
`

func TestAttestationPlayAndDev(t *testing.T) {
	keys, err := playintegritytest.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	ca, caKey, err := devkey.NewCA(time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := devkey.WriteCA(dir, ca, caKey); err != nil {
		t.Fatal(err)
	}
	// The gateway gets the certificate only, never the CA key.
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pem, err := os.ReadFile(filepath.Join(dir, devkey.CACertFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, pem, 0o644); err != nil {
		t.Fatal(err)
	}
	e := startAttestEnv(t, platformsYAML, func(e *env) {
		e.vars["PLAY_DECRYPTION_KEY"] = keys.DecryptionKeyBase64()
		e.vars["PLAY_VERIFICATION_KEY"] = keys.VerificationKeyBase64()
		e.vars["DEV_CA"] = caFile
	})

	// Play Integrity.
	k := newAppKey(t)
	cd, hash := k.clientData(e.challenge("shop-play"))
	tok, err := keys.MintJSON(playintegritytest.NewVerdict(attPackage, hash, attDigest, 7, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"app": "shop-play", "integrity_token": tok, "client_data": cd, "signing_key": k.jwk, "app_version": "3.0.0"}
	is := e.exchange("/v1/attest/play", body, nil)
	if resp := e.api("/api/x", is.Token, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("Play token: %d", resp.StatusCode)
	}
	// The verdict of a device without integrity: the format's reason.
	cd, hash = k.clientData(e.challenge("shop-play"))
	v := playintegritytest.NewVerdict(attPackage, hash, attDigest, 7, time.Now())
	v.Section("deviceIntegrity")["deviceRecognitionVerdict"] = []any{}
	tok, _ = keys.MintJSON(v)
	resp, _ := e.post("/v1/attest/play", map[string]any{"app": "shop-play", "integrity_token": tok, "client_data": cd, "signing_key": k.jwk}, nil)
	wantProblem(t, resp, 403, "playintegrity.device_integrity")

	// Development attestation.
	att, err := devkey.NewAttestor(ca, caKey, "shop-ci", time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	k = newAppKey(t)
	cd, hash = k.clientData(e.challenge("shop-ci"))
	ev, err := att.Attest(hash)
	if err != nil {
		t.Fatal(err)
	}
	dev := map[string]any{
		"app": "shop-ci", "certificate_chain": []string{base64.StdEncoding.EncodeToString(ev.Chain[0])},
		"signature": base64.RawURLEncoding.EncodeToString(ev.Signature), "client_data": cd, "signing_key": k.jwk,
	}
	is = e.exchange("/v1/attest/dev", dev, nil)
	if resp := e.api("/api/x", is.Token, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("development token: %d", resp.StatusCode)
	}
	// A device the CA certified for another app.
	other, _ := devkey.NewAttestor(ca, caKey, "shop-play", time.Now(), 0)
	cd, hash = k.clientData(e.challenge("shop-ci"))
	ev, _ = other.Attest(hash)
	dev["certificate_chain"] = []string{base64.StdEncoding.EncodeToString(ev.Chain[0])}
	dev["signature"], dev["client_data"] = base64.RawURLEncoding.EncodeToString(ev.Signature), cd
	resp, _ = e.post("/v1/attest/dev", dev, nil)
	wantProblem(t, resp, 403, "devkey.wrong_app")
}

// A config whose Play keys or development CA are broken is refused, and
// the problems never quote a key.
func TestAttestationPlatformConfigProblems(t *testing.T) {
	yaml := strings.NewReplacer(
		"${PLAY_DECRYPTION_KEY}", "c2VjcmV0LWJ1dC10b28tc2hvcnQ=",
		"${PLAY_VERIFICATION_KEY}", "bm90IGEga2V5",
		"${DEV_CA}", filepath.Join(t.TempDir(), "missing.pem"),
	).Replace(platformsYAML)
	err := loadYAML(t, yaml)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"apps.shop-play.play.decryption_key", "apps.shop-play.play.verification_key", "apps.shop-ci.dev.ca_files[0]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problems lack %s:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "c2VjcmV0") {
		t.Error("a problem quotes the decryption key")
	}
}
