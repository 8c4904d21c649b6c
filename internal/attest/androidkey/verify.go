package androidkey

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
)

// Platform is attest.Facts.Platform for this format.
const Platform = "android"

// Verify checks an Android key attestation certificate chain (DER, leaf
// first, as KeyStore.getCertificateChain returns it) against the challenge
// the server issued and the policy, at time at. It never reads the clock.
//
// The result is valid only when every check passes. Reasons lists every
// failed check in the order of the Reasons variable; a chain that cannot
// be parsed, or a KeyDescription that cannot, stops the checks that need
// it. Facts are filled as far as the evidence could be read, and are for
// diagnosis only when the result is invalid:
//
//   - PublicKey is the leaf's SubjectPublicKeyInfo (PKIX DER): the
//     attested key is the leaf's key, by construction of the format.
//   - KeyID is the standard base64 of SHA-256 over that SPKI; Android has
//     no key identifier of its own and this one is stable across chains.
//   - NotAfter is the earliest notAfter in the chain: when the chain stops
//     verifying (an RKP chain's leaf says 2048, its intermediates expire
//     within weeks).
//   - AppID and AppVersion are the accepted package and its version code
//     (the first listed package when none is accepted);
//     SigningCertDigests the listed digests in lowercase hex.
//   - SecurityLevel is the attestation security level; DeviceLocked,
//     VerifiedBoot and OSPatchLevel come from the enforcing authorization
//     list (hardwareEnforced unless the attestation is software).
func Verify(chain [][]byte, challenge []byte, p Policy, at time.Time) attest.Result {
	var r attest.Result
	r.Facts.Platform = Platform
	failed := make(map[string]bool)

	cp, err := p.compile()
	if err != nil {
		failed[ReasonInvalidPolicy] = true
		return finish(&r, failed)
	}
	certs, reason := parseChain(chain)
	if reason != "" {
		failed[reason] = true
		return finish(&r, failed)
	}
	leaf := certs[0]
	r.Facts.PublicKey = append([]byte(nil), leaf.RawSubjectPublicKeyInfo...)
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	r.Facts.KeyID = base64.StdEncoding.EncodeToString(sum[:])
	r.Facts.NotAfter = leaf.NotAfter
	for _, c := range certs[1:] {
		if c.NotAfter.Before(r.Facts.NotAfter) {
			r.Facts.NotAfter = c.NotAfter
		}
	}

	checkChain(failed, certs, cp, at)

	ext, n := keyDescriptionExtension(leaf)
	switch {
	case n == 0:
		failed[ReasonNoKeyDescription] = true
		return finish(&r, failed)
	case n > 1:
		failed[ReasonMalformedKeyDescription] = true
		return finish(&r, failed)
	}
	kd, err := ParseKeyDescription(ext)
	if err != nil {
		failed[ReasonMalformedKeyDescription] = true
		return finish(&r, failed)
	}
	cp.checkKeyDescription(failed, &r.Facts, kd, leaf.PublicKey, challenge)
	return finish(&r, failed)
}

// finish records the failures in the documented order, whatever order
// the checks ran in, and sets Valid.
func finish(r *attest.Result, failed map[string]bool) attest.Result {
	for _, code := range Reasons {
		if failed[code] {
			r.Fail(code)
		}
	}
	return r.Finish()
}

// keyDescriptionExtension returns the value of the leaf's KeyDescription
// extension and how many there are (crypto/x509 already refuses duplicate
// extensions; counting keeps this independent of that).
func keyDescriptionExtension(c *x509.Certificate) ([]byte, int) {
	var v []byte
	n := 0
	for _, e := range c.Extensions {
		if e.Id.Equal(OIDKeyDescription) {
			v = e.Value
			n++
		}
	}
	return v, n
}
