// Package attest holds what every attestation format shares: the verdict
// a verifier returns and the facts it found.
//
// Each evidence format lives in its own package (appattest, androidkey,
// playintegrity, devkey) with its vendor roots and its own tests; none of
// them knows HTTP or the gateway. A verifier never reads the clock: the
// verification time is a parameter, so that captured real samples can be
// checked at the time they were made, and refused at any other.
package attest

import "time"

// Result is a verifier's verdict on one piece of evidence.
type Result struct {
	// Valid is true only when every check passed.
	Valid bool `json:"valid"`
	// Reason is the first failing check, in the order the format's package
	// documents; empty when valid. Codes are "<format>.<check>", e.g.
	// "appattest.nonce_mismatch".
	Reason string `json:"reason,omitempty"`
	// Reasons is every check that failed, first failure first. Checks that
	// depend on an earlier failed step (a signature over a value that could
	// not be parsed) are not run and not listed.
	Reasons []string `json:"reasons,omitempty"`
	// Facts is what the evidence says, as far as it could be read. Facts of
	// an invalid result are for diagnosis only: never trust them.
	Facts Facts `json:"facts"`
}

// Fail records a failed check.
func (r *Result) Fail(reason string) {
	if r.Reason == "" {
		r.Reason = reason
	}
	for _, x := range r.Reasons {
		if x == reason {
			return
		}
	}
	r.Reasons = append(r.Reasons, reason)
}

// Finish sets Valid from the recorded failures and returns the result.
func (r Result) Finish() Result {
	r.Valid = len(r.Reasons) == 0
	return r
}

// Facts are what a piece of evidence establishes about the app, the
// device and the attested key. Fields a format cannot establish stay zero.
type Facts struct {
	// Platform is apple, android, play or dev.
	Platform string `json:"platform,omitempty"`
	// AppID names the app as the platform knows it: "TEAMID.bundle.id" for
	// Apple, the package name for Android.
	AppID string `json:"app_id,omitempty"`
	// AppVersion is the app's version (Android version code, Apple bundle
	// version when the evidence carries it).
	AppVersion string `json:"app_version,omitempty"`
	// SigningCertDigests are the SHA-256 digests of the app's signing
	// certificates (Android), lowercase hex.
	SigningCertDigests []string `json:"signing_cert_digests,omitempty"`
	// Environment is production or development.
	Environment string `json:"environment,omitempty"`
	// KeyID identifies the attested key, base64 (standard, padded, as the
	// platforms print it).
	KeyID string `json:"key_id,omitempty"`
	// PublicKey is the attested key, PKIX DER.
	PublicKey []byte `json:"public_key,omitempty"`
	// BoundKey is the RFC 7638 thumbprint of the request-signing key the
	// evidence binds, when the caller's client data carried one.
	BoundKey string `json:"bound_key,omitempty"`
	// Counter is the authenticator counter (App Attest).
	Counter uint64 `json:"counter"`
	// SecurityLevel is software, tee or strongbox (Android).
	SecurityLevel string `json:"security_level,omitempty"`
	// DeviceLocked and VerifiedBoot report the Android root of trust.
	DeviceLocked bool   `json:"device_locked,omitempty"`
	VerifiedBoot string `json:"verified_boot,omitempty"`
	// OSPatchLevel is YYYYMM (Android).
	OSPatchLevel int `json:"os_patch_level,omitempty"`
	// Integrity lists device and app integrity verdicts (Play Integrity).
	Integrity []string `json:"integrity,omitempty"`
	// NotAfter is when the evidence's leaf certificate expires.
	NotAfter time.Time `json:"not_after,omitempty"`
	// Receipt is the App Attest receipt (CMS, as Apple sent it) that came
	// with the attestation: store it to ask Apple for the key's fraud risk
	// metric later. Only an attestation carries it.
	Receipt []byte `json:"receipt,omitempty"`
}
