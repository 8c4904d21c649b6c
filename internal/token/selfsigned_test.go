package token_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/dpop/dpoptest"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

var b64 = base64.RawURLEncoding

// selfSign builds a compact JWS whose header is h (jwk included by the
// caller) over claims, signed with priv.
func selfSign(t *testing.T, h map[string]any, claims any, priv any) string {
	t.Helper()
	hb, _ := json.Marshal(h)
	pb, _ := json.Marshal(claims)
	input := b64.EncodeToString(hb) + "." + b64.EncodeToString(pb)
	var sig []byte
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		sum := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(input))
	}
	return input + "." + b64.EncodeToString(sig)
}

func ecJWK(pub *ecdsa.PublicKey) map[string]any {
	b, _ := pub.Bytes() // uncompressed point 0x04 || X || Y
	return map[string]any{"kty": "EC", "crv": "P-256", "x": b64.EncodeToString(b[1:33]), "y": b64.EncodeToString(b[33:])}
}

func TestVerifySelfSigned(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, ed, _ := ed25519.GenerateKey(rand.Reader)
	edJWK := map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(edPub)}
	claims := map[string]any{"jti": "j1", "htm": "GET", "htu": "https://api.test/x", "iat": 1700000000}
	opts := token.SelfSignedOptions{Algorithms: []string{"ES256", "EdDSA"}, Type: "dpop+jwt"}
	hdr := func(alg string, jwk map[string]any, extra ...any) map[string]any {
		h := map[string]any{"typ": "dpop+jwt", "alg": alg, "jwk": jwk}
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i+1] == nil {
				delete(h, extra[i].(string))
				continue
			}
			h[extra[i].(string)] = extra[i+1]
		}
		return h
	}
	good := selfSign(t, hdr("ES256", ecJWK(&ec.PublicKey)), claims, ec)
	p, err := token.VerifySelfSigned(good, opts)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := token.Thumbprint(&ec.PublicKey)
	if p.Thumbprint != want || p.Alg != "ES256" || p.Type != "dpop+jwt" || p.Claims.ID != "j1" {
		t.Fatalf("proof %+v, want thumbprint %s", p, want)
	}
	if _, ok := p.Header["jwk"]; !ok {
		t.Error("the returned header lost its jwk")
	}
	if p, err := token.VerifySelfSigned(selfSign(t, hdr("EdDSA", edJWK), claims, ed), opts); err != nil || p.Key.Type() != "OKP" {
		t.Fatalf("EdDSA: %v", err)
	}

	withPriv := ecJWK(&ec.PublicKey)
	withPriv["d"] = b64.EncodeToString(ec.D.FillBytes(make([]byte, 32)))
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	parts := strings.Split(good, ".")
	for _, tc := range []struct {
		name, raw, reason string
		opts              *token.SelfSignedOptions
	}{
		{"too large", good + strings.Repeat("A", 9000), token.ReasonTooLarge, nil},
		{"json serialisation", `{"payload":"e30"}`, token.ReasonJSONSerialization, nil},
		{"two parts", parts[0] + "." + parts[1], token.ReasonMalformed, nil},
		{"empty payload", parts[0] + ".." + parts[2], token.ReasonMalformed, nil},
		{"padding", parts[0] + "=." + parts[1] + "." + parts[2], token.ReasonBadEncoding, nil},
		{"alg none", selfSign(t, hdr("none", ecJWK(&ec.PublicKey)), claims, ec), token.ReasonAlgNone, nil},
		{"crit", selfSign(t, hdr("ES256", ecJWK(&ec.PublicKey), "crit", []string{"x"}), claims, ec), token.ReasonCritUnsupported, nil},
		{"kid", selfSign(t, hdr("ES256", ecJWK(&ec.PublicKey), "kid", "k1"), claims, ec), token.ReasonHeaderInjection, nil},
		{"jku", selfSign(t, hdr("ES256", ecJWK(&ec.PublicKey), "jku", "https://evil.test/k"), claims, ec), token.ReasonHeaderInjection, nil},
		{"x5c", selfSign(t, hdr("ES256", ecJWK(&ec.PublicKey), "x5c", []string{"MIIB"}), claims, ec), token.ReasonHeaderInjection, nil},
		{"wrong typ", selfSign(t, hdr("ES256", ecJWK(&ec.PublicKey), "typ", "JWT"), claims, ec), token.ReasonType, nil},
		{"no typ", selfSign(t, hdr("ES256", ecJWK(&ec.PublicKey), "typ", nil), claims, ec), token.ReasonType, nil},
		{"alg not listed", good, token.ReasonAlgNotAllowed, &token.SelfSignedOptions{Algorithms: []string{"EdDSA"}}},
		{"HMAC never", selfSign(t, hdr("HS256", map[string]any{"kty": "oct", "k": b64.EncodeToString(make([]byte, 32))}), claims, ec), token.ReasonAlgNotAllowed, &token.SelfSignedOptions{Algorithms: []string{"HS256"}}},
		{"no jwk", selfSign(t, hdr("ES256", nil, "jwk", nil), claims, ec), token.ReasonKeyMismatch, nil},
		{"private jwk", selfSign(t, hdr("ES256", withPriv), claims, ec), token.ReasonKeyMismatch, nil},
		{"jwk of another type", selfSign(t, hdr("ES256", edJWK), claims, ec), token.ReasonKeyMismatch, nil},
		{"jwk off the curve", selfSign(t, hdr("ES256", map[string]any{"kty": "EC", "crv": "P-256", "x": b64.EncodeToString(make([]byte, 32)), "y": b64.EncodeToString(make([]byte, 32))}), claims, ec), token.ReasonKeyMismatch, nil},
		{"another key signed", selfSign(t, hdr("ES256", ecJWK(&ec.PublicKey)), claims, other), token.ReasonBadSignature, nil},
		{"iat a string", selfSign(t, hdr("ES256", ecJWK(&ec.PublicKey)), map[string]any{"jti": "j", "iat": "now"}, ec), token.ReasonBadClaims, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts
			if tc.opts != nil {
				o = *tc.opts
			}
			_, err := token.VerifySelfSigned(tc.raw, o)
			wantReason(t, err, tc.reason)
		})
	}
}

