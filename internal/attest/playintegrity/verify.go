package playintegrity

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// Platform is attest.Facts.Platform for this format.
const Platform = "play"

// Expect is what the server knows about one request before it reads the
// token.
type Expect struct {
	// ClientDataHash is SHA-256 of the client data (docs/protocol.md §2):
	// the app requested the token with nonce (classic request) or
	// requestHash (standard request) base64url(ClientDataHash). Required,
	// 32 bytes.
	ClientDataHash []byte
	// BoundKey is the jkt the client data names, when the caller parsed
	// it. Facts.BoundKey is set to it once the nonce matches: the token
	// then binds that key. Empty: Facts.BoundKey stays empty.
	BoundKey string
}

// Verifier is a compiled Policy: the JOSE verifier holding the app's keys
// is built once, not per token. It is safe for concurrent use.
type Verifier struct {
	p    Policy
	jose *token.Verifier
	max  int
	age  time.Duration
	skew time.Duration
}

// New validates p and compiles it.
func New(p Policy) (*Verifier, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	// The token core does the JOSE work (RFC 7516, RFC 7515): A256KW
	// unwrapping and A256GCM decryption by go-jose, the ES256 check by
	// crypto/ecdsa. Both allow-lists hold exactly Google's algorithms.
	sig, err := token.NewKey(p.VerificationKey, "", "ES256")
	if err != nil {
		return nil, err
	}
	enc, err := token.NewKey(p.DecryptionKey, "", "A256KW")
	if err != nil {
		return nil, err
	}
	jv, err := token.NewVerifier(token.Config{
		Issuers: []token.IssuerConfig{{
			Keys:            []token.KeySource{token.NewKeySet(sig)},
			Algorithms:      []string{"ES256"},
			AllowMissingExp: true,
		}},
		JWE: &token.JWEConfig{
			Keys:              token.NewKeySet(enc),
			KeyAlgorithms:     []string{"A256KW"},
			ContentEncryption: []string{"A256GCM"},
		},
		MaxTokenBytes: p.MaxTokenBytes,
	})
	if err != nil {
		return nil, err
	}
	v := &Verifier{p: p, jose: jv, max: p.MaxTokenBytes, age: p.MaxAge, skew: p.FutureSkew}
	if v.max == 0 {
		v.max = DefaultMaxTokenBytes
	}
	if v.age == 0 {
		v.age = DefaultMaxAge
	}
	switch {
	case v.skew == 0:
		v.skew = DefaultFutureSkew
	case v.skew < 0:
		v.skew = 0
	}
	return v, nil
}

// Verify compiles p and verifies one token with it: New and
// Verifier.Verify in one call, for callers that verify once (the CLI,
// tests). A policy that does not compile gives ReasonInvalidPolicy.
func Verify(integrityToken string, exp Expect, p Policy, at time.Time) attest.Result {
	v, err := New(p)
	if err != nil {
		r := attest.Result{Facts: attest.Facts{Platform: Platform}}
		r.Fail(ReasonInvalidPolicy)
		return r.Finish()
	}
	return v.Verify(integrityToken, exp, at)
}

// Verify decrypts and verifies an integrity token as of time at, then
// checks its verdict against the policy and exp. It never reads the
// clock.
//
// The result is valid only when every check passes. Reasons lists every
// failed check in the order of the Reasons variable. Facts are filled as
// far as the verdict could be read, and are for diagnosis only when the
// result is invalid:
//
//   - AppID is appIntegrity.packageName (requestPackageName when absent),
//     AppVersion its versionCode, SigningCertDigests the listed digests
//     that decode to 32 bytes, in lowercase hex.
//   - Integrity is the device labels as listed, then "app:" and the app
//     recognition verdict, "licensing:" and the licensing verdict when
//     present, and "testing" for a test response.
//   - Environment is production: Play has no development verdicts.
//   - BoundKey is exp.BoundKey once the nonce matches.
//
// Play Integrity attests no key, so KeyID and PublicKey stay empty.
func (v *Verifier) Verify(integrityToken string, exp Expect, at time.Time) attest.Result {
	var r attest.Result
	r.Facts.Platform = Platform
	if v == nil || len(exp.ClientDataHash) != sha256.Size || at.IsZero() {
		r.Fail(ReasonInvalidPolicy)
		return r.Finish()
	}
	payload, reason := v.open(integrityToken)
	if reason != "" {
		r.Fail(reason)
		return r.Finish()
	}
	vd, reason := parsePayload(payload)
	if reason != "" {
		r.Fail(reason)
		return r.Finish()
	}
	v.check(&r, vd, exp, at)
	return r.Finish()
}

