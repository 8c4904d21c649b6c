package androidkey

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/cryptobyte"
)

type reasonCase struct {
	name    string
	chain   func(t *testing.T) [][]byte // nil: the default synthetic chain
	kd      func(*kdParams)             // edits the default KeyDescription
	policy  func(*Policy)               // edits synthPolicy
	at      time.Time                   // zero: synthNow
	noChall bool                        // verify with an empty challenge
	want    []string                    // nil: valid
	comment string
}

func reasonCases() []reasonCase {
	pki := testPKIOnce()
	chainWith := func(o chainOpts) func(t *testing.T) [][]byte {
		return func(t *testing.T) [][]byte { return buildChain(t, o) }
	}
	statusList := func(serials ...string) *StatusList {
		var entries []string
		for _, s := range serials {
			entries = append(entries, fmt.Sprintf("%q: {\"status\": \"REVOKED\", \"reason\": \"KEY_COMPROMISE\"}", s))
		}
		l, err := ParseStatusList([]byte(`{"entries": {` + strings.Join(entries, ",") + `}}`))
		if err != nil {
			panic(err)
		}
		return l
	}
	return []reasonCase{
		{name: "valid EC root"},
		{name: "valid RSA root", chain: chainWith(chainOpts{rootKey: pki.rsaKey})},
		{name: "valid RSA leaf", chain: chainWith(chainOpts{leafKey: pki.rsaLeaf, kd: func() []byte {
			k := defaultKD()
			k.algorithm, k.keySize, k.curve, k.rsaExp = 1, 2048, -1, 65537
			return k.der()
		}()})},

		{name: "no apps", policy: func(p *Policy) { p.Apps = nil }, want: []string{ReasonInvalidPolicy}},
		{name: "app without digests", policy: func(p *Policy) { p.Apps[0].SigningCertDigests = nil }, want: []string{ReasonInvalidPolicy}},
		{name: "short digest", policy: func(p *Policy) { p.Apps[0].SigningCertDigests = [][]byte{{1, 2}} }, want: []string{ReasonInvalidPolicy}},
		{name: "duplicate app", policy: func(p *Policy) { p.Apps = append(p.Apps, p.Apps[0]) }, want: []string{ReasonInvalidPolicy}},
		{name: "empty trusted roots", policy: func(p *Policy) { p.TrustedRoots = []crypto.PublicKey{} }, want: []string{ReasonInvalidPolicy}},
		{name: "unsupported root key", policy: func(p *Policy) { p.TrustedRoots = []crypto.PublicKey{"key"} }, want: []string{ReasonInvalidPolicy}},
		{name: "bad patch minimum", policy: func(p *Policy) { p.MinOSPatchLevel = 202313 }, want: []string{ReasonInvalidPolicy}},
		{name: "huge skew", policy: func(p *Policy) { p.LeafSkew = 2 * time.Hour }, want: []string{ReasonInvalidPolicy}},

		{name: "eleven certificates", chain: func(t *testing.T) [][]byte {
			c := buildChain(t, chainOpts{})
			return append(c, c[1], c[1], c[1], c[1], c[1], c[1], c[1], c[1])
		}, want: []string{ReasonTooLarge}},
		{name: "oversized certificate", chain: func(t *testing.T) [][]byte {
			c := buildChain(t, chainOpts{})
			return [][]byte{c[0], make([]byte, MaxCertSize+1), c[2]}
		}, want: []string{ReasonTooLarge}},

		{name: "empty chain", chain: func(*testing.T) [][]byte { return nil }, want: []string{ReasonMalformedChain}},
		{name: "leaf only", chain: func(t *testing.T) [][]byte { return buildChain(t, chainOpts{})[:1] }, want: []string{ReasonMalformedChain}},
		{name: "garbage certificate", chain: func(t *testing.T) [][]byte {
			c := buildChain(t, chainOpts{})
			return [][]byte{c[0], []byte("not a certificate"), c[2]}
		}, want: []string{ReasonMalformedChain}},

		{name: "leaf signed by another key", chain: chainWith(chainOpts{leafSigner: pki.otherKey}), want: []string{ReasonBadSignatureChain}},
		{name: "intermediate signed by another key", chain: chainWith(chainOpts{interSign: pki.otherKey}), want: []string{ReasonBadSignatureChain}},
		{name: "root carries the trusted key but is not self-signed", chain: chainWith(chainOpts{rootSigner: pki.otherKey}), want: []string{ReasonBadSignatureChain}},
		{name: "chain out of order", chain: func(t *testing.T) [][]byte {
			c := buildChain(t, chainOpts{})
			return [][]byte{c[0], c[2], c[1]}
		}, want: []string{ReasonBadSignatureChain, ReasonUntrustedRoot}},
		{name: "1024-bit RSA signer", chain: chainWith(chainOpts{interKey: pki.weakRSA}), want: []string{ReasonBadSignatureChain}},
		{name: "SHA-1 signature", chain: chainWith(chainOpts{rootKey: pki.rsaKey, inter: func(c *x509.Certificate) { c.SignatureAlgorithm = x509.SHA1WithRSA }}), want: []string{ReasonBadSignatureChain},
			comment: "crypto/x509 CheckSignature accepts SHA-1; the allow-list does not"},

		{name: "intermediate not a CA", chain: chainWith(chainOpts{inter: func(c *x509.Certificate) { c.IsCA = false }}), want: []string{ReasonConstraintViolation}},
		{name: "intermediate without certSign", chain: chainWith(chainOpts{inter: func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature }}), want: []string{ReasonConstraintViolation}},
		{name: "root path length zero over an intermediate", chain: chainWith(chainOpts{root: func(c *x509.Certificate) { c.MaxPathLenZero = true }}), want: []string{ReasonConstraintViolation}},
		{name: "intermediate without extensions", chain: chainWith(chainOpts{inter: func(c *x509.Certificate) { c.BasicConstraintsValid, c.IsCA, c.KeyUsage = false, false, 0 }}),
			comment: "constraints are checked where present"},
		{name: "unhandled critical extension", chain: chainWith(chainOpts{leaf: func(c *x509.Certificate) {
			c.ExtraExtensions = append(c.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: true, Value: []byte{5, 0}})
		}}), want: []string{ReasonConstraintViolation}},
		{name: "KeyDescription on the intermediate", chain: chainWith(chainOpts{inter: func(c *x509.Certificate) {
			c.ExtraExtensions = []pkix.Extension{{Id: OIDKeyDescription, Value: defaultKD().der()}}
		}}), want: []string{ReasonConstraintViolation}},

		{name: "intermediate expired", at: synthNow.AddDate(0, 0, 15), want: []string{ReasonCertExpired}},
		{name: "intermediate not yet valid", at: synthNow.AddDate(0, 0, -15), want: []string{ReasonCertNotYetValid}},
		{name: "leaf ahead within the default skew", chain: chainWith(chainOpts{leaf: func(c *x509.Certificate) { c.NotBefore = synthNow.Add(4 * time.Minute) }})},
		{name: "leaf ahead beyond the default skew", chain: chainWith(chainOpts{leaf: func(c *x509.Certificate) { c.NotBefore = synthNow.Add(6 * time.Minute) }}), want: []string{ReasonCertNotYetValid}},
		{name: "leaf ahead, skew disabled", chain: chainWith(chainOpts{leaf: func(c *x509.Certificate) { c.NotBefore = synthNow.Add(time.Minute) }}),
			policy: func(p *Policy) { p.LeafSkew = -1 }, want: []string{ReasonCertNotYetValid}},
		{name: "leaf expired just now, within skew", chain: chainWith(chainOpts{leaf: func(c *x509.Certificate) { c.NotAfter = synthNow.Add(-time.Minute) }})},
		{name: "leaf notAfter before notBefore", chain: chainWith(chainOpts{leaf: func(c *x509.Certificate) {
			c.NotBefore, c.NotAfter = time.Unix(0, 0), time.Unix(-1, 0)
		}}), want: []string{ReasonCertExpired}, comment: "the emulator leaves' pitfall"},

		{name: "unknown root", policy: func(p *Policy) { p.TrustedRoots = nil }, want: []string{ReasonUntrustedRoot}},

		{name: "intermediate revoked", policy: func(p *Policy) { p.Revoked = statusList("2002") }, want: []string{ReasonRevoked}},
		{name: "root revoked", policy: func(p *Policy) { p.Revoked = statusList("1001") }, want: []string{ReasonRevoked}},
		{name: "leaf serial listed", policy: func(p *Policy) { p.Revoked = statusList("1", "0001") },
			comment: "leaf serials are not unique: not applied to leaves"},

		{name: "no KeyDescription", chain: chainWith(chainOpts{noKD: true}), want: []string{ReasonNoKeyDescription}},
		{name: "malformed KeyDescription", chain: chainWith(chainOpts{kd: []byte{0x30, 0x03, 0x02, 0x01}}), want: []string{ReasonMalformedKeyDescription}},
		{name: "malformed KeyDescription under a bad signature", chain: chainWith(chainOpts{kd: []byte{0x05, 0x00}, leafSigner: pki.otherKey}),
			want: []string{ReasonBadSignatureChain, ReasonMalformedKeyDescription}},

		{name: "other challenge", kd: func(k *kdParams) { k.challenge = []byte("replayed") }, want: []string{ReasonChallengeMismatch}},
		{name: "empty challenges", kd: func(k *kdParams) { k.challenge = nil }, noChall: true, want: []string{ReasonChallengeMismatch}},

		{name: "software attestation", kd: func(k *kdParams) { k.attLevel = 0 }, want: []string{ReasonSoftwareSecurityLevel,
			ReasonUnlockedBootloader, ReasonUnverifiedBoot, ReasonPatchLevelTooOld},
			comment: "a software attestation's device state is read from softwareEnforced, where this one has none"},
		{name: "software keymint", kd: func(k *kdParams) { k.kmLevel = 0 }, want: []string{ReasonSoftwareSecurityLevel}},
		{name: "StrongBox", kd: func(k *kdParams) { k.attLevel, k.kmLevel = 2, 2 }},
		{name: "unknown security level even when software is allowed", kd: func(k *kdParams) { k.attLevel = 3 },
			policy: func(p *Policy) { p.AllowSoftware = true }, want: []string{ReasonSoftwareSecurityLevel}},
		{name: "software allowed, device state from softwareEnforced", kd: func(k *kdParams) { k.attLevel, k.kmLevel, k.deviceInSoftware = 0, 0, true },
			policy: func(p *Policy) { p.AllowSoftware = true }},
		{name: "software attestation ignores hardwareEnforced device state", kd: func(k *kdParams) { k.attLevel, k.kmLevel = 0, 0 },
			policy: func(p *Policy) { p.AllowSoftware = true }, want: []string{ReasonUnlockedBootloader, ReasonUnverifiedBoot, ReasonPatchLevelTooOld},
			comment: "patch levels asked by the policy below are missing from softwareEnforced"},

		{name: "unlocked", kd: func(k *kdParams) { k.locked = false }, want: []string{ReasonUnlockedBootloader}},
		{name: "unlocked allowed", kd: func(k *kdParams) { k.locked = false }, policy: func(p *Policy) { p.AllowUnlocked = true }},
		{name: "no root of trust", kd: func(k *kdParams) { k.noRoT = true }, want: []string{ReasonUnlockedBootloader, ReasonUnverifiedBoot}},
		{name: "self-signed boot", kd: func(k *kdParams) { k.bootState = 1 }, want: []string{ReasonUnverifiedBoot}},
		{name: "unverified boot", kd: func(k *kdParams) { k.bootState = 2 }, want: []string{ReasonUnverifiedBoot}},
		{name: "unverified boot allowed", kd: func(k *kdParams) { k.bootState = 2 }, policy: func(p *Policy) { p.AllowUnverifiedBoot = true }},
		{name: "failed boot never allowed", kd: func(k *kdParams) { k.bootState = 3 }, policy: func(p *Policy) { p.AllowUnverifiedBoot = true }, want: []string{ReasonUnverifiedBoot}},

		{name: "OS patch too old", kd: func(k *kdParams) { k.osPatch = 202511 }, want: []string{ReasonPatchLevelTooOld}},
		{name: "vendor patch month-only", kd: func(k *kdParams) { k.vendorPatch = 202603 }, want: []string{ReasonPatchLevelTooOld},
			comment: "202603 is 20260300, before the 20260301 minimum"},
		{name: "boot patch missing", kd: func(k *kdParams) { k.bootP = 0 }, want: []string{ReasonPatchLevelTooOld}},
		{name: "boot patch not a date", kd: func(k *kdParams) { k.bootP = 20261399 }, want: []string{ReasonPatchLevelTooOld}},
		{name: "patch levels not asked", kd: func(k *kdParams) { k.osPatch, k.vendorPatch, k.bootP = 0, 0, 0 },
			policy: func(p *Policy) { p.MinOSPatchLevel, p.MinVendorPatchLevel, p.MinBootPatchLevel = 0, 0, 0 }},

		{name: "RSA described, EC key", kd: func(k *kdParams) { k.algorithm = 1 }, want: []string{ReasonKeyMismatch}},
		{name: "P-384 described, P-256 key", kd: func(k *kdParams) { k.curve = 2 }, want: []string{ReasonKeyMismatch}},
		{name: "key size disagrees", kd: func(k *kdParams) { k.keySize = 384 }, want: []string{ReasonKeyMismatch}},
		{name: "no algorithm", kd: func(k *kdParams) { k.algorithm = 0 }, want: []string{ReasonKeyMismatch}},

		{name: "other package", kd: func(k *kdParams) { k.pkgs = []PackageInfo{{Name: "com.evil.app", Version: 9}} }, want: []string{ReasonPackageNotAllowed}},
		{name: "no attestationApplicationId", kd: func(k *kdParams) { k.noAAI = true }, want: []string{ReasonPackageNotAllowed}},
		{name: "shared UID, one package allowed", kd: func(k *kdParams) {
			k.pkgs = []PackageInfo{{Name: "com.example.helper", Version: 1}, {Name: synthPackage, Version: 7}}
		}},
		{name: "digest not allowed", kd: func(k *kdParams) { k.digests = [][]byte{bytes.Repeat([]byte{2}, 32)} }, want: []string{ReasonSignatureDigestNotAllowed}},
		{name: "one of two digests not allowed", kd: func(k *kdParams) { k.digests = append(k.digests, bytes.Repeat([]byte{2}, 32)) }, want: []string{ReasonSignatureDigestNotAllowed}},
		{name: "no digests", kd: func(k *kdParams) { k.digests = nil }, want: []string{ReasonSignatureDigestNotAllowed}},
		{name: "rotated: policy lists old and new", policy: func(p *Policy) {
			p.Apps[0].SigningCertDigests = append([][]byte{bytes.Repeat([]byte{3}, 32)}, p.Apps[0].SigningCertDigests...)
		}},
		{name: "version too old", kd: func(k *kdParams) { k.pkgs[0].Version = 6 }, want: []string{ReasonVersionTooOld}},
		{name: "digest and version", kd: func(k *kdParams) { k.pkgs[0].Version, k.digests = 6, [][]byte{bytes.Repeat([]byte{2}, 32)} },
			want: []string{ReasonSignatureDigestNotAllowed, ReasonVersionTooOld}},

		{name: "everything wrong at once", chain: chainWith(chainOpts{leafSigner: pki.otherKey, kd: func() []byte {
			k := defaultKD()
			k.challenge, k.attLevel, k.locked, k.bootState, k.osPatch, k.algorithm = []byte("x"), 0, false, 2, 201001, 1
			k.digests, k.pkgs[0].Version = [][]byte{bytes.Repeat([]byte{2}, 32)}, 1
			return k.der()
		}()}), at: synthNow.AddDate(0, 0, 15), policy: func(p *Policy) { p.TrustedRoots = nil; p.Revoked = statusList("2002") },
			want: []string{ReasonBadSignatureChain, ReasonCertExpired, ReasonUntrustedRoot, ReasonRevoked, ReasonChallengeMismatch,
				ReasonSoftwareSecurityLevel, ReasonUnlockedBootloader, ReasonUnverifiedBoot, ReasonPatchLevelTooOld, ReasonKeyMismatch,
				ReasonSignatureDigestNotAllowed, ReasonVersionTooOld}},
	}
}

