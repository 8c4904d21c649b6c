package playintegrity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults and bounds of a Policy.
const (
	// DefaultMaxAge is how old a verdict may be when Policy.MaxAge is
	// zero: the challenge it carries lives two minutes too.
	DefaultMaxAge = 2 * time.Minute
	// DefaultFutureSkew is how far ahead of the verification time a
	// verdict's timestamp may be when Policy.FutureSkew is zero (Google's
	// clock against the gateway's), and MaxFutureSkew the most Validate
	// accepts.
	DefaultFutureSkew = 30 * time.Second
	MaxFutureSkew     = 10 * time.Minute
	// DefaultMaxTokenBytes caps a token when Policy.MaxTokenBytes is zero.
	// Real tokens are 1 to 3 KiB.
	DefaultMaxTokenBytes = 16 << 10
	// DecryptionKeySize is the size of the AES-256 key-wrapping key.
	DecryptionKeySize = 32
)

// Device recognition labels (deviceIntegrity.deviceRecognitionVerdict).
// Google lists them cumulatively: a device that meets device integrity
// also lists basic integrity.
const (
	MeetsBasicIntegrity   = "MEETS_BASIC_INTEGRITY"
	MeetsDeviceIntegrity  = "MEETS_DEVICE_INTEGRITY"
	MeetsStrongIntegrity  = "MEETS_STRONG_INTEGRITY"
	MeetsVirtualIntegrity = "MEETS_VIRTUAL_INTEGRITY"
)

// App recognition verdicts (appIntegrity.appRecognitionVerdict) and
// licensing verdicts (accountDetails.appLicensingVerdict).
const (
	PlayRecognized      = "PLAY_RECOGNIZED"
	UnrecognizedVersion = "UNRECOGNIZED_VERSION"
	Unevaluated         = "UNEVALUATED"
	Licensed            = "LICENSED"
	Unlicensed          = "UNLICENSED"
)

// Policy says which integrity verdicts Verify accepts for one app. Its
// zero value names no app and no keys: Verify refuses every token under
// it with ReasonInvalidPolicy, so that a configuration that forgot them
// fails loudly.
//
// The app checks (package, recognition, signing certificate) cannot be
// turned off: a verdict about the device alone says nothing about which
// app is asking.
type Policy struct {
	// Package is the app's package name (application ID). Required.
	Package string
	// DecryptionKey is the app's 32-byte AES key that unwraps the
	// token's content key (Play Console, App integrity, "Decryption key";
	// see ParseDecryptionKey). Required. It is a secret: Policy's String
	// method never prints it.
	DecryptionKey []byte
	// VerificationKey is the app's ECDSA P-256 public key that verifies
	// the verdict's signature (Play Console, "Verification key"; see
	// ParseVerificationKey). Required.
	VerificationKey *ecdsa.PublicKey
	// SigningCertDigests are the SHA-256 digests (32 bytes each) of the
	// app signing certificates accepted. At least one is required. Every
	// digest the verdict lists must be one of them.
	SigningCertDigests [][]byte
	// MinVersionCode is the lowest version code accepted. Zero: any.
	MinVersionCode int64
	// AllowUnrecognizedVersion accepts appRecognitionVerdict
	// UNRECOGNIZED_VERSION: a build Google Play does not know, such as a
	// sideloaded debug build. If false, only PLAY_RECOGNIZED is accepted.
	AllowUnrecognizedVersion bool
	// DeviceIntegrity is the label deviceRecognitionVerdict must carry:
	// MeetsDeviceIntegrity if empty, MeetsStrongIntegrity (a
	// hardware-backed boot state), or MeetsBasicIntegrity (also rooted or
	// uncertified devices: only when the app accepts them).
	DeviceIntegrity string
	// AllowVirtual accepts MEETS_VIRTUAL_INTEGRITY (an emulator with Play
	// services) in place of basic or device integrity, never of strong.
	AllowVirtual bool
	// RequireLicensed requires appLicensingVerdict LICENSED: the user
	// installed or bought the app from Google Play. If false, it is not
	// checked.
	RequireLicensed bool
	// AllowTestingResponse accepts test responses configured in Play
	// Console for tester accounts. If false, they are refused.
	AllowTestingResponse bool
	// MaxAge is how old requestDetails.timestampMillis may be at the
	// verification time. If zero, DefaultMaxAge. Negative is invalid.
	MaxAge time.Duration
	// FutureSkew is how far timestampMillis may be ahead of the
	// verification time. If zero, DefaultFutureSkew; if negative, none.
	FutureSkew time.Duration
	// MaxTokenBytes caps the token's length before anything is parsed.
	// If zero, DefaultMaxTokenBytes. Negative is invalid.
	MaxTokenBytes int
}

