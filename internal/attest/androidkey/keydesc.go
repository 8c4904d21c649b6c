package androidkey

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// OIDKeyDescription identifies the attestation extension of the leaf
// certificate ("Attestation extension data schema",
// https://source.android.com/docs/security/features/keystore/attestation#schema).
var OIDKeyDescription = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 1, 17}

// ErrMalformedKeyDescription wraps every ParseKeyDescription failure.
var ErrMalformedKeyDescription = errors.New("androidkey: malformed KeyDescription")

// SecurityLevel is the KeyDescription SecurityLevel ENUMERATED
// (KeyMint SecurityLevel.aidl).
type SecurityLevel int

// Security levels. Values outside these are parsed and kept; the policy
// refuses them.
const (
	Software           SecurityLevel = 0
	TrustedEnvironment SecurityLevel = 1
	StrongBox          SecurityLevel = 2
)

// String returns software, tee or strongbox, the spelling of
// attest.Facts.SecurityLevel.
func (l SecurityLevel) String() string {
	switch l {
	case Software:
		return "software"
	case TrustedEnvironment:
		return "tee"
	case StrongBox:
		return "strongbox"
	}
	return fmt.Sprintf("unknown(%d)", int(l))
}

// VerifiedBootState is the RootOfTrust verifiedBootState ENUMERATED.
type VerifiedBootState int

// Verified boot states (RootOfTrust.aidl / the schema's VerifiedBootState).
const (
	Verified   VerifiedBootState = 0
	SelfSigned VerifiedBootState = 1
	Unverified VerifiedBootState = 2
	Failed     VerifiedBootState = 3
)

