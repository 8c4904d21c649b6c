package httpsig_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/url"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
	"github.com/drawbridge-gw/drawbridge/internal/testenv"
)

// nodeInterop returns testdata/node with npm's http-message-signatures
// installed in it (git-ignored), installing the latest release on first
// use. Without node and npm the test skips, loudly; under CI it fails.
func nodeInterop(t *testing.T) string {
	t.Helper()
	return filepath.Dir(testenv.NPM(t, filepath.Join("testdata", "node"), "http-message-signatures@latest"))
}

type nodeRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    *string           `json:"body,omitempty"`
}

type nodeCase struct {
	Op      string      `json:"op"`
	Alg     string      `json:"alg"`
	Key     string      `json:"key"`
	KeyID   string      `json:"keyid,omitempty"`
	Request nodeRequest `json:"request"`
	Fields  []string    `json:"fields,omitempty"`
}

type nodeResult struct {
	Headers map[string]string `json:"headers"`
	Valid   *bool             `json:"valid"`
	Error   string            `json:"error"`
}

func runNode(t *testing.T, dir string, cases []nodeCase) []nodeResult {
	t.Helper()
	in, err := json.Marshal(map[string]any{"cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "interop.js")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node interop.js: %v\n%s", err, stderr.Bytes())
	}
	var res []nodeResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(cases) {
		t.Fatalf("node interop.js printed %s (%v)", out, err)
	}
	return res
}

type interopKey struct {
	alg     httpsig.Algorithm
	signing httpsig.SigningKey
	privPEM string // or the base64 secret
	pubPEM  string
}

func interopKeys(t *testing.T) []interopKey {
	t.Helper()
	pemOf := func(typ string, der []byte, err error) string {
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	key := func(alg httpsig.Algorithm, priv crypto.Signer) interopKey {
		p8, err := x509.MarshalPKCS8PrivateKey(priv)
		spki, err2 := x509.MarshalPKIXPublicKey(priv.Public())
		if err2 != nil {
			t.Fatal(err2)
		}
		return interopKey{alg, httpsig.SigningKey{Algorithm: alg, Private: priv}, pemOf("PRIVATE KEY", p8, err), pemOf("PUBLIC KEY", spki, nil)}
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	b64 := base64.StdEncoding.EncodeToString(secret)
	return []interopKey{
		key(httpsig.Ed25519, ed),
		key(httpsig.ECDSAP256SHA256, ec),
		key(httpsig.RSAPSSSHA512, rs),
		{httpsig.HMACSHA256, httpsig.SigningKey{Algorithm: httpsig.HMACSHA256, Secret: secret}, b64, b64},
	}
}

// toRequest is the request Node signed, as the gateway would receive it.
func toRequest(t *testing.T, nr nodeRequest, headers map[string]string) *httpsig.Request {
	t.Helper()
	u, err := url.Parse(nr.URL)
	if err != nil {
		t.Fatal(err)
	}
	r := &httpsig.Request{Method: nr.Method, Target: u.RequestURI(), Scheme: u.Scheme, Authority: u.Host}
	for name, v := range headers {
		r.Fields = append(r.Fields, httpsig.Field{Name: name, Value: v})
	}
	if nr.Body != nil {
		r.Body = []byte(*nr.Body)
	}
	return r
}

// Requests signed by http-message-signatures verify here, and requests
// signed here verify there, for each algorithm both support.
func TestInteropNode(t *testing.T) {
	dir := nodeInterop(t)
	keys := interopKeys(t)
	body := `{"item":"book","qty":2}`
	nr := nodeRequest{
		Method: "POST", URL: "https://api.example.com:8443/v1/orders?id=7&lang=en",
		Headers: map[string]string{"Content-Type": "application/json", "Host": "api.example.com:8443"},
		Body:    &body,
	}
	fields := []string{"@method", "@authority", "@scheme", "@target-uri", "@request-target", "@path", "@query",
		`@query-param;name="id"`, "content-type", "content-digest"}

	var cases []nodeCase
	var signedHere []httpsig.Signed
	for _, k := range keys {
		// Node signs.
		cases = append(cases, nodeCase{Op: "sign", Alg: string(k.alg), Key: k.privPEM, KeyID: "k-" + string(k.alg), Request: nr, Fields: fields})
		// drawbridge signs; Node verifies it, and a tampered copy.
		s := &httpsig.Signer{Key: k.signing, KeyID: "k-" + string(k.alg), Components: fields, IncludeAlg: true, Validity: time.Minute, Nonce: true}
		signed, err := s.Sign(httpsig.Message{Request: toRequest(t, nr, nr.Headers)})
		if err != nil {
			t.Fatal(err)
		}
		signedHere = append(signedHere, signed)
		hdr := map[string]string{"Signature-Input": signed.Input, "Signature": signed.Signature, "Content-Digest": signed.ContentDigest}
		for n, v := range nr.Headers {
			hdr[n] = v
		}
		good := nodeRequest{Method: nr.Method, URL: nr.URL, Headers: hdr}
		tampered := good
		tampered.URL = "https://api.example.com:8443/v1/orders?id=8&lang=en"
		cases = append(cases,
			nodeCase{Op: "verify", Alg: string(k.alg), Key: k.pubPEM, Request: good},
			nodeCase{Op: "verify", Alg: string(k.alg), Key: k.pubPEM, Request: tampered})
	}
	res := runNode(t, dir, cases)

	resolver := httpsig.StaticKeys{}
	for _, k := range keys {
		resolver["k-"+string(k.alg)] = k.signing.Public()
	}
	ver := &httpsig.Verifier{Keys: resolver, Required: []string{`@query-param;name="id"`, "@method", "@authority", "@path"}}
	for i, k := range keys {
		t.Run(string(k.alg), func(t *testing.T) {
			signed, good, tampered := res[3*i], res[3*i+1], res[3*i+2]
			if signed.Error != "" {
				t.Fatalf("node sign: %s", signed.Error)
			}
			r, err := ver.Verify(t.Context(), httpsig.Message{Request: toRequest(t, nr, signed.Headers)})
			if err != nil {
				t.Fatalf("node-signed request refused: %v\nheaders %v", err, signed.Headers)
			}
			if r.Alg != k.alg || r.Digest != "sha-256" || len(r.Covered) != len(fields) {
				t.Errorf("node-signed result %+v", r)
			}
			bad := toRequest(t, nr, signed.Headers)
			bad.Method = "PUT"
			if _, err := ver.Verify(t.Context(), httpsig.Message{Request: bad}); httpsig.ReasonOf(err) != httpsig.ReasonInvalid {
				t.Errorf("node-signed request with another method: %v", err)
			}
			if good.Error != "" || good.Valid == nil || !*good.Valid {
				t.Errorf("node refused drawbridge's signature: %+v\n%s\n%s", good, signedHere[i].Input, signedHere[i].Base)
			}
			if tampered.Error != "" || tampered.Valid == nil || *tampered.Valid {
				t.Errorf("node on a tampered request: %+v, want valid false", tampered)
			}
		})
	}
}
