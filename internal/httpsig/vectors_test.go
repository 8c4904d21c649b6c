package httpsig_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
)

// vectorsDir is where the shared test vectors live: $DRAWBRIDGE_VECTORS,
// or ../shared/vectors beside the checkout. They are read in place, never
// copied here. Under CI a missing directory fails the test; elsewhere the
// test skips, loudly.
func vectorsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("DRAWBRIDGE_VECTORS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "vectors")
	}
	if _, err := os.Stat(filepath.Join(dir, "standards", "rfc9421")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("RFC 9421 vectors missing under %s (set DRAWBRIDGE_VECTORS)", dir)
		}
		t.Skipf("SKIP: RFC 9421 vectors missing under %s (set DRAWBRIDGE_VECTORS); the RFC examples were NOT checked", dir)
	}
	return filepath.Join(dir, "standards", "rfc9421")
}

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorsDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vector is an RFC 9421 Appendix B example file.
type vector struct {
	Label               string `json:"label"`
	Alg                 string `json:"alg"`
	KeyID               string `json:"keyid"`
	MessageType         string `json:"message_type"`
	HTTPMessage         string `json:"http_message"`
	SignatureBase       string `json:"signature_base"`
	SignatureInputField string `json:"signature_input_field"`
	SignatureField      string `json:"signature_field"`
	SignatureB64        string `json:"signature_b64"`
	Deterministic       bool   `json:"deterministic"`
	Assembled           string `json:"signed_http_message_assembled"`
	SignedHTTPMessage   string `json:"signed_http_message"` // B.3
}

