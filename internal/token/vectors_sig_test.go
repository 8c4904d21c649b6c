package token_test

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"slices"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// TestPASETOv4 runs all 17 official v4 vectors: v4.local decrypts (and
// re-encrypts byte for byte with the vector's nonce), v4.public verifies
// (and re-signs identically), and each 4-F-* is refused with its reason.
func TestPASETOv4(t *testing.T) {
	var v struct {
		Tests []struct {
			Name       string  `json:"name"`
			ExpectFail bool    `json:"expect-fail"`
			Key        string  `json:"key"`
			Nonce      string  `json:"nonce"`
			PublicKey  string  `json:"public-key"`
			SecretKey  string  `json:"secret-key"`
			Token      string  `json:"token"`
			Payload    *string `json:"payload"`
			Footer     string  `json:"footer"`
			Implicit   string  `json:"implicit-assertion"`
		} `json:"tests"`
	}
	if err := json.Unmarshal(readVector(t, "standards", "paseto", "v4.json"), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Tests) != 17 {
		t.Fatalf("want 17 vectors, found %d", len(v.Tests))
	}
	failReason := map[string]string{
		"4-F-1": token.ReasonKeyMismatch, // v4.local token, only a v4.public key
		"4-F-2": token.ReasonKeyMismatch, // v4.public token, only a v4.local key
		"4-F-3": token.ReasonMalformed,   // v3
		"4-F-4": token.ReasonBadEncoding, // non-canonical trailing bits
		"4-F-5": token.ReasonBadEncoding, // padding
	}
	passed := 0
	for _, tc := range v.Tests {
		t.Run(tc.Name, func(t *testing.T) {
			kid := ""
			var footer map[string]any
			if json.Unmarshal([]byte(tc.Footer), &footer) == nil {
				kid, _ = footer["kid"].(string)
			}
			var key *token.Key
			var err error
			if tc.Key != "" {
				kb, _ := hex.DecodeString(tc.Key)
				key, err = token.NewKey(kb, kid, token.AlgPASETOLocal)
			} else {
				pb, _ := hex.DecodeString(tc.PublicKey)
				key, err = token.NewKey(ed25519.PublicKey(pb), kid, token.AlgPASETOPublic)
			}
			if err != nil {
				t.Fatal(err)
			}
			ver, err := token.NewVerifier(token.Config{
				Issuers:                 []token.IssuerConfig{{Keys: []token.KeySource{token.NewKeySet(key)}, Algorithms: []string{token.AlgPASETOLocal, token.AlgPASETOPublic}}},
				Now:                     func() time.Time { return time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC) },
				PASETOImplicitAssertion: []byte(tc.Implicit),
			})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := ver.Verify(context.Background(), tc.Token)
			if tc.ExpectFail {
				wantReason(t, err, failReason[tc.Name])
				passed++
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			_ = json.Unmarshal([]byte(*tc.Payload), &want)
			if tok.Claims.Map()["data"] != want["data"] || tok.Claims.Expiry.IsZero() {
				t.Fatalf("claims = %v, want %v", tok.Claims.Map(), want)
			}
			switch {
			case tc.Key != "":
				kb, _ := hex.DecodeString(tc.Key)
				n, _ := hex.DecodeString(tc.Nonce)
				again, err := token.PASETOEncryptNonce(kb, n, []byte(*tc.Payload), []byte(tc.Footer), []byte(tc.Implicit))
				if err != nil || again != tc.Token {
					t.Fatalf("re-encrypted = %q, %v", again, err)
				}
			default:
				sk, _ := hex.DecodeString(tc.SecretKey)
				again := token.PASETOSign(ed25519.PrivateKey(sk), []byte(*tc.Payload), []byte(tc.Footer), []byte(tc.Implicit))
				if again != tc.Token {
					t.Fatalf("re-signed = %q", again)
				}
			}
			// After exp (2022-01-01) the token is refused.
			late, _ := token.NewVerifier(token.Config{
				Issuers:                 []token.IssuerConfig{{Keys: []token.KeySource{token.NewKeySet(key)}, Algorithms: []string{token.AlgPASETOLocal, token.AlgPASETOPublic}}},
				PASETOImplicitAssertion: []byte(tc.Implicit),
			})
			_, err = late.Verify(context.Background(), tc.Token)
			wantReason(t, err, token.ReasonExpired)
			passed++
		})
	}
	if passed != 17 {
		t.Errorf("%d of 17 PASETO vectors behaved as specified", passed)
	}
}

