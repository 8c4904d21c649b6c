package playintegrity_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity"
)

func TestValidFacts(t *testing.T) {
	tok := mint(t, keys(t).app, mustJSON(t, synthVerdict()))
	r := playintegrity.Verify(tok, synthExpect(), synthPolicy(t), synthNow)
	want := attest.Result{Valid: true, Facts: attest.Facts{
		Platform:           "play",
		AppID:              synthPackage,
		AppVersion:         "9",
		SigningCertDigests: []string{hexOf(synthDigest)},
		Environment:        "production",
		BoundKey:           synthJKT,
		Integrity:          []string{basic, device, "app:PLAY_RECOGNIZED", "licensing:LICENSED"},
	}}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}

	// The bound key is a fact only when the nonce binds it.
	exp := synthExpect()
	exp.ClientDataHash = digestOf("other")
	if r := playintegrity.Verify(tok, exp, synthPolicy(t), synthNow); r.Facts.BoundKey != "" || r.Valid {
		t.Errorf("mismatched nonce: bound key %q valid %v", r.Facts.BoundKey, r.Valid)
	}

	v := synthVerdict()
	v["testingDetails"] = map[string]any{"isTestingResponse": true}
	tok = mint(t, keys(t).app, mustJSON(t, v))
	r = playintegrity.Verify(tok, synthExpect(), synthPolicy(t), synthNow)
	if got := r.Facts.Integrity[len(r.Facts.Integrity)-1]; got != "testing" {
		t.Errorf("test response facts: %v", r.Facts.Integrity)
	}
}

// TestMintedFormat checks that the tokens the tests mint have Google's
// shape: a five-part JWE with exactly alg A256KW and enc A256GCM, around
// a three-part JWS with exactly alg ES256.
func TestMintedFormat(t *testing.T) {
	k := keys(t).app
	tok := mint(t, k, mustJSON(t, synthVerdict()))
	parts := strings.Split(tok, ".")
	if len(parts) != 5 {
		t.Fatalf("%d parts", len(parts))
	}
	var h map[string]any
	b, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"alg": "A256KW", "enc": "A256GCM"}, h); diff != "" {
		t.Errorf("JWE header (-want +got):\n%s", diff)
	}
	jws, err := sign([]byte("{}"), k.Signing, "ES256")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = base64.RawURLEncoding.DecodeString(strings.Split(jws, ".")[0])
	if string(b) != `{"alg":"ES256"}` {
		t.Errorf("JWS header %s", b)
	}
}

func TestParseKeys(t *testing.T) {
	k := keys(t).app
	dec, err := playintegrity.ParseDecryptionKey(" " + k.DecryptionKeyBase64() + "\n")
	if err != nil || string(dec) != string(k.Decryption) {
		t.Fatalf("decryption key: %v", err)
	}
	urlForm := base64.RawURLEncoding.EncodeToString(k.Decryption)
	if dec, err := playintegrity.ParseDecryptionKey(urlForm); err != nil || string(dec) != string(k.Decryption) {
		t.Errorf("URL-safe decryption key: %v", err)
	}
	pub, err := playintegrity.ParseVerificationKey(k.VerificationKeyBase64())
	if err != nil || !pub.Equal(&k.Signing.PublicKey) {
		t.Fatalf("verification key: %v", err)
	}
	for _, bad := range []string{"", "!!!", base64.StdEncoding.EncodeToString(k.Decryption[:16]), k.VerificationKeyBase64()} {
		if _, err := playintegrity.ParseDecryptionKey(bad); err == nil {
			t.Errorf("decryption key %q accepted", bad)
		} else if strings.Contains(err.Error(), bad) && bad != "" {
			t.Errorf("error quotes the key: %v", err)
		}
	}
	p384, err := x509.MarshalPKIXPublicKey(keys(t).p384.Public())
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "!!!", k.DecryptionKeyBase64(), base64.StdEncoding.EncodeToString(p384)} {
		if _, err := playintegrity.ParseVerificationKey(bad); err == nil {
			t.Errorf("verification key %q accepted", bad)
		}
	}
}

// TestPolicySecret checks that neither printing a policy nor validating
// it shows the decryption key.
func TestPolicySecret(t *testing.T) {
	p := synthPolicy(t)
	p.DecryptionKey = []byte(strings.Repeat("S", 32))
	p.Package = ""
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%+v", p), fmt.Sprintf("%#v", p), p.Validate().Error()} {
		if strings.Contains(s, "SSSS") || strings.Contains(s, "83 83 83") {
			t.Errorf("the key shows: %s", s)
		}
	}
}

// TestVerifierConcurrent shares one compiled Verifier between goroutines
// (run under -race).
func TestVerifierConcurrent(t *testing.T) {
	v, err := playintegrity.New(synthPolicy(t))
	if err != nil {
		t.Fatal(err)
	}
	good := mint(t, keys(t).app, mustJSON(t, synthVerdict()))
	bad := mint(t, keys(t).other, mustJSON(t, synthVerdict()))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 20 {
				tok, want := good, true
				if i%2 == 1 {
					tok, want = bad, false
				}
				if r := v.Verify(tok, synthExpect(), synthNow); r.Valid != want {
					t.Errorf("valid %v, want %v: %v", r.Valid, want, r.Reasons)
				}
			}
		})
	}
	wg.Wait()
	if _, err := playintegrity.New(playintegrity.Policy{}); err == nil {
		t.Error("New accepted the zero policy")
	}
	var nilVerifier *playintegrity.Verifier
	if r := nilVerifier.Verify(good, synthExpect(), synthNow); r.Reason != playintegrity.ReasonInvalidPolicy {
		t.Errorf("nil verifier: %v", r.Reasons)
	}
}