// open decrypts the JWE and verifies the JWS inside it, returning the
// signed payload or a reason.
func (v *Verifier) open(raw string) ([]byte, string) {
	if len(raw) > v.max {
		return nil, ReasonTooLarge
	}
	// Only a compact JWE: the token core would verify a bare JWS, or
	// decrypt a JWE nested in a JWE, if it were handed one.
	if strings.Count(raw, ".") != 4 {
		return nil, ReasonMalformedToken
	}
	ctx := context.Background() // the keys are local: nothing is fetched
	outer, err := v.jose.VerifyRaw(ctx, raw, nil)
	if err != nil {
		return nil, tokenReason(err)
	}
	inner := string(outer.Payload)
	if strings.Count(inner, ".") != 2 || strings.HasPrefix(inner, "{") {
		return nil, ReasonMalformedToken
	}
	obj, err := v.jose.VerifyRaw(ctx, inner, nil)
	if err != nil {
		return nil, tokenReason(err)
	}
	return obj.Payload, ""
}

// tokenReason maps the token core's refusal to this package's reasons.
func tokenReason(err error) string {
	switch token.ReasonOf(err) {
	case token.ReasonTooLarge:
		return ReasonTooLarge
	case token.ReasonAlgNone, token.ReasonJWEAlgNotAllowed, token.ReasonAlgNotAllowed, token.ReasonKeyMismatch:
		return ReasonAlgNotAllowed
	case token.ReasonDecrypt:
		return ReasonDecryptFailed
	case token.ReasonBadSignature:
		return ReasonBadSignature
	}
	// Malformed parts, encodings and headers; crit, key-carrying headers,
	// zip; a kid that names no key (Play Console keys have none).
	return ReasonMalformedToken
}

// check runs the verdict checks, all of them, and fills the facts.
func (v *Verifier) check(r *attest.Result, vd *verdict, exp Expect, at time.Time) {
	p := v.p
	failed := map[string]bool{}

	f := &r.Facts
	f.Environment = "production"
	f.AppID = vd.requestPackage
	if vd.hasPackageName {
		f.AppID = vd.packageName
	}
	if vd.hasVersion {
		f.AppVersion = strconv.FormatInt(vd.versionCode, 10)
	}
	f.Integrity = append(f.Integrity, vd.deviceLabels...)
	f.Integrity = append(f.Integrity, "app:"+vd.appVerdict)
	if vd.licensing != "" {
		f.Integrity = append(f.Integrity, "licensing:"+vd.licensing)
	}
	if vd.testing {
		f.Integrity = append(f.Integrity, "testing")
	}

	// requestDetails first, as Google asks: the verdict must answer this
	// request of this app before any of its verdicts mean anything.
	// requestPackageName "might be spoofed in the middle of the request"
	// (Google), so appIntegrity.packageName must agree too whenever the
	// app was evaluated.
	if vd.requestPackage != p.Package || vd.hasPackageName && vd.packageName != p.Package ||
		vd.appVerdict != Unevaluated && !vd.hasPackageName {
		failed[ReasonPackageMismatch] = true
	}
	if !bound(vd, exp.ClientDataHash) {
		failed[ReasonNonceMismatch] = true
	} else {
		f.BoundKey = exp.BoundKey
	}
	ts := time.UnixMilli(vd.timestampMS)
	if at.Sub(ts) > v.age {
		failed[ReasonTimestampStale] = true
	}
	if ts.Sub(at) > v.skew {
		failed[ReasonTimestampInFuture] = true
	}
	if vd.testing && !p.AllowTestingResponse {
		failed[ReasonTestingResponse] = true
	}

	switch vd.appVerdict {
	case PlayRecognized:
	case UnrecognizedVersion:
		if !p.AllowUnrecognizedVersion {
			failed[ReasonAppNotRecognized] = true
		}
	default:
		failed[ReasonAppNotRecognized] = true
	}
	if !v.digestsAllowed(f, vd.certDigests) {
		failed[ReasonCertDigestNotAllowed] = true
	}
	if p.MinVersionCode > 0 && (!vd.hasVersion || vd.versionCode < p.MinVersionCode) {
		failed[ReasonVersionTooOld] = true
	}
	if !v.deviceMeets(vd.deviceLabels) {
		failed[ReasonDeviceIntegrity] = true
	}
	if p.RequireLicensed && vd.licensing != Licensed {
		failed[ReasonUnlicensed] = true
	}

	for _, code := range Reasons {
		if failed[code] {
			r.Fail(code)
		}
	}
}