func loadVector(t testing.TB, name string) vector {
	t.Helper()
	var v vector
	if err := json.Unmarshal(readVector(t, name), &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func readMessage(t testing.TB, wire string) httpsig.Message {
	t.Helper()
	msg, err := httpsig.ReadMessage([]byte(wire), httpsig.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// vectorKeys resolves the RFC's keyids to their keys: the public PEM for
// RSA-PSS (Go's x509 refuses its private PEM), the JWKs otherwise.
func vectorKeys(t testing.TB) httpsig.StaticKeys {
	t.Helper()
	keys := httpsig.StaticKeys{}
	for id, file := range map[string]string{
		"test-key-rsa-pss":   "keys/test-key-rsa-pss.pub.pem",
		"test-key-ecc-p256":  "keys/test-key-ecc-p256.jwk.json",
		"test-key-ed25519":   "keys/test-key-ed25519.pub.pem",
		"test-shared-secret": "keys/test-shared-secret.b64",
	} {
		k, err := httpsig.ParseKey(readVector(t, file), "")
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		keys[id] = k
	}
	return keys
}

func signingKey(t testing.TB, file string) httpsig.SigningKey {
	t.Helper()
	k, err := httpsig.ParseSigningKey(readVector(t, file), "")
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return k
}

// rfcCreated is created in every Appendix B example.
var rfcCreated = time.Unix(1618884473, 0)

func at(t0 time.Time) func() time.Time { return func() time.Time { return t0 } }

func fieldValue(line string) string {
	_, v, _ := strings.Cut(line, ": ")
	return v
}

func TestAppendixB2(t *testing.T) {
	keys := vectorKeys(t)
	for _, n := range []string{"1", "2", "3", "4", "5", "6"} {
		name := "b_2_" + n
		t.Run(name, func(t *testing.T) {
			v := loadVector(t, name+".json")
			msg := readMessage(t, v.HTTPMessage)
			want := readVector(t, name+".sigbase.txt")
			if v.SignatureBase != string(want) {
				t.Fatalf("%s.json's signature_base differs from %s.sigbase.txt", name, name)
			}
			base, err := httpsig.Base(msg, fieldValue(v.SignatureInputField), v.Label)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(base, want) {
				t.Fatalf("signature base:\n%s\nwant:\n%s", base, want)
			}

			// The assembled message verifies under a policy requiring
			// no particular components; B.2.1 covers none at all.
			signed := readMessage(t, v.Assembled)
			ver := &httpsig.Verifier{Keys: keys, Now: at(rfcCreated.Add(2 * time.Second)), Required: []string{}, AllowEmpty: n == "1"}
			res, err := ver.Verify(t.Context(), signed)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.Label != v.Label || res.KeyID != v.KeyID || string(res.Algorithm) != v.Alg || !res.Created.Equal(rfcCreated) {
				t.Errorf("result %+v, want label %s keyid %s alg %s", res, v.Label, v.KeyID, v.Alg)
			}

			if v.Deterministic {
				file := map[string]string{"hmac-sha256": "keys/test-shared-secret.b64", "ed25519": "keys/test-key-ed25519.priv.pem"}[v.Alg]
				s := httpsig.Signer{Key: signingKey(t, file), Label: v.Label, Components: res.Covered}
				got, err := s.SignParams(msg, httpsig.Params{Created: rfcCreated, KeyID: v.KeyID})
				if err != nil {
					t.Fatal(err)
				}
				if got.Input != fieldValue(v.SignatureInputField) || got.Signature != fieldValue(v.SignatureField) {
					t.Errorf("re-signed:\n%s\n%s\nwant:\n%s\n%s", got.Input, got.Signature, v.SignatureInputField, v.SignatureField)
				}
			}
		})
	}
}

// B.2.1 verifies, but it covers nothing: a strict verifier refuses it.
func TestAppendixB21CoversNothing(t *testing.T) {
	v := loadVector(t, "b_2_1.json")
	ver := &httpsig.Verifier{Keys: vectorKeys(t), Now: at(rfcCreated)}
	_, err := ver.Verify(t.Context(), readMessage(t, v.Assembled))
	if got := httpsig.ReasonOf(err); got != httpsig.ReasonCoversNothing {
		t.Fatalf("B.2.1 under the default policy: %v, want %s", err, httpsig.ReasonCoversNothing)
	}
}

// B.3: a TLS-terminating proxy re-signs the request it forwards.
func TestAppendixB3(t *testing.T) {
	v := loadVector(t, "b_3_tls_terminating_proxy.json")
	msg := readMessage(t, v.SignedHTTPMessage)
	ver := &httpsig.Verifier{Keys: vectorKeys(t), Now: at(rfcCreated), Label: "ttrp", Required: []string{"@method", "@authority", "@path", "@query", "client-cert"}, Digest: httpsig.DigestIfPresent}
	res, err := ver.Verify(t.Context(), msg)
	if err != nil {
		t.Fatal(err)
	}
	input := fieldValue(strings.Split(v.SignedHTTPMessage, "\r\n")[6])
	base, err := httpsig.Base(msg, input, "ttrp")
	if err != nil || string(base) != v.SignatureBase {
		t.Fatalf("B.3 base %q, %v\nwant %q", base, err, v.SignatureBase)
	}
	if res.KeyID != "test-key-ecc-p256" {
		t.Errorf("keyid %q", res.KeyID)
	}
}

// B.4: transformations that keep the covered components keep the
// signature valid; the others break it.
func TestAppendixB4(t *testing.T) {
	var v struct {
		Cases []struct {
			Name          string `json:"name"`
			HTTPMessage   string `json:"http_message"`
			ExpectedValid bool   `json:"expected_valid"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(readVector(t, "b_4_transformations.json"), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) != 6 {
		t.Fatalf("%d B.4 cases, want 6", len(v.Cases))
	}
	ver := &httpsig.Verifier{Keys: vectorKeys(t), Now: at(rfcCreated)}
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			_, err := ver.Verify(t.Context(), readMessage(t, c.HTTPMessage))
			if c.ExpectedValid && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !c.ExpectedValid && httpsig.ReasonOf(err) != httpsig.ReasonInvalid {
				t.Fatalf("got %v, want %s", err, httpsig.ReasonInvalid)
			}
		})
	}
}

// test-response-as-printed.http carries the Content-Digest draft-19
// printed, which is not the body's (httpwg/http-extensions PR #2669).
func TestResponseAsPrintedDigest(t *testing.T) {
	good := readMessage(t, string(readVector(t, "test-response.http")))
	bad := readMessage(t, string(readVector(t, "test-response-as-printed.http")))
	var lim httpsig.Limits
	if alg, err := httpsig.CheckContentDigest([]string{fieldOf(good.Response.Fields, "Content-Digest")}, good.Response.Body, true, lim); err != nil || alg != "sha-512" {
		t.Fatalf("test-response.http digest: %q, %v", alg, err)
	}
	_, err := httpsig.CheckContentDigest([]string{fieldOf(bad.Response.Fields, "Content-Digest")}, bad.Response.Body, true, lim)
	if httpsig.ReasonOf(err) != httpsig.ReasonDigestMismatch {
		t.Fatalf("as-printed digest: %v, want %s", err, httpsig.ReasonDigestMismatch)
	}

	// Signed over the wrong digest, the signature itself is valid and the
	// digest check refuses the message.
	s := httpsig.Signer{Key: signingKey(t, "keys/test-key-ecc-p256.priv.pem"), KeyID: "test-key-ecc-p256", Now: at(rfcCreated)}
	signed, err := s.Sign(bad)
	if err != nil {
		t.Fatal(err)
	}
	if signed.ContentDigest != "" {
		t.Fatalf("Sign replaced the message's Content-Digest with %q", signed.ContentDigest)
	}
	msg := withSignature(bad, signed)
	ver := &httpsig.Verifier{Keys: vectorKeys(t), Now: at(rfcCreated)}
	if _, err := ver.Verify(t.Context(), msg); httpsig.ReasonOf(err) != httpsig.ReasonDigestMismatch {
		t.Fatalf("signed as-printed response: %v, want %s", err, httpsig.ReasonDigestMismatch)
	}

	// B.2.4's signature covers the correct digest: on the as-printed
	// response the base differs and the signature fails.
	b24 := loadVector(t, "b_2_4.json")
	printed := bad
	printed.Response.Fields = append(printed.Response.Fields,
		httpsig.Field{Name: "Signature-Input", Value: fieldValue(b24.SignatureInputField)},
		httpsig.Field{Name: "Signature", Value: fieldValue(b24.SignatureField)})
	if _, err := ver.Verify(t.Context(), printed); httpsig.ReasonOf(err) != httpsig.ReasonInvalid {
		t.Fatalf("B.2.4 signature on the as-printed response: %v, want %s", err, httpsig.ReasonInvalid)
	}
}

func fieldOf(fs []httpsig.Field, name string) string {
	for _, f := range fs {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// withSignature returns msg with the signature's fields added.
func withSignature(msg httpsig.Message, s httpsig.Signed) httpsig.Message {
	add := []httpsig.Field{{Name: "Signature-Input", Value: s.Input}, {Name: "Signature", Value: s.Signature}}
	if s.ContentDigest != "" {
		add = append(add, httpsig.Field{Name: "Content-Digest", Value: s.ContentDigest})
	}
	if msg.Response != nil {
		r := *msg.Response
		r.Fields = append(append([]httpsig.Field(nil), r.Fields...), add...)
		msg.Response = &r
		return msg
	}
	r := *msg.Request
	r.Fields = append(append([]httpsig.Field(nil), r.Fields...), add...)
	msg.Request = &r
	return msg
}