// TestReasons runs every synthetic case, then fails if a declared reason
// was never produced.
func TestReasons(t *testing.T) {
	produced := map[string]bool{}
	for _, c := range reasonCases() {
		t.Run(c.name, func(t *testing.T) {
			var chain [][]byte
			switch {
			case c.chain != nil:
				chain = c.chain(t)
			case c.kd != nil:
				k := defaultKD()
				c.kd(&k)
				chain = buildChain(t, chainOpts{kd: k.der()})
			default:
				chain = buildChain(t, chainOpts{})
			}
			p := synthPolicy(t)
			p.MinOSPatchLevel, p.MinVendorPatchLevel, p.MinBootPatchLevel = 202602, 20260301, 202603
			challenge := synthChallenge
			if c.policy != nil {
				c.policy(&p)
			}
			if c.noChall {
				challenge = nil
			}
			at := c.at
			if at.IsZero() {
				at = synthNow
			}
			r := Verify(chain, challenge, p, at)
			for _, code := range r.Reasons {
				produced[code] = true
			}
			if diff := cmp.Diff(c.want, r.Reasons); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if r.Valid != (len(c.want) == 0) || (len(c.want) > 0 && r.Reason != c.want[0]) {
				t.Errorf("Valid %v Reason %q, want first of %v", r.Valid, r.Reason, c.want)
			}
			if r.Facts.Platform != "android" {
				t.Errorf("platform %q", r.Facts.Platform)
			}
		})
	}
	for _, code := range Reasons {
		if !produced[code] {
			t.Errorf("reason %s is declared but no case produces it", code)
		}
	}
}

