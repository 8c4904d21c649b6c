package androidkey

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
)

// DefaultLeafSkew is the leaf validity tolerance when Policy.LeafSkew is
// zero, and MaxLeafSkew the largest Validate accepts.
const (
	DefaultLeafSkew = 5 * time.Minute
	MaxLeafSkew     = time.Hour
)

// Policy says which attestations Verify accepts. Its zero value asks for
// the strictest device state (hardware-backed, locked, Verified boot, the
// embedded Google roots) but names no app, and an attestation is always
// for an app: Verify refuses every chain under it with invalid_policy, so
// that a configuration that forgot its apps fails loudly, not silently.
type Policy struct {
	// Apps are the apps whose keys are accepted. At least one is required.
	Apps []App
	// AllowSoftware accepts attestationSecurityLevel and
	// keyMintSecurityLevel Software. If false, both must be
	// TrustedEnvironment or StrongBox. Software attestations chain to
	// AOSP's software root, so the root must also be in TrustedRoots.
	AllowSoftware bool
	// AllowUnlocked accepts RootOfTrust.deviceLocked false or no
	// RootOfTrust. If false, the bootloader must be locked.
	AllowUnlocked bool
	// AllowUnverifiedBoot accepts verifiedBootState SelfSigned (a custom
	// OS with the user's key) and Unverified, or no RootOfTrust. If false,
	// the state must be Verified. Failed is never accepted.
	AllowUnverifiedBoot bool
	// MinOSPatchLevel, MinVendorPatchLevel and MinBootPatchLevel are
	// minimum security patch levels as YYYYMM or YYYYMMDD (202303 means
	// March 2023 or newer). Zero: not checked. When set, an attestation
	// without that patch level is refused.
	MinOSPatchLevel     int
	MinVendorPatchLevel int
	MinBootPatchLevel   int
	// TrustedRoots are the root public keys a chain may end in. If nil,
	// GoogleRoots is used. A non-nil empty slice is invalid.
	TrustedRoots []crypto.PublicKey
	// Revoked is the attestation status list. If nil, revocation is not
	// checked: load Google's list (ReadStatusList) and refresh it.
	Revoked *StatusList
	// LeafSkew widens the leaf certificate's validity on both sides, as
	// the leaf is written with the device's clock. If zero,
	// DefaultLeafSkew is used; if negative, none.
	LeafSkew time.Duration
}

// App is one accepted Android app.
type App struct {
	// Package is the application ID (package name), e.g.
	// "com.example.wallet".
	Package string
	// SigningCertDigests are the SHA-256 digests (32 bytes each) of the
	// app signing certificates accepted. At least one is required. The
	// attestation must list at least one digest and every digest it lists
	// must be here: an app signed by several certificates is only as
	// trustworthy as all of them (Google recommends checking the whole
	// set), while listing more here than the app has lets a policy span a
	// signing-key rotation.
	SigningCertDigests [][]byte
	// MinVersionCode is the lowest version code accepted. Zero: any.
	MinVersionCode int64
}

// Validate reports every problem with the policy at once. It changes
// nothing.
func (p Policy) Validate() error {
	_, err := p.compile()
	return err
}

// compiled is a validated Policy in the form Verify uses.
type compiled struct {
	Policy
	roots    [][]byte // trusted root SPKIs
	leafSkew time.Duration
	minOS    int64
	minVend  int64
	minBoot  int64
}

