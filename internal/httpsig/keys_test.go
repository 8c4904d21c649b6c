package httpsig_test

import (
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
)

func TestParseKeys(t *testing.T) {
	tests := []struct {
		file string
		alg  httpsig.Algorithm
		want httpsig.Algorithm
	}{
		{"keys/test-key-rsa-pss.pub.pem", "", httpsig.RSAPSSSHA512},
		{"keys/test-key-rsa-pss.priv.pem", "", httpsig.RSAPSSSHA512}, // id-RSASSA-PSS PKCS #8
		{"keys/test-key-rsa-pss.jwk.json", "", httpsig.RSAPSSSHA512},
		{"keys/test-key-rsa.pub.pem", httpsig.RSAV15SHA256, httpsig.RSAV15SHA256}, // PKCS #1
		{"keys/test-key-rsa.priv.pem", "", httpsig.RSAPSSSHA512},
		{"keys/test-key-ecc-p256.pub.pem", "", httpsig.ECDSAP256SHA256},
		{"keys/test-key-ecc-p256.priv.pem", "", httpsig.ECDSAP256SHA256}, // SEC 1
		{"keys/test-key-ecc-p256.jwk.json", "", httpsig.ECDSAP256SHA256},
		{"keys/test-key-ed25519.pub.pem", "", httpsig.Ed25519},
		{"keys/test-key-ed25519.priv.pem", "", httpsig.Ed25519},
		{"keys/test-key-ed25519.jwk.json", "", httpsig.Ed25519},
		{"keys/test-shared-secret.b64", "", httpsig.HMACSHA256},
	}
	for _, tt := range tests {
		k, err := httpsig.ParseKey(readVector(t, tt.file), tt.alg)
		if err != nil || k.Algorithm != tt.want {
			t.Errorf("%s: %v %v, want %s", tt.file, k.Algorithm, err, tt.want)
		}
	}
	// The PSS private key's public half is the published public key.
	pub, _ := httpsig.ParseKey(readVector(t, "keys/test-key-rsa-pss.pub.pem"), "")
	priv := signingKey(t, "keys/test-key-rsa-pss.priv.pem")
	if !priv.Public().Public.(*rsa.PublicKey).Equal(pub.Public) {
		t.Error("test-key-rsa-pss.priv.pem does not match its public key")
	}
	// Re-signing B.2.2 with it verifies.
	v := loadVector(t, "b_2_2.json")
	s := httpsig.Signer{Key: priv, Label: "sig-b22", Components: []string{"@authority", "content-digest", `@query-param;name="Pet"`}}
	signed, err := s.SignParams(readMessage(t, v.HTTPMessage), httpsig.Params{Created: rfcCreated, KeyID: "test-key-rsa-pss", Tag: "header-example"})
	if err != nil {
		t.Fatal(err)
	}
	if string(signed.Base) != v.SignatureBase {
		t.Fatalf("base %s", signed.Base)
	}
	ver := &httpsig.Verifier{Keys: vectorKeys(t), Now: at(rfcCreated), Required: []string{}}
	if _, err := ver.Verify(t.Context(), withSignature(readMessage(t, v.HTTPMessage), signed)); err != nil {
		t.Fatal(err)
	}

	for _, bad := range []struct {
		data string
		alg  httpsig.Algorithm
	}{
		{string(readVector(t, "keys/test-key-ed25519.pub.pem")), httpsig.HMACSHA256},
		{string(readVector(t, "keys/test-key-rsa-pss.pub.pem")), httpsig.Ed25519},
		{base64.StdEncoding.EncodeToString([]byte("too short")), ""},
		{"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", ""},
		{`{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}`, ""},
		{`{"kty":"OKP","crv":"X25519","x":"AAAA"}`, ""},
		{"not a key!", ""},
	} {
		if _, err := httpsig.ParseKey([]byte(bad.data), bad.alg); err == nil {
			t.Errorf("ParseKey(%.40q, %q) accepted", bad.data, bad.alg)
		} else if strings.Contains(err.Error(), "uzvJfB4u") {
			t.Errorf("error quotes key material: %v", err)
		}
	}
}
