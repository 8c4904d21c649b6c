// Package dpoptest makes DPoP proofs for tests and benchmarks, and reads
// RFC 9449's examples from the shared vectors. It is what a client does;
// the gateway never imports it.
package dpoptest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

var b64 = base64.RawURLEncoding

// Key is a client's DPoP key.
type Key struct {
	// Alg is ES256 or EdDSA.
	Alg string
	// Private signs the proofs.
	Private crypto.Signer
	// JWK is the public JWK the proofs carry.
	JWK map[string]any
	// JKT is its RFC 7638 thumbprint: what tokens bound to it name in
	// cnf.jkt.
	JKT string
	// Now is the clock for iat. If nil, time.Now.
	Now func() time.Time
}

// NewKey generates an ES256 or EdDSA key.
func NewKey(alg string) (*Key, error) {
	k := &Key{Alg: alg}
	switch alg {
	case "ES256":
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		pt, _ := priv.PublicKey.Bytes()
		k.Private = priv
		k.JWK = map[string]any{"kty": "EC", "crv": "P-256", "x": b64.EncodeToString(pt[1:33]), "y": b64.EncodeToString(pt[33:])}
	case "EdDSA":
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		k.Private = priv
		k.JWK = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(pub)}
	default:
		return nil, fmt.Errorf("dpoptest: ES256 or EdDSA, not %q", alg)
	}
	jkt, err := token.Thumbprint(k.Private.Public())
	if err != nil {
		return nil, err
	}
	k.JKT = jkt
	return k, nil
}

// Claims are a proof's claims; zero fields are filled in (a random jti,
// iat now) and empty strings left out.
type Claims struct {
	JTI         string
	Method, URI string
	IAT         time.Time
	AccessToken string // ath is its hash
	Nonce       string
}

// Proof returns a proof for method and uri, with a fresh jti.
func (k *Key) Proof(method, uri string) string {
	return k.ProofWith(Claims{Method: method, URI: uri}, nil)
}

// ProofWith returns a proof of c; header, if not nil, changes the header
// (a nil value removes a member) for tests of refusals.
func (k *Key) ProofWith(c Claims, header map[string]any) string {
	if c.JTI == "" {
		c.JTI = rand.Text()
	}
	if c.IAT.IsZero() {
		c.IAT = time.Now()
		if k.Now != nil {
			c.IAT = k.Now()
		}
	}
	payload := map[string]any{"jti": c.JTI, "htm": c.Method, "htu": c.URI, "iat": c.IAT.Unix()}
	if c.AccessToken != "" {
		sum := sha256.Sum256([]byte(c.AccessToken))
		payload["ath"] = b64.EncodeToString(sum[:])
	}
	if c.Nonce != "" {
		payload["nonce"] = c.Nonce
	}
	h := map[string]any{"typ": "dpop+jwt", "alg": k.Alg, "jwk": k.JWK}
	for name, v := range header {
		if v == nil {
			delete(h, name)
		} else {
			h[name] = v
		}
	}
	return k.Sign(h, payload)
}

// Sign signs any header and payload with k, as a compact JWS.
func (k *Key) Sign(header, payload map[string]any) string {
	hb, _ := json.Marshal(header)
	pb, _ := json.Marshal(payload)
	input := b64.EncodeToString(hb) + "." + b64.EncodeToString(pb)
	var sig []byte
	switch p := k.Private.(type) {
	case *ecdsa.PrivateKey:
		sum := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, p, sum[:])
		if err != nil {
			panic(err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case ed25519.PrivateKey:
		sig = ed25519.Sign(p, []byte(input))
	}
	return input + "." + b64.EncodeToString(sig)
}

// Vectors are RFC 9449's examples (the shared vectors'
// standards/rfc9449/dpop_examples.json).
type Vectors struct {
	JWK    map[string]any `json:"dpop_public_jwk"`
	JKT    string         `json:"jwk_thumbprint_sha256_jkt"`
	Proofs []struct {
		ID      string `json:"id"`
		Proof   string `json:"dpop_proof"`
		Context struct {
			Method string `json:"method"`
			URI    string `json:"uri"`
			Clock  int64  `json:"clock_for_acceptance"`
		} `json:"verification_context"`
		Payload map[string]any `json:"decoded_payload"`
	} `json:"proofs"`
	AccessToken string `json:"access_token_opaque"`
	Ath         string `json:"ath_for_access_token"`
	DPoPJKT     struct {
		JKT string `json:"dpop_jkt"`
	} `json:"dpop_jkt_authorization_request_example"`
	WWWAuthenticate []string `json:"www_authenticate_examples"`
}

// LoadVectors reads RFC 9449's examples from $DRAWBRIDGE_VECTORS, or
// ../shared/vectors beside the checkout. Missing vectors fail under
// CI=true and skip loudly otherwise.
func LoadVectors(t testing.TB) *Vectors {
	t.Helper()
	dir := os.Getenv("DRAWBRIDGE_VECTORS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "vectors")
	}
	p := filepath.Join(dir, "standards", "rfc9449", "dpop_examples.json")
	b, err := os.ReadFile(p)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("RFC 9449 vectors missing at %s (set DRAWBRIDGE_VECTORS): %v", p, err)
		}
		t.Skipf("!!! SKIPPING: RFC 9449 vectors missing at %s (set DRAWBRIDGE_VECTORS) !!!", p)
	}
	var v Vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Proofs) != 3 {
		t.Fatalf("RFC 9449 vectors: %d proofs, want 3", len(v.Proofs))
	}
	return &v
}
