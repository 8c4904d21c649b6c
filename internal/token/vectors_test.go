package token_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// The external vectors in /work/shared/vectors/standards give the verdicts
// their README records; each test here runs them through the core.

func jsonOf(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keysOf parses a vector's "key": one JWK or an array of them.
func keysOf(t testing.TB, v any) *token.KeySet {
	t.Helper()
	var keys []*token.Key
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	for _, kv := range list {
		k, err := token.ParseJWK(jsonOf(t, kv))
		if err != nil {
			t.Fatalf("key: %v", err)
		}
		keys = append(keys, k)
	}
	return token.NewKeySet(keys...)
}

func serialise(t testing.TB, v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return string(jsonOf(t, v))
}

// TestRFC7520JWS runs the JOSE Cookbook's signatures (RFC 7520 §4.1-4.8),
// compact and JSON, through VerifyRaw with the algorithm enabled.
func TestRFC7520JWS(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(vectors(t, "standards", "rfc7520", "jws"), "*.json"))
	if len(files) != 8 {
		t.Fatalf("want 8 JWS vectors, found %d", len(files))
	}
	passed := 0
	for _, f := range files {
		var v struct {
			Input struct {
				Payload string `json:"payload"`
				Key     any    `json:"key"`
				Alg     any    `json:"alg"`
			} `json:"input"`
			Output map[string]any `json:"output"`
		}
		b, _ := os.ReadFile(f)
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		name := strings.SplitN(filepath.Base(f), ".", 2)[0]
		var algs []string
		switch a := v.Input.Alg.(type) {
		case string:
			algs = []string{a}
		case []any:
			for _, x := range a {
				algs = append(algs, x.(string))
			}
		}
		keys := keysOf(t, v.Input.Key)
		var detached []byte
		if name == "4_5" {
			detached = []byte(v.Input.Payload)
		}
		for form, out := range v.Output {
			t.Run(name+"/"+form, func(t *testing.T) {
				ver, err := token.NewVerifier(token.Config{
					Issuers:                []token.IssuerConfig{{Keys: []token.KeySource{keys}, Algorithms: algs}},
					AllowJSONSerialization: true,
				})
				if err != nil {
					t.Fatal(err)
				}
				obj, err := ver.VerifyRaw(context.Background(), serialise(t, out), detached)
				if err != nil {
					t.Fatalf("%s %s: %v", name, form, err)
				}
				if string(obj.Payload) != v.Input.Payload {
					t.Fatalf("payload = %q", obj.Payload)
				}
				passed++
				if form != "compact" {
					// Without the explicit opt-in, JSON serialisation is refused.
					strict, _ := token.NewVerifier(token.Config{Issuers: []token.IssuerConfig{{Keys: []token.KeySource{keys}, Algorithms: algs}}})
					_, err := strict.VerifyRaw(context.Background(), serialise(t, out), detached)
					wantReason(t, err, token.ReasonJSONSerialization)
				}
			})
		}
	}
	t.Logf("RFC 7520 JWS: %d serialisations verified", passed)
}

