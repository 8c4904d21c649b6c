package playintegrity_test

import (
	"crypto/ecdsa"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity"
)

// reasonCase is one verification: a token made from the default verdict
// (edited by verdict, or its JSON by payload, or made whole by token),
// checked under the default policy (edited by policy) and expectation.
type reasonCase struct {
	name    string
	verdict func(v verdict)
	payload func(b []byte) []byte
	token   func(t *testing.T, k *testKeys, payload []byte) string
	policy  func(p *playintegrity.Policy)
	exp     func(e *playintegrity.Expect)
	at      time.Time // zero: synthNow
	zeroAt  bool      // verify at the zero time
	want    []string  // nil: valid
}

func req(v verdict) map[string]any  { return v.Section("requestDetails") }
func app(v verdict) map[string]any  { return v.Section("appIntegrity") }
func dev(v verdict) map[string]any  { return v.Section("deviceIntegrity") }
func acct(v verdict) map[string]any { return v.Section("accountDetails") }

func labels(l ...string) func(verdict) {
	return func(v verdict) {
		list := []any{}
		for _, s := range l {
			list = append(list, s)
		}
		dev(v)["deviceRecognitionVerdict"] = list
	}
}

// replaceJSON edits the payload's JSON text.
func replaceJSON(old, new string) func([]byte) []byte {
	return func(b []byte) []byte { return []byte(strings.Replace(string(b), old, new, 1)) }
}

const (
	basic   = playintegrity.MeetsBasicIntegrity
	device  = playintegrity.MeetsDeviceIntegrity
	strong  = playintegrity.MeetsStrongIntegrity
	virtual = playintegrity.MeetsVirtualIntegrity
)