// String returns verified, self_signed, unverified or failed, the spelling
// of attest.Facts.VerifiedBoot.
func (s VerifiedBootState) String() string {
	switch s {
	case Verified:
		return "verified"
	case SelfSigned:
		return "self_signed"
	case Unverified:
		return "unverified"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("unknown(%d)", int(s))
}

// KeyDescription is the attestation extension, schema versions 1 to 400
// (Keymaster 2 to KeyMint 4):
//
//	KeyDescription ::= SEQUENCE {
//	    attestationVersion         INTEGER,
//	    attestationSecurityLevel   SecurityLevel,
//	    keyMintVersion             INTEGER,   -- keymasterVersion before 100
//	    keyMintSecurityLevel       SecurityLevel,
//	    attestationChallenge       OCTET STRING,
//	    uniqueId                   OCTET STRING,
//	    softwareEnforced           AuthorizationList,
//	    hardwareEnforced           AuthorizationList, -- teeEnforced before 100
//	}
type KeyDescription struct {
	AttestationVersion       int64
	AttestationSecurityLevel SecurityLevel
	// KeyMintVersion is keymasterVersion in schema versions 1 to 4
	// (Keymaster 2 to 4, e.g. 4 or 41) and keyMintVersion from 100 on.
	KeyMintVersion       int64
	KeyMintSecurityLevel SecurityLevel
	AttestationChallenge []byte
	UniqueID             []byte
	SoftwareEnforced     AuthorizationList
	// HardwareEnforced is teeEnforced before schema version 100.
	HardwareEnforced AuthorizationList
}

// AuthorizationList holds the tags Verify needs; every other tag is
// skipped and its number kept in OtherTags. Each field is [tag] EXPLICIT
// in the schema; tag numbers are KeyMint Tag.aidl's without the type bits.
// Optional integers are nil when absent.
type AuthorizationList struct {
	Purpose           []int64 // [1] SET OF INTEGER (KeyPurpose)
	Algorithm         *int64  // [2] INTEGER (1 RSA, 3 EC)
	KeySize           *int64  // [3]
	Digest            []int64 // [5] SET OF INTEGER
	Padding           []int64 // [6] SET OF INTEGER
	ECCurve           *int64  // [10] (0 P-224, 1 P-256, 2 P-384, 3 P-521, 4 Curve25519)
	RSAPublicExponent *int64  // [200]
	NoAuthRequired    bool    // [503] NULL
	CreationDateTime  *int64  // [701] milliseconds since the epoch
	Origin            *int64  // [702] (0 generated)
	RootOfTrust       *RootOfTrust
	OSVersion         *int64 // [705] e.g. 130000
	OSPatchLevel      *int64 // [706] YYYYMM
	// AttestationApplicationID is [709]; Keystore fills it in
	// softwareEnforced.
	AttestationApplicationID *AttestationApplicationID
	VendorPatchLevel         *int64 // [718] YYYYMMDD (some devices: YYYYMM)
	BootPatchLevel           *int64 // [719] YYYYMMDD (some devices: YYYYMM)
	// OtherTags are the numbers of the tags present but not parsed, in
	// the order they appear.
	OtherTags []int
}

// RootOfTrust is [704]:
//
//	RootOfTrust ::= SEQUENCE {
//	    verifiedBootKey   OCTET STRING,
//	    deviceLocked      BOOLEAN,
//	    verifiedBootState VerifiedBootState,
//	    verifiedBootHash  OCTET STRING, -- schema version 3 and later
//	}
type RootOfTrust struct {
	VerifiedBootKey   []byte
	DeviceLocked      bool
	VerifiedBootState VerifiedBootState
	// VerifiedBootHash is nil before schema version 3.
	VerifiedBootHash []byte
}

// AttestationApplicationID is the DER inside the [709] OCTET STRING:
//
//	AttestationApplicationId ::= SEQUENCE {
//	    package_infos     SET OF AttestationPackageInfo,
//	    signature_digests SET OF OCTET STRING,
//	}
//	AttestationPackageInfo ::= SEQUENCE {
//	    package_name OCTET STRING,
//	    version      INTEGER,
//	}
//
// Several packages appear when the app shares a user ID with others; the
// signature digests are the SHA-256 of the app's signing certificates.
type AttestationApplicationID struct {
	Packages         []PackageInfo
	SignatureDigests [][]byte
}

// PackageInfo is one AttestationPackageInfo.
type PackageInfo struct {
	Name    string
	Version int64
}

// Authorization tag numbers parsed here (KeyMint Tag.aidl).
const (
	tagPurpose                  = 1
	tagAlgorithm                = 2
	tagKeySize                  = 3
	tagDigest                   = 5
	tagPadding                  = 6
	tagECCurve                  = 10
	tagRSAPublicExponent        = 200
	tagNoAuthRequired           = 503
	tagCreationDateTime         = 701
	tagOrigin                   = 702
	tagRootOfTrust              = 704
	tagOSVersion                = 705
	tagOSPatchLevel             = 706
	tagAttestationApplicationID = 709
	tagVendorPatchLevel         = 718
	tagBootPatchLevel           = 719
)

func malformed(what string) error {
	return fmt.Errorf("%w: %s", ErrMalformedKeyDescription, what)
}

// ParseKeyDescription parses the value of the leaf's KeyDescription
// extension. It accepts DER only (minimal lengths and integers, BOOLEAN as
// 0x00/0xff), refuses trailing bytes at every level and duplicate tags in
// an AuthorizationList, and skips tags it does not need.
func ParseKeyDescription(der []byte) (*KeyDescription, error) {
	if len(der) > MaxCertSize {
		return nil, malformed("too large")
	}
	in := cryptobyte.String(der)
	var s cryptobyte.String
	if !in.ReadASN1(&s, casn1.SEQUENCE) || !in.Empty() {
		return nil, malformed("not one SEQUENCE")
	}
	kd := &KeyDescription{}
	var attLevel, kmLevel int
	var sw, hw cryptobyte.String
	switch {
	case !s.ReadASN1Integer(&kd.AttestationVersion):
		return nil, malformed("attestationVersion")
	case !s.ReadASN1Enum(&attLevel):
		return nil, malformed("attestationSecurityLevel")
	case !s.ReadASN1Integer(&kd.KeyMintVersion):
		return nil, malformed("keyMintVersion")
	case !s.ReadASN1Enum(&kmLevel):
		return nil, malformed("keyMintSecurityLevel")
	case !readOctets(&s, &kd.AttestationChallenge):
		return nil, malformed("attestationChallenge")
	case !readOctets(&s, &kd.UniqueID):
		return nil, malformed("uniqueId")
	case !s.ReadASN1(&sw, casn1.SEQUENCE):
		return nil, malformed("softwareEnforced")
	case !s.ReadASN1(&hw, casn1.SEQUENCE):
		return nil, malformed("hardwareEnforced")
	case !s.Empty():
		return nil, malformed("trailing fields")
	}
	kd.AttestationSecurityLevel = SecurityLevel(attLevel)
	kd.KeyMintSecurityLevel = SecurityLevel(kmLevel)
	var err error
	if kd.SoftwareEnforced, err = parseAuthorizationList(sw); err != nil {
		return nil, fmt.Errorf("%w (softwareEnforced)", err)
	}
	if kd.HardwareEnforced, err = parseAuthorizationList(hw); err != nil {
		return nil, fmt.Errorf("%w (hardwareEnforced)", err)
	}
	return kd, nil
}

// parseAuthorizationList reads the [n] EXPLICIT fields of one list.
//
// The identifiers are read with encoding/asn1.RawValue, not cryptobyte:
// cryptobyte supports only tag numbers below 31 (one identifier octet) and
// the schema's tags reach 724. Everything inside a tag is read with
// cryptobyte.
func parseAuthorizationList(s cryptobyte.String) (AuthorizationList, error) {
	var l AuthorizationList
	seen := make(map[int]bool)
	rest := []byte(s)
	for len(rest) > 0 {
		var f asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &f); err != nil {
			return l, malformed("authorization list entry")
		}
		if f.Class != asn1.ClassContextSpecific || !f.IsCompound {
			return l, malformed(fmt.Sprintf("authorization list entry class %d tag %d", f.Class, f.Tag))
		}
		if seen[f.Tag] {
			return l, malformed(fmt.Sprintf("duplicate tag [%d]", f.Tag))
		}
		seen[f.Tag] = true
		v := cryptobyte.String(f.Bytes)
		ok := true
		switch f.Tag {
		case tagPurpose:
			l.Purpose, ok = readIntSet(&v)
		case tagAlgorithm:
			l.Algorithm, ok = readInt(&v)
		case tagKeySize:
			l.KeySize, ok = readInt(&v)
		case tagDigest:
			l.Digest, ok = readIntSet(&v)
		case tagPadding:
			l.Padding, ok = readIntSet(&v)
		case tagECCurve:
			l.ECCurve, ok = readInt(&v)
		case tagRSAPublicExponent:
			l.RSAPublicExponent, ok = readInt(&v)
		case tagNoAuthRequired:
			var null cryptobyte.String
			ok = v.ReadASN1(&null, casn1.NULL) && null.Empty()
			l.NoAuthRequired = ok
		case tagCreationDateTime:
			l.CreationDateTime, ok = readInt(&v)
		case tagOrigin:
			l.Origin, ok = readInt(&v)
		case tagRootOfTrust:
			l.RootOfTrust, ok = readRootOfTrust(&v)
		case tagOSVersion:
			l.OSVersion, ok = readInt(&v)
		case tagOSPatchLevel:
			l.OSPatchLevel, ok = readInt(&v)
		case tagAttestationApplicationID:
			l.AttestationApplicationID, ok = readAttestationApplicationID(&v)
		case tagVendorPatchLevel:
			l.VendorPatchLevel, ok = readInt(&v)
		case tagBootPatchLevel:
			l.BootPatchLevel, ok = readInt(&v)
		default:
			// Unknown or unneeded: the RawValue already checked its
			// framing; its content is not interpreted.
			l.OtherTags = append(l.OtherTags, f.Tag)
			v = nil
		}
		if !ok || !v.Empty() {
			return l, malformed(fmt.Sprintf("tag [%d]", f.Tag))
		}
	}
	return l, nil
}