// TestRFC7520JWE decrypts the cookbook's encryptions (§5.1-5.13): with
// the algorithms enabled each decrypts; under the default policy RSA1_5,
// PBES2 and zip are refused with a policy reason, not a crypto failure.
func TestRFC7520JWE(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(vectors(t, "standards", "rfc7520", "jwe"), "*.json"))
	if len(files) != 13 {
		t.Fatalf("want 13 JWE vectors, found %d", len(files))
	}
	dummy := token.IssuerConfig{Keys: []token.KeySource{token.NewKeySet()}, Algorithms: []string{"ES256"}}
	passed := 0
	for _, f := range files {
		var v struct {
			Input struct {
				Plaintext string `json:"plaintext"`
				Key       any    `json:"key"`
				Pwd       string `json:"pwd"`
				Alg       any    `json:"alg"`
				Enc       string `json:"enc"`
				Zip       string `json:"zip"`
			} `json:"input"`
			Output map[string]any `json:"output"`
		}
		b, _ := os.ReadFile(f)
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		name := strings.SplitN(filepath.Base(f), ".", 2)[0]
		var keysets []*token.KeySet
		switch {
		case v.Input.Pwd != "":
			k, err := token.NewKey([]byte(v.Input.Pwd), "", "")
			if err != nil {
				t.Fatal(err)
			}
			keysets = []*token.KeySet{token.NewKeySet(k)}
		case name == "5_13":
			// One recipient at a time: each key alone decrypts.
			for _, k := range keysOf(t, v.Input.Key).Keys() {
				keysets = append(keysets, token.NewKeySet(k))
			}
		default:
			keysets = []*token.KeySet{keysOf(t, v.Input.Key)}
		}
		alg, _ := v.Input.Alg.(string)
		algs := []string{alg}
		if name == "5_13" {
			algs = []string{"RSA1_5", "ECDH-ES+A256KW", "A256GCMKW"}
			// The cookbook's input says "A128CBC-H256", a typo: the
			// protected header (eyJlbmMiOiJBMTI4Q0JDLUhTMjU2In0) says
			// A128CBC-HS256.
			v.Input.Enc = "A128CBC-HS256"
		}
		for form, out := range v.Output {
			for i, ks := range keysets {
				t.Run(name+"/"+form, func(t *testing.T) {
					ver, err := token.NewVerifier(token.Config{
						Issuers:                []token.IssuerConfig{dummy},
						JWE:                    &token.JWEConfig{Keys: ks, KeyAlgorithms: algs, ContentEncryption: []string{v.Input.Enc}, AllowZip: v.Input.Zip != ""},
						AllowJSONSerialization: true,
					})
					if err != nil {
						t.Fatal(err)
					}
					obj, err := ver.VerifyRaw(context.Background(), serialise(t, out), nil)
					if err != nil {
						t.Fatalf("%s %s key %d: %v", name, form, i, err)
					}
					if string(obj.Payload) != v.Input.Plaintext {
						t.Fatalf("plaintext = %q", obj.Payload)
					}
					passed++
				})
			}
		}
		// The default policy, with only the vector's enc added.
		policy := map[string]string{"5_1": token.ReasonJWEAlgNotAllowed, "5_3": token.ReasonJWEAlgNotAllowed, "5_9": token.ReasonJWEZip}
		if want, ok := policy[name]; ok {
			t.Run(name+"/default-policy", func(t *testing.T) {
				algs := append([]string(nil), token.DefaultJWEKeyAlgorithms...)
				if alg != "RSA1_5" && !strings.HasPrefix(alg, "PBES2") {
					algs = append(algs, alg)
				}
				ver, err := token.NewVerifier(token.Config{
					Issuers: []token.IssuerConfig{dummy},
					JWE:     &token.JWEConfig{Keys: keysets[0], KeyAlgorithms: algs, ContentEncryption: []string{v.Input.Enc}},
				})
				if err != nil {
					t.Fatal(err)
				}
				_, err = ver.VerifyRaw(context.Background(), v.Output["compact"].(string), nil)
				wantReason(t, err, want)
				// And the bearer path refuses it the same way.
				_, err = ver.Verify(context.Background(), v.Output["compact"].(string))
				wantReason(t, err, want)
			})
		}
	}
	t.Logf("RFC 7520 JWE: %d decryptions", passed)
}