// String describes the policy without its decryption key.
func (p Policy) String() string {
	return fmt.Sprintf("playintegrity.Policy{Package: %q, DecryptionKey: [%d bytes redacted], %d signing digests, MinVersionCode: %d, DeviceIntegrity: %q}",
		p.Package, len(p.DecryptionKey), len(p.SigningCertDigests), p.MinVersionCode, p.deviceLevel())
}

// GoString is String, so that %#v does not print the key either.
func (p Policy) GoString() string { return p.String() }

func (p Policy) deviceLevel() string {
	if p.DeviceIntegrity == "" {
		return MeetsDeviceIntegrity
	}
	return p.DeviceIntegrity
}

// Validate reports every problem with the policy at once. It changes
// nothing, and its errors never contain key material.
func (p Policy) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("playintegrity: policy: "+format, args...))
	}
	if p.Package == "" || len(p.Package) > 255 {
		bad("package name is empty or longer than 255 bytes")
	}
	if len(p.DecryptionKey) != DecryptionKeySize {
		bad("decryption key is %d bytes, want %d (AES-256)", len(p.DecryptionKey), DecryptionKeySize)
	}
	if p.VerificationKey == nil || p.VerificationKey.Curve != elliptic.P256() {
		bad("verification key is missing or not an ECDSA P-256 key")
	}
	if len(p.SigningCertDigests) == 0 {
		bad("no signing certificate digests")
	}
	for i, d := range p.SigningCertDigests {
		if len(d) != sha256.Size {
			bad("signing certificate digest %d is %d bytes, want %d", i, len(d), sha256.Size)
		}
	}
	if p.MinVersionCode < 0 {
		bad("negative minimum version code")
	}
	switch p.DeviceIntegrity {
	case "", MeetsBasicIntegrity, MeetsDeviceIntegrity, MeetsStrongIntegrity:
	default:
		bad("device integrity %q is not %s, %s or %s", p.DeviceIntegrity, MeetsBasicIntegrity, MeetsDeviceIntegrity, MeetsStrongIntegrity)
	}
	if p.MaxAge < 0 {
		bad("negative MaxAge")
	}
	if p.FutureSkew > MaxFutureSkew {
		bad("FutureSkew %v exceeds %v", p.FutureSkew, MaxFutureSkew)
	}
	if p.MaxTokenBytes < 0 {
		bad("negative MaxTokenBytes")
	}
	return errors.Join(errs...)
}

// ParseDecryptionKey reads the decryption key as Play Console shows it:
// base64 (standard or URL-safe alphabet, padded or not) of 32 bytes.
// Surrounding white space is ignored. The error never contains the key.
func ParseDecryptionKey(s string) ([]byte, error) {
	b, err := decodeBase64(strings.TrimSpace(s))
	if err != nil || len(b) != DecryptionKeySize {
		return nil, errors.New("playintegrity: the decryption key is not base64 of 32 bytes")
	}
	return b, nil
}

// ParseVerificationKey reads the verification key as Play Console shows
// it: base64 of a DER SubjectPublicKeyInfo holding an ECDSA P-256 key.
func ParseVerificationKey(s string) (*ecdsa.PublicKey, error) {
	der, err := decodeBase64(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("playintegrity: the verification key is not base64")
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("playintegrity: the verification key is not a DER public key")
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, errors.New("playintegrity: the verification key is not an ECDSA P-256 key")
	}
	return k, nil
}

// decodeBase64 accepts both alphabets, with or without padding: keys are
// copied by hand from a web page, and the alphabets never collide.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