func TestReasonsDeclared(t *testing.T) {
	seen := map[string]bool{}
	for _, code := range Reasons {
		if !strings.HasPrefix(code, "androidkey.") || seen[code] {
			t.Errorf("bad or duplicate reason %q", code)
		}
		seen[code] = true
	}
}

func TestValidFacts(t *testing.T) {
	chain := buildChain(t, chainOpts{})
	r := Verify(chain, synthChallenge, synthPolicy(t), synthNow)
	if !r.Valid {
		t.Fatal(r.Reasons)
	}
	leaf, _ := x509.ParseCertificate(chain[0])
	inter, _ := x509.ParseCertificate(chain[1])
	if !bytes.Equal(r.Facts.PublicKey, leaf.RawSubjectPublicKeyInfo) || r.Facts.AppID != synthPackage || r.Facts.AppVersion != "7" ||
		r.Facts.SecurityLevel != "tee" || !r.Facts.DeviceLocked || r.Facts.VerifiedBoot != "verified" || r.Facts.OSPatchLevel != 202603 ||
		!r.Facts.NotAfter.Equal(inter.NotAfter) || len(r.Facts.KeyID) != 44 {
		t.Errorf("facts: %+v", r.Facts)
	}
	// Verify does not keep or alter the caller's bytes.
	r.Facts.PublicKey[0] ^= 0xff
	if leaf2, _ := x509.ParseCertificate(chain[0]); !bytes.Equal(leaf2.Raw, chain[0]) {
		t.Error("chain altered")
	}
}

// TestKeyDescriptionUnknownTags checks that unknown and unneeded tags,
// including high tag numbers, are skipped, and duplicates refused.
func TestKeyDescriptionUnknownTags(t *testing.T) {
	k := defaultKD()
	k.extraHW = func(b *cryptobyte.Builder) {
		explicit(b, 724, func(b *cryptobyte.Builder) { b.AddASN1OctetString([]byte("module hash")) })
		explicit(b, 9999, func(b *cryptobyte.Builder) { b.AddASN1Int64(1) })
	}
	kd, err := ParseKeyDescription(k.der())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{724, 9999}, kd.HardwareEnforced.OtherTags); diff != "" {
		t.Error(diff)
	}
	k.extraHW = func(b *cryptobyte.Builder) { explicitInt(b, tagOSPatchLevel, 202001) }
	if _, err := ParseKeyDescription(k.der()); err == nil {
		t.Error("duplicate osPatchLevel accepted")
	}
	chain := buildChain(t, chainOpts{kd: k.der()})
	p := synthPolicy(t)
	if r := Verify(chain, synthChallenge, p, synthNow); r.Reason != ReasonMalformedKeyDescription {
		t.Errorf("duplicate tag: %v", r.Reasons)
	}
}