func reasonCases() []reasonCase {
	const (
		invalidPolicy  = playintegrity.ReasonInvalidPolicy
		tooLarge       = playintegrity.ReasonTooLarge
		malformedToken = playintegrity.ReasonMalformedToken
		algNotAllowed  = playintegrity.ReasonAlgNotAllowed
		decryptFailed  = playintegrity.ReasonDecryptFailed
		badSignature   = playintegrity.ReasonBadSignature
		malformed      = playintegrity.ReasonMalformedPayload
		duplicate      = playintegrity.ReasonDuplicateKey
		pkgMismatch    = playintegrity.ReasonPackageMismatch
		nonceMismatch  = playintegrity.ReasonNonceMismatch
		stale          = playintegrity.ReasonTimestampStale
		future         = playintegrity.ReasonTimestampInFuture
		testResponse   = playintegrity.ReasonTestingResponse
		notRecognized  = playintegrity.ReasonAppNotRecognized
		digest         = playintegrity.ReasonCertDigestNotAllowed
		version        = playintegrity.ReasonVersionTooOld
		integrity      = playintegrity.ReasonDeviceIntegrity
		unlicensed     = playintegrity.ReasonUnlicensed
	)
	otherHash := digestOf("another client data")
	withTS := func(at time.Time) func(verdict) {
		return func(v verdict) { req(v)["timestampMillis"] = itoa(at.UnixMilli()) }
	}
	return []reasonCase{
		{name: "valid standard request"},
		{name: "valid classic request", verdict: func(v verdict) {
			req(v)["nonce"] = req(v)["requestHash"]
			delete(req(v), "requestHash")
		}},
		{name: "valid padded requestHash", verdict: func(v verdict) { req(v)["requestHash"] = req(v)["requestHash"].(string) + "=" }},
		{name: "valid with integers as JSON numbers", verdict: func(v verdict) {
			req(v)["timestampMillis"] = synthNow.UnixMilli()
			app(v)["versionCode"] = 9
		}},
		{name: "valid with unknown members", verdict: func(v verdict) {
			dev(v)["recentDeviceActivity"] = map[string]any{"deviceActivityLevel": "LEVEL_1"}
			v["somethingNew"] = []any{1, "x", nil}
		}},

		// The policy and the expectation.
		{name: "no package", policy: func(p *playintegrity.Policy) { p.Package = "" }, want: []string{invalidPolicy}},
		{name: "short decryption key", policy: func(p *playintegrity.Policy) { p.DecryptionKey = p.DecryptionKey[:16] }, want: []string{invalidPolicy}},
		{name: "no verification key", policy: func(p *playintegrity.Policy) { p.VerificationKey = nil }, want: []string{invalidPolicy}},
		{name: "P-384 verification key", policy: func(p *playintegrity.Policy) {
			p.VerificationKey = &keysOnceP384().PublicKey
		}, want: []string{invalidPolicy}},
		{name: "no digests", policy: func(p *playintegrity.Policy) { p.SigningCertDigests = nil }, want: []string{invalidPolicy}},
		{name: "short digest", policy: func(p *playintegrity.Policy) { p.SigningCertDigests = [][]byte{{1, 2, 3}} }, want: []string{invalidPolicy}},
		{name: "negative minimum version", policy: func(p *playintegrity.Policy) { p.MinVersionCode = -1 }, want: []string{invalidPolicy}},
		{name: "unknown device level", policy: func(p *playintegrity.Policy) { p.DeviceIntegrity = virtual }, want: []string{invalidPolicy}},
		{name: "negative max age", policy: func(p *playintegrity.Policy) { p.MaxAge = -time.Second }, want: []string{invalidPolicy}},
		{name: "huge future skew", policy: func(p *playintegrity.Policy) { p.FutureSkew = time.Hour }, want: []string{invalidPolicy}},
		{name: "negative token cap", policy: func(p *playintegrity.Policy) { p.MaxTokenBytes = -1 }, want: []string{invalidPolicy}},
		{name: "short client data hash", exp: func(e *playintegrity.Expect) { e.ClientDataHash = e.ClientDataHash[:31] }, want: []string{invalidPolicy}},
		{name: "zero verification time", zeroAt: true, want: []string{invalidPolicy}},

		// The token: size, structure, algorithms, keys.
		{name: "token over the default cap", verdict: func(v verdict) {
			v["environmentDetails"] = map[string]any{"padding": strings.Repeat("x", playintegrity.DefaultMaxTokenBytes)}
		}, want: []string{tooLarge}},
		{name: "token over a policy cap", policy: func(p *playintegrity.Policy) { p.MaxTokenBytes = 256 }, want: []string{tooLarge}},
		{name: "empty token", token: func(*testing.T, *testKeys, []byte) string { return "" }, want: []string{malformedToken}},
		{name: "signed but not encrypted", token: func(t *testing.T, k *testKeys, p []byte) string {
			jws, err := sign(p, k.app.Signing, "ES256")
			if err != nil {
				t.Fatal(err)
			}
			return jws
		}, want: []string{malformedToken}},
		{name: "JSON serialisation", token: func(*testing.T, *testKeys, []byte) string { return `{"protected":"e30","ciphertext":"a.b.c.d"}` }, want: []string{malformedToken}},
		{name: "padded segment", token: func(t *testing.T, k *testKeys, p []byte) string {
			parts := strings.Split(mint(t, k.app, p), ".")
			parts[2] += "=="
			return strings.Join(parts, ".")
		}, want: []string{malformedToken}},
		{name: "jku in the JWE header", token: func(t *testing.T, k *testKeys, p []byte) string {
			return replacePart(mint(t, k.app, p), 0, `{"alg":"A256KW","enc":"A256GCM","jku":"https://evil.test/k"}`)
		}, want: []string{malformedToken}},
		{name: "duplicate member in the JWE header", token: func(t *testing.T, k *testKeys, p []byte) string {
			return replacePart(mint(t, k.app, p), 0, `{"alg":"A256KW","enc":"A256GCM","enc":"A128GCM"}`)
		}, want: []string{malformedToken}},
		{name: "zip in the JWE header", token: func(t *testing.T, k *testKeys, p []byte) string {
			return replacePart(mint(t, k.app, p), 0, `{"alg":"A256KW","enc":"A256GCM","zip":"DEF"}`)
		}, want: []string{malformedToken}},
		{name: "kid naming no key", token: func(t *testing.T, k *testKeys, p []byte) string {
			return replacePart(mint(t, k.app, p), 0, `{"alg":"A256KW","enc":"A256GCM","kid":"play-2025"}`)
		}, want: []string{malformedToken}},
		{name: "plaintext is not a JWS", token: func(t *testing.T, k *testKeys, p []byte) string {
			jwe, err := encrypt(p, k.app.Decryption, "A256KW", "A256GCM")
			if err != nil {
				t.Fatal(err)
			}
			return jwe
		}, want: []string{malformedToken}},
		{name: "JWE in a JWE", token: func(t *testing.T, k *testKeys, p []byte) string {
			jwe, err := encrypt([]byte(mint(t, k.app, p)), k.app.Decryption, "A256KW", "A256GCM")
			if err != nil {
				t.Fatal(err)
			}
			return jwe
		}, want: []string{malformedToken}},
		{name: "crit in the JWS header", token: func(t *testing.T, k *testKeys, p []byte) string {
			jws := b64url(`{"alg":"ES256","crit":["exp"]}`) + "." + b64url(string(p)) + "." + b64url(strings.Repeat("s", 64))
			jwe, _ := encrypt([]byte(jws), k.app.Decryption, "A256KW", "A256GCM")
			return jwe
		}, want: []string{malformedToken}},

		{name: "JWE A128KW", token: func(t *testing.T, k *testKeys, p []byte) string {
			return nested(t, p, k.app.Signing, "ES256", k.app.Decryption[:16], "A128KW", "A256GCM")
		}, want: []string{algNotAllowed}},
		{name: "JWE dir", token: func(t *testing.T, k *testKeys, p []byte) string {
			return nested(t, p, k.app.Signing, "ES256", k.app.Decryption, "dir", "A256GCM")
		}, want: []string{algNotAllowed}},
		{name: "JWE A256GCMKW", token: func(t *testing.T, k *testKeys, p []byte) string {
			return nested(t, p, k.app.Signing, "ES256", k.app.Decryption, "A256GCMKW", "A256GCM")
		}, want: []string{algNotAllowed}},
		{name: "JWE enc A128GCM", token: func(t *testing.T, k *testKeys, p []byte) string {
			return nested(t, p, k.app.Signing, "ES256", k.app.Decryption, "A256KW", "A128GCM")
		}, want: []string{algNotAllowed}},
		{name: "JWE enc A256CBC-HS512", token: func(t *testing.T, k *testKeys, p []byte) string {
			return nested(t, p, k.app.Signing, "ES256", k.app.Decryption, "A256KW", "A256CBC-HS512")
		}, want: []string{algNotAllowed}},
		{name: "JWS ES384", token: func(t *testing.T, k *testKeys, p []byte) string {
			return nested(t, p, k.p384, "ES384", k.app.Decryption, "A256KW", "A256GCM")
		}, want: []string{algNotAllowed}},
		{name: "JWS HS256 keyed with the decryption key", token: func(t *testing.T, k *testKeys, p []byte) string {
			return nested(t, p, k.app.Decryption, "HS256", k.app.Decryption, "A256KW", "A256GCM")
		}, want: []string{algNotAllowed}},
		{name: "JWS none", token: func(t *testing.T, k *testKeys, p []byte) string {
			return nested(t, p, nil, "none", k.app.Decryption, "A256KW", "A256GCM")
		}, want: []string{algNotAllowed}},

		{name: "other decryption key", token: func(t *testing.T, k *testKeys, p []byte) string {
			return nested(t, p, k.app.Signing, "ES256", k.other.Decryption, "A256KW", "A256GCM")
		}, want: []string{decryptFailed}},
		{name: "empty wrapped key", token: func(t *testing.T, k *testKeys, p []byte) string {
			parts := strings.Split(mint(t, k.app, p), ".")
			parts[1] = "" // what "dir" sends; A256KW has nothing to unwrap
			return strings.Join(parts, ".")
		}, want: []string{decryptFailed}},
		{name: "tampered wrapped key", token: func(t *testing.T, k *testKeys, p []byte) string { return flip(mint(t, k.app, p), 1) }, want: []string{decryptFailed}},
		{name: "tampered IV", token: func(t *testing.T, k *testKeys, p []byte) string { return flip(mint(t, k.app, p), 2) }, want: []string{decryptFailed}},
		{name: "tampered ciphertext", token: func(t *testing.T, k *testKeys, p []byte) string { return flip(mint(t, k.app, p), 3) }, want: []string{decryptFailed}},
		{name: "tampered tag", token: func(t *testing.T, k *testKeys, p []byte) string { return flip(mint(t, k.app, p), 4) }, want: []string{decryptFailed}},
		{name: "header swapped (authenticated data)", token: func(t *testing.T, k *testKeys, p []byte) string {
			return replacePart(mint(t, k.app, p), 0, `{"enc":"A256GCM","alg":"A256KW"}`)
		}, want: []string{decryptFailed}},

		{name: "other signing key", token: func(t *testing.T, k *testKeys, p []byte) string {
			return nested(t, p, k.other.Signing, "ES256", k.app.Decryption, "A256KW", "A256GCM")
		}, want: []string{badSignature}},
		{name: "payload changed under the signature", token: func(t *testing.T, k *testKeys, p []byte) string {
			jws, err := sign(p, k.app.Signing, "ES256")
			if err != nil {
				t.Fatal(err)
			}
			jwe, _ := encrypt([]byte(flip(jws, 1)), k.app.Decryption, "A256KW", "A256GCM")
			return jwe
		}, want: []string{badSignature}},

		// The payload's JSON.
		{name: "payload not JSON", payload: func([]byte) []byte { return []byte("MEETS_DEVICE_INTEGRITY") }, want: []string{malformed}},
		{name: "payload an array", payload: func(b []byte) []byte { return append(append([]byte("["), b...), ']') }, want: []string{malformed}},
		{name: "trailing data", payload: func(b []byte) []byte { return append(b, []byte(`{}`)...) }, want: []string{malformed}},
		{name: "invalid UTF-8", payload: replaceJSON(synthPackage, "com.example.\xff"), want: []string{malformed}},
		{name: "no requestDetails", verdict: func(v verdict) { delete(v, "requestDetails") }, want: []string{malformed}},
		{name: "no appIntegrity", verdict: func(v verdict) { delete(v, "appIntegrity") }, want: []string{malformed}},
		{name: "deviceIntegrity a list", verdict: func(v verdict) { v["deviceIntegrity"] = []any{device} }, want: []string{malformed}},
		{name: "no timestamp", verdict: func(v verdict) { delete(req(v), "timestampMillis") }, want: []string{malformed}},
		{name: "timestamp not digits", verdict: func(v verdict) { req(v)["timestampMillis"] = "1.7e12" }, want: []string{malformed}},
		{name: "negative timestamp", verdict: func(v verdict) { req(v)["timestampMillis"] = "-1" }, want: []string{malformed}},
		{name: "timestamp overflows", verdict: func(v verdict) { req(v)["timestampMillis"] = "9999999999999999999" }, want: []string{malformed}},
		{name: "version a float", verdict: func(v verdict) { app(v)["versionCode"] = 9.5 }, want: []string{malformed}},
		{name: "labels a string", verdict: func(v verdict) { dev(v)["deviceRecognitionVerdict"] = device }, want: []string{malformed}},
		{name: "label not upper case", verdict: labels("meets_device_integrity"), want: []string{malformed}},
		{name: "too many labels", verdict: labels(slices.Repeat([]string{device}, 17)...), want: []string{malformed}},
		{name: "digest list of numbers", verdict: func(v verdict) { app(v)["certificateSha256Digest"] = []any{1} }, want: []string{malformed}},
		{name: "package a number", verdict: func(v verdict) { req(v)["requestPackageName"] = 7 }, want: []string{malformed}},
		{name: "isTestingResponse a string", verdict: func(v verdict) {
			v["testingDetails"] = map[string]any{"isTestingResponse": "true"}
		}, want: []string{malformed}},
		{name: "nested too deep", verdict: func(v verdict) {
			var deep any = "x"
			for range 20 {
				deep = []any{deep}
			}
			v["environmentDetails"] = map[string]any{"deep": deep}
		}, want: []string{malformed}},
		{name: "duplicate top-level member", payload: replaceJSON(`"appIntegrity":`, `"appIntegrity":{"appRecognitionVerdict":"PLAY_RECOGNIZED"},"appIntegrity":`), want: []string{duplicate}},
		{name: "duplicate nonce", payload: replaceJSON(`"requestHash":`, `"requestHash":"x","requestHash":`), want: []string{duplicate}},

		// The verdict.
		{name: "other request package", verdict: func(v verdict) { req(v)["requestPackageName"] = "com.evil.shop" }, want: []string{pkgMismatch}},
		{name: "other app package", verdict: func(v verdict) { app(v)["packageName"] = "com.evil.shop" }, want: []string{pkgMismatch}},
		{name: "recognized app without a package", verdict: func(v verdict) { delete(app(v), "packageName") }, want: []string{pkgMismatch}},
		{name: "package differs in case", verdict: func(v verdict) { req(v)["requestPackageName"] = "com.example.Shop" }, want: []string{pkgMismatch}},

		{name: "requestHash of other client data", verdict: func(v verdict) { req(v)["requestHash"] = b64url(string(otherHash)) }, want: []string{nonceMismatch}},
		{name: "requestHash the raw challenge", verdict: func(v verdict) { req(v)["requestHash"] = "q3T2Zk1xYz" }, want: []string{nonceMismatch}},
		{name: "requestHash in standard base64", verdict: func(v verdict) { req(v)["requestHash"] = stdB64(synthHash) }, want: []string{nonceMismatch}},
		{name: "nonce and requestHash", verdict: func(v verdict) { req(v)["nonce"] = req(v)["requestHash"] }, want: []string{nonceMismatch}},
		{name: "neither nonce nor requestHash", verdict: func(v verdict) { delete(req(v), "requestHash") }, want: []string{nonceMismatch}},
		{name: "expected another hash", exp: func(e *playintegrity.Expect) { e.ClientDataHash = otherHash }, want: []string{nonceMismatch}},

		{name: "two minutes old", verdict: withTS(synthNow.Add(-2 * time.Minute))},
		{name: "stale", verdict: withTS(synthNow.Add(-2*time.Minute - time.Millisecond)), want: []string{stale}},
		{name: "an hour old, max age two hours", verdict: withTS(synthNow.Add(-time.Hour)), policy: func(p *playintegrity.Policy) { p.MaxAge = 2 * time.Hour }},
		{name: "verified a day later", at: synthNow.Add(24 * time.Hour), want: []string{stale}},
		{name: "ahead within skew", verdict: withTS(synthNow.Add(playintegrity.DefaultFutureSkew))},
		{name: "in the future", verdict: withTS(synthNow.Add(playintegrity.DefaultFutureSkew + time.Millisecond)), want: []string{future}},
		{name: "ahead with skew disabled", verdict: withTS(synthNow.Add(time.Millisecond)), policy: func(p *playintegrity.Policy) { p.FutureSkew = -1 }, want: []string{future}},

		{name: "test response", verdict: func(v verdict) { v["testingDetails"] = map[string]any{"isTestingResponse": true} }, want: []string{testResponse}},
		{name: "test response allowed", verdict: func(v verdict) { v["testingDetails"] = map[string]any{"isTestingResponse": true} },
			policy: func(p *playintegrity.Policy) { p.AllowTestingResponse = true }},
		{name: "testingDetails false", verdict: func(v verdict) { v["testingDetails"] = map[string]any{"isTestingResponse": false} }},

		{name: "unrecognized version", verdict: func(v verdict) { app(v)["appRecognitionVerdict"] = "UNRECOGNIZED_VERSION" }, want: []string{notRecognized}},
		{name: "unrecognized version allowed", verdict: func(v verdict) { app(v)["appRecognitionVerdict"] = "UNRECOGNIZED_VERSION" },
			policy: func(p *playintegrity.Policy) { p.AllowUnrecognizedVersion = true }},
		{name: "unevaluated", verdict: func(v verdict) { v["appIntegrity"] = map[string]any{"appRecognitionVerdict": "UNEVALUATED"} },
			policy: func(p *playintegrity.Policy) { p.AllowUnrecognizedVersion = true }, want: []string{notRecognized, digest, version}},
		{name: "unknown recognition verdict", verdict: func(v verdict) { app(v)["appRecognitionVerdict"] = "PLAY_RECOGNISED" }, want: []string{notRecognized}},

		{name: "other signing digest", verdict: func(v verdict) { app(v)["certificateSha256Digest"] = []any{b64url(string(otherHash))} }, want: []string{digest}},
		{name: "one of two digests unknown", verdict: func(v verdict) {
			app(v)["certificateSha256Digest"] = []any{b64url(string(synthDigest)), b64url(string(otherHash))}
		}, want: []string{digest}},
		{name: "empty digest list", verdict: func(v verdict) { app(v)["certificateSha256Digest"] = []any{} }, want: []string{digest}},
		{name: "digest not a digest", verdict: func(v verdict) { app(v)["certificateSha256Digest"] = []any{"6a6a1474b5cbbb2b1aa57e0bc3"} }, want: []string{digest}},
		{name: "digest in hex", verdict: func(v verdict) { app(v)["certificateSha256Digest"] = []any{hexOf(synthDigest)} }},
		{name: "digest padded", verdict: func(v verdict) { app(v)["certificateSha256Digest"] = []any{b64url(string(synthDigest)) + "="} }},
		{name: "rotated: policy lists old and new", policy: func(p *playintegrity.Policy) {
			p.SigningCertDigests = append([][]byte{otherHash}, p.SigningCertDigests...)
		}},

		{name: "version too old", verdict: func(v verdict) { app(v)["versionCode"] = "6" }, want: []string{version}},
		{name: "no version with a minimum", verdict: func(v verdict) { delete(app(v), "versionCode") }, want: []string{version}},
		{name: "no version, no minimum", verdict: func(v verdict) { delete(app(v), "versionCode") }, policy: func(p *playintegrity.Policy) { p.MinVersionCode = 0 }},

		{name: "basic only", verdict: labels(basic), want: []string{integrity}},
		{name: "no labels", verdict: labels(), want: []string{integrity}},
		{name: "labels absent", verdict: func(v verdict) { v["deviceIntegrity"] = map[string]any{} }, want: []string{integrity}},
		{name: "device only, strong asked", verdict: labels(basic, device), policy: func(p *playintegrity.Policy) { p.DeviceIntegrity = strong }, want: []string{integrity}},
		{name: "strong", verdict: labels(basic, device, strong), policy: func(p *playintegrity.Policy) { p.DeviceIntegrity = strong }},
		{name: "basic allowed", verdict: labels(basic), policy: func(p *playintegrity.Policy) { p.DeviceIntegrity = basic }},
		{name: "virtual", verdict: labels(virtual), want: []string{integrity}},
		{name: "virtual allowed", verdict: labels(virtual), policy: func(p *playintegrity.Policy) { p.AllowVirtual = true }},
		{name: "virtual allowed, strong asked", verdict: labels(virtual), policy: func(p *playintegrity.Policy) { p.AllowVirtual, p.DeviceIntegrity = true, strong }, want: []string{integrity}},

		{name: "unlicensed", verdict: func(v verdict) { acct(v)["appLicensingVerdict"] = "UNLICENSED" },
			policy: func(p *playintegrity.Policy) { p.RequireLicensed = true }, want: []string{unlicensed}},
		{name: "licensing unevaluated", verdict: func(v verdict) { acct(v)["appLicensingVerdict"] = "UNEVALUATED" },
			policy: func(p *playintegrity.Policy) { p.RequireLicensed = true }, want: []string{unlicensed}},
		{name: "no accountDetails", verdict: func(v verdict) { delete(v, "accountDetails") },
			policy: func(p *playintegrity.Policy) { p.RequireLicensed = true }, want: []string{unlicensed}},
		{name: "unlicensed, not asked", verdict: func(v verdict) { acct(v)["appLicensingVerdict"] = "UNLICENSED" }},

		{name: "every verdict check fails", verdict: func(v verdict) {
			req(v)["requestPackageName"] = "com.evil.shop"
			req(v)["requestHash"] = b64url(string(otherHash))
			req(v)["timestampMillis"] = itoa(synthNow.Add(-time.Hour).UnixMilli())
			v["testingDetails"] = map[string]any{"isTestingResponse": true}
			app(v)["appRecognitionVerdict"] = "UNRECOGNIZED_VERSION"
			app(v)["certificateSha256Digest"] = []any{}
			app(v)["versionCode"] = "1"
			labels(basic)(v)
			acct(v)["appLicensingVerdict"] = "UNLICENSED"
		}, policy: func(p *playintegrity.Policy) { p.RequireLicensed = true },
			want: []string{pkgMismatch, nonceMismatch, stale, testResponse, notRecognized, digest, version, integrity, unlicensed}},
		{name: "future and the rest", verdict: func(v verdict) {
			req(v)["timestampMillis"] = itoa(synthNow.Add(time.Hour).UnixMilli())
			app(v)["packageName"] = "com.evil.shop"
		}, want: []string{pkgMismatch, future}},
	}
}

