// Package playintegritytest mints Play Integrity tokens for tests: the
// nested JWE(JWS) Google's servers produce, made with keys the test
// generates, since no real token is published with its keys.
//
// It is for tests only (this package's, the CLI's, the gateway's): it
// signs and encrypts whatever it is given, with whichever algorithm it is
// told, including ones no verifier may accept.
package playintegritytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// Keys are an app's Play Integrity keys, as Play Console would hold them.
type Keys struct {
	// Decryption is the 32-byte AES key (A256KW).
	Decryption []byte
	// Signing is Google's ES256 signing key; its public half is the app's
	// verification key.
	Signing *ecdsa.PrivateKey
}

// NewKeys generates a fresh pair of keys.
func NewKeys() (*Keys, error) {
	k := &Keys{Decryption: make([]byte, 32)}
	if _, err := rand.Read(k.Decryption); err != nil {
		return nil, err
	}
	var err error
	if k.Signing, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	return k, nil
}

// DecryptionKeyBase64 is the decryption key as Play Console shows it.
func (k *Keys) DecryptionKeyBase64() string {
	return base64.StdEncoding.EncodeToString(k.Decryption)
}

// VerificationKeyBase64 is the verification key as Play Console shows it:
// base64 of the DER SubjectPublicKeyInfo.
func (k *Keys) VerificationKeyBase64() string {
	der, err := x509.MarshalPKIXPublicKey(&k.Signing.PublicKey)
	if err != nil {
		panic(err) // a P-256 key always marshals
	}
	return base64.StdEncoding.EncodeToString(der)
}

// Mint returns the token Google would: payload signed with ES256 under
// k.Signing, the JWS encrypted with A256KW and A256GCM under k.Decryption.
func (k *Keys) Mint(payload []byte) (string, error) {
	jws, err := Sign(payload, k.Signing, "ES256")
	if err != nil {
		return "", err
	}
	return Encrypt([]byte(jws), k.Decryption, "A256KW", "A256GCM")
}

// MintJSON is Mint of v marshalled as JSON.
func (k *Keys) MintJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return k.Mint(b)
}

// Sign returns a compact JWS of payload with alg and key (any key the
// token core's NewKey takes: an *ecdsa.PrivateKey, a []byte HMAC secret
// ...). For alg "none" it returns an unsigned JWS.
func Sign(payload []byte, key any, alg string) (string, error) {
	if alg == "none" {
		enc := base64.RawURLEncoding
		return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString(payload) + ".", nil
	}
	k, err := token.NewKey(key, "", alg)
	if err != nil {
		return "", err
	}
	s, err := token.NewSigner(k, alg)
	if err != nil {
		return "", err
	}
	return s.SignBytes(payload, "")
}

// Encrypt returns a compact JWE of plaintext with the key-wrapping alg
// and content encryption enc under the symmetric key.
func Encrypt(plaintext, key []byte, alg, enc string) (string, error) {
	if len(key) == 0 {
		return "", errors.New("playintegritytest: no key")
	}
	k, err := token.NewKey(key, "", alg)
	if err != nil {
		return "", err
	}
	return token.Encrypt(plaintext, k, alg, enc, false)
}

// Verdict is a payload in Google's format (developer.android.com,
// "Integrity verdicts"), with the values a genuine app on a certified
// device would get. Tests change its fields, or its JSON, to make every
// other verdict.
type Verdict map[string]any

// NewVerdict returns a standard-request verdict for pkg: requestHash
// base64url(clientDataHash), timestamp at, PLAY_RECOGNIZED with the
// signing certificate digest and version code, basic and device
// integrity, LICENSED. int64 fields are strings, as Google writes them.
func NewVerdict(pkg string, clientDataHash, certDigest []byte, versionCode int64, at time.Time) Verdict {
	return Verdict{
		"requestDetails": map[string]any{
			"requestPackageName": pkg,
			"requestHash":        base64.RawURLEncoding.EncodeToString(clientDataHash),
			"timestampMillis":    strconv.FormatInt(at.UnixMilli(), 10),
		},
		"appIntegrity": map[string]any{
			"appRecognitionVerdict":   "PLAY_RECOGNIZED",
			"packageName":             pkg,
			"certificateSha256Digest": []any{base64.RawURLEncoding.EncodeToString(certDigest)},
			"versionCode":             strconv.FormatInt(versionCode, 10),
		},
		"deviceIntegrity": map[string]any{
			"deviceRecognitionVerdict": []any{"MEETS_BASIC_INTEGRITY", "MEETS_DEVICE_INTEGRITY"},
		},
		"accountDetails": map[string]any{
			"appLicensingVerdict": "LICENSED",
		},
		"environmentDetails": map[string]any{
			"appAccessRiskVerdict": map[string]any{"appsDetected": []any{"KNOWN_INSTALLED"}},
		},
	}
}

// Section returns the verdict's object name (requestDetails,
// appIntegrity ...), creating it if needed, so a test can set a field:
// v.Section("appIntegrity")["versionCode"] = "3".
func (v Verdict) Section(name string) map[string]any {
	m, ok := v[name].(map[string]any)
	if !ok {
		m = map[string]any{}
		v[name] = m
	}
	return m
}

// Digest is SHA-256 of b, a stand-in signing certificate digest.
func Digest(b string) []byte {
	d := sha256.Sum256([]byte(b))
	return d[:]
}