// TestRFC7520Nesting runs §6 (a PS256 JWT inside an RSA-OAEP/A128GCM
// JWE) through the bearer path, claims and all, at a time before its exp.
func TestRFC7520Nesting(t *testing.T) {
	var v struct {
		Sign struct {
			Input struct {
				Key any    `json:"key"`
				Alg string `json:"alg"`
			} `json:"input"`
		} `json:"sign"`
		Encrypt struct {
			Input struct {
				Plaintext string `json:"plaintext"`
				Key       any    `json:"key"`
				Alg       string `json:"alg"`
				Enc       string `json:"enc"`
			} `json:"input"`
			Output map[string]any `json:"output"`
		} `json:"encrypt"`
	}
	if err := json.Unmarshal(readVector(t, "standards", "rfc7520", "6_nesting_signatures_and_encryption.json"), &v); err != nil {
		t.Fatal(err)
	}
	cfg := token.Config{
		Issuers: []token.IssuerConfig{{Issuer: "hobbiton.example", Keys: []token.KeySource{keysOf(t, v.Sign.Input.Key)}, Algorithms: []string{v.Sign.Input.Alg}}},
		JWE:     &token.JWEConfig{Keys: keysOf(t, v.Encrypt.Input.Key), KeyAlgorithms: []string{v.Encrypt.Input.Alg}, ContentEncryption: []string{v.Encrypt.Input.Enc}},
		Now:     func() time.Time { return time.Unix(1300819380-60, 0) },
	}
	ver, err := token.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ver.Verify(context.Background(), v.Encrypt.Output["compact"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Format != "JWE" || tok.Issuer != "hobbiton.example" || tok.Alg != "PS256" {
		t.Fatalf("token = %+v", tok)
	}
	if b, _ := tok.Claims.Get("http://example.com/is_root"); b != true {
		t.Fatalf("is_root claim = %v", b)
	}
	// After exp the same token is refused.
	cfg.Now = func() time.Time { return time.Unix(1300819380, 0) }
	late, _ := token.NewVerifier(cfg)
	_, err = late.Verify(context.Background(), v.Encrypt.Output["compact"].(string))
	wantReason(t, err, token.ReasonExpired)
	// The JSON forms decrypt to the same inner JWS when asked explicitly.
	cfg.AllowJSONSerialization = true
	cfg.Now = nil
	raw, _ := token.NewVerifier(cfg)
	for _, form := range []string{"json", "json_flat"} {
		obj, err := raw.VerifyRaw(context.Background(), serialise(t, v.Encrypt.Output[form]), nil)
		if err != nil {
			t.Fatalf("%s: %v", form, err)
		}
		if string(obj.Payload) != v.Encrypt.Input.Plaintext {
			t.Fatalf("%s: plaintext differs", form)
		}
		if _, err := raw.VerifyRaw(context.Background(), string(obj.Payload), nil); err != nil {
			t.Fatalf("%s inner: %v", form, err)
		}
	}
}

// TestRFC8037 verifies A.4 with A.2, reproduces A.4 by signing with A.1,
// and checks the A.3 thumbprint.
func TestRFC8037(t *testing.T) {
	var v map[string]any
	if err := json.Unmarshal(readVector(t, "standards", "rfc8037", "rfc8037_appendix_a.json"), &v); err != nil {
		t.Fatal(err)
	}
	pub, err := token.ParseJWK(jsonOf(t, v["A.2_public_jwk"]))
	if err != nil {
		t.Fatal(err)
	}
	compact := v["A.4_jws_compact"].(string)
	ver, err := token.NewVerifier(token.Config{Issuers: []token.IssuerConfig{{Keys: []token.KeySource{token.NewKeySet(pub)}, Algorithms: []string{"EdDSA"}}}})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := ver.VerifyRaw(context.Background(), compact, nil)
	if err != nil || string(obj.Payload) != v["A.4_payload"] {
		t.Fatalf("A.4: %v %q", err, obj)
	}
	priv, err := token.ParseJWK(jsonOf(t, v["A.1_private_jwk"]))
	if err != nil {
		t.Fatal(err)
	}
	s, err := token.NewSigner(priv, "EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.SignBytes([]byte(v["A.4_payload"].(string)), "")
	if err != nil || again != compact {
		t.Fatalf("re-signed A.4 = %q, %v; want %q", again, err, compact)
	}
	tp, err := token.Thumbprint(pub.Public())
	if err != nil || tp != v["A.3_thumbprint_sha256"] {
		t.Fatalf("A.3 thumbprint = %q, %v", tp, err)
	}
	// The cookbook copy verifies too.
	var cb struct {
		Output map[string]any `json:"output"`
	}
	_ = json.Unmarshal(readVector(t, "standards", "rfc8037", "a_4_ed25519_jws.json"), &cb)
	if _, err := ver.VerifyRaw(context.Background(), cb.Output["compact"].(string), nil); err != nil {
		t.Fatal(err)
	}
}