// keysOnceP384 is the fixture's P-384 key, outside a test.
func keysOnceP384() *ecdsa.PrivateKey {
	k, err := keysOnce()
	if err != nil {
		panic(err)
	}
	return k.p384
}

// TestReasons runs every case, then fails if a declared reason was never
// produced.
func TestReasons(t *testing.T) {
	produced := map[string]bool{}
	k := keys(t)
	for _, c := range reasonCases() {
		t.Run(c.name, func(t *testing.T) {
			v := synthVerdict()
			if c.verdict != nil {
				c.verdict(v)
			}
			payload := mustJSON(t, v)
			if c.payload != nil {
				payload = c.payload(payload)
			}
			var tok string
			if c.token != nil {
				tok = c.token(t, k, payload)
			} else {
				tok = mint(t, k.app, payload)
			}
			p := synthPolicy(t)
			if c.policy != nil {
				c.policy(&p)
			}
			exp := synthExpect()
			if c.exp != nil {
				c.exp(&exp)
			}
			at := synthNow
			if !c.at.IsZero() {
				at = c.at
			}
			if c.zeroAt {
				at = time.Time{}
			}
			r := playintegrity.Verify(tok, exp, p, at)
			for _, code := range r.Reasons {
				produced[code] = true
			}
			if diff := cmp.Diff(c.want, r.Reasons); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if r.Valid != (len(c.want) == 0) || len(c.want) > 0 && r.Reason != c.want[0] {
				t.Errorf("Valid %v Reason %q, want first of %v", r.Valid, r.Reason, c.want)
			}
			if r.Facts.Platform != "play" {
				t.Errorf("platform %q", r.Facts.Platform)
			}
		})
	}
	for _, code := range playintegrity.Reasons {
		if !produced[code] {
			t.Errorf("reason %s is declared but no case produces it", code)
		}
	}
}

func TestReasonsDeclared(t *testing.T) {
	seen := map[string]bool{}
	for _, code := range playintegrity.Reasons {
		if !strings.HasPrefix(code, "playintegrity.") || seen[code] {
			t.Errorf("bad or duplicate reason %q", code)
		}
		seen[code] = true
	}
}