func TestFindKeys(t *testing.T) {
	k, err := token.GenerateKey("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	set := token.NewKeySet(k)
	got, err := token.FindKeys(context.Background(), set, k.KID())
	if err != nil || len(got) != 1 || got[0] != k {
		t.Fatalf("FindKeys: %v %v", got, err)
	}
	_, err = token.FindKeys(context.Background(), set, "nope")
	wantReason(t, err, token.ReasonUnknownKID)
	if _, err := token.FindKeys(context.Background(), nil, "x"); err == nil {
		t.Fatal("a nil source found keys")
	}
}

// FuzzVerifySelfSigned: the proof parser never panics on attacker bytes,
// and every refusal carries a declared reason.
func FuzzVerifySelfSigned(f *testing.F) {
	k, err := dpoptest.NewKey("ES256")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(k.Proof("GET", "https://a.test/x"))
	f.Add("eyJhbGciOiJFUzI1NiJ9.e30.")
	f.Add("e30.e30.e30")
	declared := map[string]bool{}
	for _, r := range token.Reasons() {
		declared[r] = true
	}
	opts := token.SelfSignedOptions{Algorithms: []string{"ES256", "EdDSA", "PS256"}, Type: "dpop+jwt"}
	f.Fuzz(func(t *testing.T, raw string) {
		_, err := token.VerifySelfSigned(raw, opts)
		if err != nil && !declared[token.ReasonOf(err)] {
			t.Fatalf("undeclared reason for %q: %v", raw, err)
		}
	})
}
