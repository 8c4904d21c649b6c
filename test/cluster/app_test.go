package cluster

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
	"github.com/drawbridge-gw/drawbridge/internal/dpop/dpoptest"
	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// What every node of a cluster shares besides the stores: the token
// signing key, the development CA the app trusts, and the operators'
// admin token, each in a file the config names (docs/operations.md).
type fixtures struct {
	signingKey string // PEM private key file (attestation.signing_keys)
	caFile     string // the development CA certificate (apps.*.dev.ca_files)
	tokenFile  string // the admin token (admin.token: ${file:...})
	token      string
	ca         *x509.Certificate
	caKey      crypto.Signer
}

func newFixtures(t *testing.T) *fixtures {
	t.Helper()
	dir := t.TempDir()
	f := &fixtures{
		signingKey: filepath.Join(dir, "signing.pem"),
		caFile:     filepath.Join(dir, "devca.pem"),
		tokenFile:  filepath.Join(dir, "admin-token"),
		token:      rand.Text(),
	}
	key, err := token.GenerateKey("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := key.PrivatePEM()
	if err != nil {
		t.Fatal(err)
	}
	ca, caKey, err := devkey.NewCA(time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.ca, f.caKey = ca, caKey
	for name, b := range map[string][]byte{
		f.signingKey: priv,
		f.caFile:     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}),
		f.tokenFile:  []byte(f.token + "\n"),
	} {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// publicOrigin is the origin apps call, the load balancer's: every node
// verifies HTTP message signatures against it (signature.origin).
const (
	publicOrigin    = "https://api.cluster.test"
	publicAuthority = "api.cluster.test"
)

// device is an app install: a development device key certified by the
// test's CA, and its request-signing key K.
type device struct {
	att     *devkey.Attestor
	key     *dpoptest.Key
	signer  *httpsig.Signer
	token   string
	install string
}

func (f *fixtures) newDevice(t testing.TB, app string) *device {
	t.Helper()
	d, err := f.makeDevice(app)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// makeDevice is newDevice for goroutines other than the test's.
func (f *fixtures) makeDevice(app string) (*device, error) {
	att, err := devkey.NewAttestor(f.ca, f.caKey, app, time.Now(), 24*time.Hour)
	if err != nil {
		return nil, err
	}
	k, err := dpoptest.NewKey("ES256")
	if err != nil {
		return nil, err
	}
	return &device{att: att, key: k, signer: &httpsig.Signer{
		Key:   httpsig.SigningKey{Algorithm: httpsig.ECDSAP256SHA256, Private: k.Private.(*ecdsa.PrivateKey)},
		KeyID: k.JKT, Nonce: true,
		Components: []string{"@method", "@authority", "@path", "attestation-token"},
	}}, nil
}

// challenge asks n for a challenge for app.
func (c *cluster) challenge(n *node, app string) (string, reply, error) {
	b, _ := json.Marshal(map[string]string{"app": app})
	r, err := c.do(http.MethodPost, n.base+"/v1/attest/challenge", nil, b)
	if err != nil || r.status != http.StatusOK {
		return "", r, err
	}
	var ch struct {
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(r.body, &ch); err != nil || ch.Challenge == "" {
		return "", r, fmt.Errorf("challenge answer %s: %v", r.body, err)
	}
	return ch.Challenge, r, nil
}

// exchange sends d's development evidence over challenge to n; on
// success d holds the token and install id.
func (c *cluster) exchange(n *node, d *device, app, challenge, version string) (reply, error) {
	cd := service.FormatClientData(challenge, d.key.JKT)
	sum := sha256.Sum256(cd)
	ev, err := d.att.Attest(sum[:])
	if err != nil {
		return reply{}, err
	}
	var body map[string]any
	b, _ := json.Marshal(ev)
	_ = json.Unmarshal(b, &body)
	body["app"], body["client_data"], body["signing_key"], body["app_version"] =
		app, base64.RawURLEncoding.EncodeToString(cd), d.key.JWK, version
	b, _ = json.Marshal(body)
	r, err := c.do(http.MethodPost, n.base+"/v1/attest/dev", nil, b)
	if err != nil || r.status != http.StatusOK {
		return r, err
	}
	var out struct {
		Token   string `json:"token"`
		Install string `json:"install_id"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil || out.Token == "" {
		return r, fmt.Errorf("exchange answer %s: %v", r.body, err)
	}
	d.token, d.install = out.Token, out.Install
	return r, nil
}

// attest runs the whole flow, the challenge from one node and the
// exchange on another, and fails the test unless both succeed.
func (c *cluster) attest(from, to *node, d *device, app, version string) {
	c.t.Helper()
	ch, r, err := c.challenge(from, app)
	if err != nil || ch == "" {
		c.t.Fatalf("challenge from %s: %s %v", from.name, r, err)
	}
	if r, err := c.exchange(to, d, app, ch, version); err != nil || r.status != http.StatusOK {
		c.t.Fatalf("exchange on %s: %s %s %v", to.name, r, r.body, err)
	}
}

// signed returns the headers of a request to path signed with d's key K
// over the public origin, with a fresh nonce.
func (d *device) signed(method, path string) (map[string]string, error) {
	req := &httpsig.Request{Method: method, Target: path, Scheme: "https", Authority: publicAuthority,
		Fields: []httpsig.Field{{Name: "Attestation-Token", Value: d.token}}}
	s, err := d.signer.Sign(httpsig.Message{Request: req})
	if err != nil {
		return nil, err
	}
	return map[string]string{"Attestation-Token": d.token, "Signature-Input": s.Input, "Signature": s.Signature}, nil
}