// TestWycheproofECDSAP1363 runs every P-256/SHA-256 P1363 vector through
// the core's signature check: valid ones verify, invalid ones (r=s=0 in
// tcId 11, wrong lengths, out-of-range values) are refused.
func TestWycheproofECDSAP1363(t *testing.T) {
	runWycheproofSig(t, "ecdsa_secp256r1_sha256_p1363_test.json", "ES256", 262)
}

// TestWycheproofEd25519 does the same for Ed25519, malleable S included.
func TestWycheproofEd25519(t *testing.T) {
	runWycheproofSig(t, "ed25519_test.json", "EdDSA", 151)
}

func runWycheproofSig(t *testing.T, file, alg string, want int) {
	var v struct {
		TestGroups []struct {
			PublicKeyJwk map[string]any `json:"publicKeyJwk"`
			PublicKeyPem string         `json:"publicKeyPem"`
			Tests        []struct {
				TcID   int    `json:"tcId"`
				Msg    string `json:"msg"`
				Sig    string `json:"sig"`
				Result string `json:"result"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	if err := json.Unmarshal(readVector(t, "standards", "wycheproof", file), &v); err != nil {
		t.Fatal(err)
	}
	n, valid, invalid := 0, 0, 0
	for _, g := range v.TestGroups {
		blk, _ := pem.Decode([]byte(g.PublicKeyPem))
		pk, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		k, err := token.NewKey(pk, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if g.PublicKeyJwk != nil {
			// Cross-check: the JWK is the same key.
			delete(g.PublicKeyJwk, "kid") // "none": a placeholder
			jk, err := token.ParseJWK(jsonOf(t, g.PublicKeyJwk))
			if err != nil || !slices.Equal(marshalPub(t, pk), marshalPub(t, jk.Public())) {
				t.Fatalf("group JWK: %v", err)
			}
		}
		for _, tc := range g.Tests {
			msg, _ := hex.DecodeString(tc.Msg)
			sig, _ := hex.DecodeString(tc.Sig)
			got := token.VerifySignature(alg, k, msg, sig)
			if got != (tc.Result == "valid") {
				t.Errorf("tcId %d: verified = %v, want result %s", tc.TcID, got, tc.Result)
			}
			if got {
				valid++
			} else {
				invalid++
			}
			n++
		}
	}
	if n != want {
		t.Fatalf("ran %d vectors, want %d", n, want)
	}
	t.Logf("%s: %d valid verified, %d invalid refused", file, valid, invalid)
}

func marshalPub(t testing.TB, pub any) []byte {
	b, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWycheproofECDHEPK runs the WebCrypto ECDH vectors' JWK peer keys
// through the JWE epk check: every valid key is accepted and yields the
// vector's shared secret; every invalid one (off-curve points, (0,0),
// other curves) is refused with token.jwe_bad_epk before any agreement.
func TestWycheproofECDHEPK(t *testing.T) {
	var v struct {
		TestGroups []struct {
			Tests []struct {
				TcID    int            `json:"tcId"`
				Public  map[string]any `json:"public"`
				Private map[string]any `json:"private"`
				Shared  string         `json:"shared"`
				Result  string         `json:"result"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	if err := json.Unmarshal(readVector(t, "standards", "wycheproof", "ecdh_secp256r1_webcrypto_test.json"), &v); err != nil {
		t.Fatal(err)
	}
	n, refused := 0, 0
	for _, g := range v.TestGroups {
		for _, tc := range g.Tests {
			n++
			epk, err := token.ParseEPK(tc.Public)
			if tc.Result != "valid" {
				if err == nil && epk.Curve() == ecdhP256() {
					t.Errorf("tcId %d: invalid peer key accepted", tc.TcID)
					continue
				}
				if err != nil {
					wantReason(t, err, token.ReasonJWEBadEPK)
				}
				refused++
				continue
			}
			if err != nil {
				t.Errorf("tcId %d: valid peer key refused: %v", tc.TcID, err)
				continue
			}
			delete(tc.Private, "kid")
			k, err := token.ParseJWK(jsonOf(t, tc.Private))
			if err != nil {
				t.Fatalf("tcId %d: %v", tc.TcID, err)
			}
			shared := ecdhWith(t, k, epk)
			if hex.EncodeToString(shared) != tc.Shared {
				t.Errorf("tcId %d: shared secret differs", tc.TcID)
			}
		}
	}
	if n != 353 || refused != 23 {
		t.Fatalf("ran %d vectors (want 353), refused %d (want 23)", n, refused)
	}

}