func readOctets(s *cryptobyte.String, out *[]byte) bool {
	var b []byte
	if !s.ReadASN1Bytes(&b, casn1.OCTET_STRING) {
		return false
	}
	*out = bytes.Clone(b)
	if *out == nil {
		*out = []byte{}
	}
	return true
}

func readInt(s *cryptobyte.String) (*int64, bool) {
	var n int64
	if !s.ReadASN1Integer(&n) {
		return nil, false
	}
	return &n, true
}

func readIntSet(s *cryptobyte.String) ([]int64, bool) {
	var set cryptobyte.String
	if !s.ReadASN1(&set, casn1.SET) {
		return nil, false
	}
	out := []int64{}
	for !set.Empty() {
		var n int64
		if !set.ReadASN1Integer(&n) {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

func readRootOfTrust(s *cryptobyte.String) (*RootOfTrust, bool) {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, casn1.SEQUENCE) {
		return nil, false
	}
	r := &RootOfTrust{}
	var state int
	if !readOctets(&seq, &r.VerifiedBootKey) ||
		!seq.ReadASN1Boolean(&r.DeviceLocked) ||
		!seq.ReadASN1Enum(&state) {
		return nil, false
	}
	r.VerifiedBootState = VerifiedBootState(state)
	if !seq.Empty() && !readOctets(&seq, &r.VerifiedBootHash) {
		return nil, false
	}
	return r, seq.Empty()
}

func readAttestationApplicationID(s *cryptobyte.String) (*AttestationApplicationID, bool) {
	var der cryptobyte.String
	if !s.ReadASN1(&der, casn1.OCTET_STRING) {
		return nil, false
	}
	var seq, pkgs, digests cryptobyte.String
	if !der.ReadASN1(&seq, casn1.SEQUENCE) || !der.Empty() ||
		!seq.ReadASN1(&pkgs, casn1.SET) ||
		!seq.ReadASN1(&digests, casn1.SET) || !seq.Empty() {
		return nil, false
	}
	a := &AttestationApplicationID{}
	for !pkgs.Empty() {
		var info cryptobyte.String
		var name []byte
		var p PackageInfo
		if !pkgs.ReadASN1(&info, casn1.SEQUENCE) ||
			!info.ReadASN1Bytes(&name, casn1.OCTET_STRING) ||
			!info.ReadASN1Integer(&p.Version) || !info.Empty() {
			return nil, false
		}
		p.Name = string(name)
		a.Packages = append(a.Packages, p)
	}
	for !digests.Empty() {
		var d []byte
		if !readOctets(&digests, &d) {
			return nil, false
		}
		a.SignatureDigests = append(a.SignatureDigests, d)
	}
	return a, true
}