func (p Policy) compile() (*compiled, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("androidkey: policy: "+format, args...))
	}
	c := &compiled{Policy: p}
	if len(p.Apps) == 0 {
		bad("no apps")
	}
	seen := map[string]bool{}
	for i, a := range p.Apps {
		switch {
		case a.Package == "":
			bad("apps[%d]: empty package", i)
		case seen[a.Package]:
			bad("apps[%d]: package %q listed twice", i, a.Package)
		}
		seen[a.Package] = true
		if len(a.SigningCertDigests) == 0 {
			bad("apps[%d]: no signing certificate digests", i)
		}
		for j, d := range a.SigningCertDigests {
			if len(d) != sha256.Size {
				bad("apps[%d]: signing certificate digest %d is %d bytes, want %d", i, j, len(d), sha256.Size)
			}
		}
		if a.MinVersionCode < 0 {
			bad("apps[%d]: negative minimum version code", i)
		}
	}
	for _, m := range []struct {
		name string
		v    int
		out  *int64
	}{
		{"MinOSPatchLevel", p.MinOSPatchLevel, &c.minOS},
		{"MinVendorPatchLevel", p.MinVendorPatchLevel, &c.minVend},
		{"MinBootPatchLevel", p.MinBootPatchLevel, &c.minBoot},
	} {
		if m.v == 0 {
			continue
		}
		d, ok := patchDate(int64(m.v))
		if !ok {
			bad("%s %d is not YYYYMM or YYYYMMDD", m.name, m.v)
		}
		*m.out = d
	}
	switch {
	case p.TrustedRoots == nil:
		_, c.roots = googleRoots()
	case len(p.TrustedRoots) == 0:
		bad("empty TrustedRoots trusts nothing (nil means Google's roots)")
	}
	for i, k := range p.TrustedRoots {
		spki, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			bad("TrustedRoots[%d]: %v", i, err)
			continue
		}
		c.roots = append(c.roots, spki)
	}
	switch {
	case p.LeafSkew == 0:
		c.leafSkew = DefaultLeafSkew
	case p.LeafSkew < 0:
		c.leafSkew = 0
	case p.LeafSkew > MaxLeafSkew:
		bad("LeafSkew %v exceeds %v", p.LeafSkew, MaxLeafSkew)
	default:
		c.leafSkew = p.LeafSkew
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// patchDate normalizes a patch level to YYYYMMDD: YYYYMM becomes
// YYYYMM00, so that a month-only level (osPatchLevel always, vendor and
// boot patch levels on some devices) counts as the start of its month.
// Day 00 is allowed: devices write e.g. 20190700.
func patchDate(v int64) (int64, bool) {
	if v >= 100000 && v <= 999999 {
		v *= 100
	}
	if v < 10000000 || v > 99999999 {
		return 0, false
	}
	month, day := v/100%100, v%100
	return v, month >= 1 && month <= 12 && day <= 31
}

// checkKeyDescription runs the policy checks on a parsed KeyDescription
// and fills the facts it establishes.
func (p *compiled) checkKeyDescription(failed map[string]bool, f *attest.Facts, kd *KeyDescription, leafKey crypto.PublicKey, challenge []byte) {
	if len(challenge) == 0 || subtle.ConstantTimeCompare(kd.AttestationChallenge, challenge) != 1 {
		failed[ReasonChallengeMismatch] = true
	}

	if !p.levelAllowed(kd.AttestationSecurityLevel) || !p.levelAllowed(kd.KeyMintSecurityLevel) {
		failed[ReasonSoftwareSecurityLevel] = true
	}
	f.SecurityLevel = kd.AttestationSecurityLevel.String()

	// The device state is read from the list the attesting component
	// enforces: hardwareEnforced for a TEE or StrongBox attestation (the
	// values Android supplies in softwareEnforced are only as trustworthy
	// as Android itself), softwareEnforced for a software attestation.
	auth, other := &kd.HardwareEnforced, &kd.SoftwareEnforced
	if kd.AttestationSecurityLevel == Software {
		auth, other = other, auth
	}

	rot := auth.RootOfTrust
	if rot != nil {
		f.DeviceLocked = rot.DeviceLocked
		f.VerifiedBoot = rot.VerifiedBootState.String()
	}
	if !p.AllowUnlocked && (rot == nil || !rot.DeviceLocked) {
		failed[ReasonUnlockedBootloader] = true
	}
	if !p.bootAllowed(rot) {
		failed[ReasonUnverifiedBoot] = true
	}

	if auth.OSPatchLevel != nil {
		f.OSPatchLevel = int(*auth.OSPatchLevel)
	}
	if !patchAtLeast(auth.OSPatchLevel, p.minOS) ||
		!patchAtLeast(auth.VendorPatchLevel, p.minVend) ||
		!patchAtLeast(auth.BootPatchLevel, p.minBoot) {
		failed[ReasonPatchLevelTooOld] = true
	}

	if !keyMatches(leafKey, auth, other) {
		failed[ReasonKeyMismatch] = true
	}

	// Keystore puts attestationApplicationId in softwareEnforced; it is
	// read from hardwareEnforced only when softwareEnforced lacks it.
	aai := kd.SoftwareEnforced.AttestationApplicationID
	if aai == nil {
		aai = kd.HardwareEnforced.AttestationApplicationID
	}
	p.checkApp(failed, f, aai)
}

func (p *compiled) levelAllowed(l SecurityLevel) bool {
	return l == TrustedEnvironment || l == StrongBox || p.AllowSoftware && l == Software
}

func (p *compiled) bootAllowed(rot *RootOfTrust) bool {
	if rot == nil {
		return p.AllowUnverifiedBoot
	}
	switch rot.VerifiedBootState {
	case Verified:
		return true
	case SelfSigned, Unverified:
		return p.AllowUnverifiedBoot
	}
	return false
}

// patchAtLeast reports whether the patch level v is at least minimum (both
// YYYYMMDD after patchDate); a zero minimum is not checked.
func patchAtLeast(v *int64, minimum int64) bool {
	if minimum == 0 {
		return true
	}
	if v == nil {
		return false
	}
	d, ok := patchDate(*v)
	return ok && d >= minimum
}

// keyMatches checks that the authorization lists describe the leaf's
// public key, which is the attested key: the algorithm must be present
// and agree; key size, EC curve and RSA exponent must agree where present.
// Each tag is read from the enforcing list first, then the other (a
// Nougat hybrid attests in software a key the TEE enforces).
func keyMatches(key crypto.PublicKey, auth, other *AuthorizationList) bool {
	pick := func(get func(*AuthorizationList) *int64) *int64 {
		if v := get(auth); v != nil {
			return v
		}
		return get(other)
	}
	alg := pick(func(l *AuthorizationList) *int64 { return l.Algorithm })
	size := pick(func(l *AuthorizationList) *int64 { return l.KeySize })
	curve := pick(func(l *AuthorizationList) *int64 { return l.ECCurve })
	exp := pick(func(l *AuthorizationList) *int64 { return l.RSAPublicExponent })
	is := func(p *int64, want int64) bool { return p == nil || *p == want }

	const algRSA, algEC = 1, 3
	if alg == nil {
		return false
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		return *alg == algRSA && curve == nil && is(size, int64(k.N.BitLen())) && is(exp, int64(k.E))
	case *ecdsa.PublicKey:
		var c, bits int64
		switch k.Curve {
		case elliptic.P224():
			c, bits = 0, 224
		case elliptic.P256():
			c, bits = 1, 256
		case elliptic.P384():
			c, bits = 2, 384
		case elliptic.P521():
			c, bits = 3, 521
		default:
			return false
		}
		return *alg == algEC && exp == nil && is(curve, c) && is(size, bits)
	case ed25519.PublicKey, *ecdh.PublicKey:
		if k, ok := k.(*ecdh.PublicKey); ok && k.Curve() != ecdh.X25519() {
			return false
		}
		return *alg == algEC && exp == nil && is(curve, 4) && is(size, 256)
	}
	return false
}

// checkApp matches attestationApplicationId against the policy's apps.
//
// A package matches the app of the same name. Several packages appear
// when apps share a user ID; one matching package suffices, as they share
// the signing certificates too. The attestation is accepted if a matching
// package has a version code at least the app's minimum and the listed
// signature digests are a non-empty subset of the app's (see App). When
// no package passes, the failures reported are those of the first
// matching package whose digests are allowed, else of the first matching
// package.
func (p *compiled) checkApp(failed map[string]bool, f *attest.Facts, aai *AttestationApplicationID) {
	if aai == nil || len(aai.Packages) == 0 {
		failed[ReasonPackageNotAllowed] = true
		return
	}
	for _, d := range aai.SignatureDigests {
		f.SigningCertDigests = append(f.SigningCertDigests, hex.EncodeToString(d))
	}
	type candidate struct {
		pkg                 PackageInfo
		digestOK, versionOK bool
	}
	var best *candidate
	for _, pkg := range aai.Packages {
		for i := range p.Apps {
			app := &p.Apps[i]
			if app.Package != pkg.Name {
				continue
			}
			c := &candidate{
				pkg:       pkg,
				digestOK:  digestsAllowed(aai.SignatureDigests, app.SigningCertDigests),
				versionOK: pkg.Version >= app.MinVersionCode,
			}
			if c.digestOK && c.versionOK {
				best = c
				break
			}
			if best == nil || c.digestOK && !best.digestOK {
				best = c
			}
		}
		if best != nil && best.digestOK && best.versionOK {
			break
		}
	}
	if best == nil {
		failed[ReasonPackageNotAllowed] = true
		f.AppID = aai.Packages[0].Name
		f.AppVersion = strconv.FormatInt(aai.Packages[0].Version, 10)
		return
	}
	f.AppID = best.pkg.Name
	f.AppVersion = strconv.FormatInt(best.pkg.Version, 10)
	if !best.digestOK {
		failed[ReasonSignatureDigestNotAllowed] = true
	}
	if !best.versionOK {
		failed[ReasonVersionTooOld] = true
	}
}

// digestsAllowed reports whether got is non-empty and each of its digests
// is in allowed, comparing in constant time.
func digestsAllowed(got, allowed [][]byte) bool {
	if len(got) == 0 {
		return false
	}
	for _, g := range got {
		found := 0
		for _, a := range allowed {
			found |= subtle.ConstantTimeCompare(g, a)
		}
		if found != 1 {
			return false
		}
	}
	return true
}