// bound reports whether exactly one of nonce and requestHash is present
// and is base64url(clientDataHash). The string is decoded and the bytes
// compared in constant time, so that the padded spelling an Android app
// gets from Base64.URL_SAFE | Base64.NO_WRAP (44 characters, one "=")
// matches as well as the unpadded one the protocol documents (43);
// strict decoding leaves no third spelling.
func bound(vd *verdict, want []byte) bool {
	if vd.hasNonce == vd.hasRequestHash {
		return false
	}
	s := vd.nonce
	if vd.hasRequestHash {
		s = vd.requestHash
	}
	if len(s) == 44 && s[43] == '=' {
		s = s[:43]
	}
	if len(s) != 43 {
		return false
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

// digestsAllowed reports whether the verdict lists at least one signing
// certificate digest and every one is the policy's, and records them in
// the facts. Google documents the digests as base64url of SHA-256; the
// hex form earlier documentation described is read too.
func (v *Verifier) digestsAllowed(f *attest.Facts, listed []string) bool {
	ok := len(listed) > 0
	for _, s := range listed {
		d := digestBytes(s)
		if d == nil {
			ok = false
			continue
		}
		f.SigningCertDigests = append(f.SigningCertDigests, hex.EncodeToString(d))
		known := false
		for _, allowed := range v.p.SigningCertDigests {
			if subtle.ConstantTimeCompare(d, allowed) == 1 {
				known = true
			}
		}
		ok = ok && known
	}
	return ok
}

// digestBytes decodes a 32-byte digest from base64url (padded or not) or
// hex, or returns nil.
func digestBytes(s string) []byte {
	switch len(s) {
	case 64:
		if d, err := hex.DecodeString(s); err == nil {
			return d
		}
	case 43, 44:
		if len(s) == 44 && s[43] == '=' {
			s = s[:43]
		}
		if d, err := base64.RawURLEncoding.Strict().DecodeString(s); err == nil && len(d) == sha256.Size {
			return d
		}
	}
	return nil
}

// deviceMeets reports whether the device labels carry the level the
// policy asks for. Google lists the labels cumulatively, so the label
// itself must be present; MEETS_VIRTUAL_INTEGRITY stands in for basic and
// device integrity when the policy allows emulators.
func (v *Verifier) deviceMeets(labels []string) bool {
	want := v.p.deviceLevel()
	for _, l := range labels {
		if l == want || v.p.AllowVirtual && l == MeetsVirtualIntegrity && want != MeetsStrongIntegrity {
			return true
		}
	}
	return false
}
