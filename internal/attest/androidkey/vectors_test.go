package androidkey

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
)

// today is the date the vectors README calls "today": the verdicts at this
// date are part of the conformance record.
var today = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// wardenDigest is the signing-certificate digest of the app of the two
// valid warden chains.
var wardenDigest, _ = base64.StdEncoding.DecodeString("NLl2LE1skNSEMZQMV73nMUJYsmQg7+Fqx/cnTw0zCtU=")

// systemDigest signs the shared system UID of the
// google/android-key-attestation TestDPC samples ("android" v29).
var systemDigest, _ = base64.StdEncoding.DecodeString("MBqjywgRNFAcRfFCKrxmwkIk/V3tX9yPF+aXF2/YZqo=")

var otherApp = App{Package: "com.example.wallet", SigningCertDigests: [][]byte{bytes.Repeat([]byte{7}, 32)}}

// relaxedSystem is the policy under which the google-aka TEE chains are
// valid: their device is unlocked with Unverified boot, and the attested
// app is the system UID.
var relaxedSystem = Policy{
	Apps:                []App{{Package: "android", SigningCertDigests: [][]byte{systemDigest}, MinVersionCode: 29}},
	AllowUnlocked:       true,
	AllowUnverifiedBoot: true,
}

// vectorCase is the verdict recorded for a vector under a policy, at the
// vector's verified_at_time.
type vectorCase struct {
	vector  string
	policy  func(v *androidVector) Policy
	reasons []string // nil: valid
}

// hardwarePolicy is the default (strictest) device policy for the
// vector's own app, or for an unrelated app when the vector names none.
func hardwarePolicy(tb testing.TB) func(v *androidVector) Policy {
	return func(v *androidVector) Policy {
		app, ok := v.app(tb)
		if !ok {
			app = otherApp
		}
		return Policy{Apps: []App{app}}
	}
}

func fixed(p Policy) func(*androidVector) Policy { return func(*androidVector) Policy { return p } }

func vectorCases(tb testing.TB) []vectorCase {
	hw := hardwarePolicy(tb)
	softwareRefusal := []string{ReasonCertExpired, ReasonUntrustedRoot, ReasonSoftwareSecurityLevel, ReasonUnlockedBootloader, ReasonUnverifiedBoot}
	return []vectorCase{
		{vector: "warden-nokia-x10-keymaster4-tee", policy: hw},
		{vector: "warden-pixel6-keymint200-rkp", policy: hw},
		// Chain valid, device policy refuses: unlocked, Unverified, and the
		// attested app is the system UID, not ours.
		{vector: "google-aka-ec-tee", policy: hw, reasons: []string{ReasonUnlockedBootloader, ReasonUnverifiedBoot, ReasonPackageNotAllowed}},
		{vector: "google-aka-rsa-tee", policy: hw, reasons: []string{ReasonUnlockedBootloader, ReasonUnverifiedBoot, ReasonPackageNotAllowed}},
		{vector: "google-aka-ec-tee", policy: fixed(relaxedSystem)},
		{vector: "google-aka-rsa-tee", policy: fixed(relaxedSystem)},
		// Pre-production StrongBox: untrusted root, whatever the policy.
		{vector: "google-aka-ec-strongbox", policy: hw, reasons: []string{ReasonUntrustedRoot, ReasonUnlockedBootloader, ReasonUnverifiedBoot, ReasonPackageNotAllowed}},
		{vector: "google-aka-rsa-strongbox", policy: hw, reasons: []string{ReasonUntrustedRoot, ReasonUnlockedBootloader, ReasonUnverifiedBoot, ReasonPackageNotAllowed}},
		{vector: "google-aka-ec-strongbox", policy: fixed(relaxedSystem), reasons: []string{ReasonUntrustedRoot}},
		{vector: "google-aka-rsa-strongbox", policy: fixed(relaxedSystem), reasons: []string{ReasonUntrustedRoot}},
		// Emulators: software attestation under the AOSP software root,
		// and a leaf whose notAfter precedes its notBefore.
		{vector: "warden-emulator-software-ec", policy: hw, reasons: softwareRefusal},
		// The RSA software chain is also signed with 1024-bit RSA keys,
		// below the signing-key floor.
		{vector: "warden-emulator-software-rsa", policy: hw, reasons: append([]string{ReasonBadSignatureChain}, softwareRefusal...)},
		// Nougat hybrid: key in the TEE, attestation in software, signed by
		// the software root; no RootOfTrust at all.
		{vector: "warden-bq-aquaris-nougat-hybrid", policy: hw, reasons: []string{ReasonUntrustedRoot, ReasonSoftwareSecurityLevel, ReasonUnlockedBootloader, ReasonUnverifiedBoot}},
	}
}

func TestVectorVerdicts(t *testing.T) {
	vectors := loadAndroidVectors(t)
	covered := map[string]bool{}
	for _, c := range vectorCases(t) {
		v := vectors[c.vector]
		if v == nil {
			t.Fatalf("vector %s missing", c.vector)
		}
		covered[c.vector] = true
		r := Verify(v.chain(t), v.challenge(t), c.policy(v), v.VerifiedAt)
		if diff := cmp.Diff(c.reasons, r.Reasons); diff != "" {
			t.Errorf("%s (%s): reasons (-want +got):\n%s", c.vector, v.Expected, diff)
		}
		if r.Valid != (c.reasons == nil) {
			t.Errorf("%s: Valid = %v", c.vector, r.Valid)
		}
		if !agreesWithREADME(v.Expected, c.reasons) {
			t.Errorf("%s: README verdict %q disagrees with reasons %v", c.vector, v.Expected, c.reasons)
		}
	}
	for name := range vectors {
		if !covered[name] {
			t.Errorf("vector %s has no recorded verdict", name)
		}
	}
}

// agreesWithREADME reports whether the recorded reasons fit the README's
// verdict for the vector.
func agreesWithREADME(expected string, reasons []string) bool {
	has := func(code string) bool { return slices.Contains(reasons, code) }
	switch expected {
	case "valid":
		return reasons == nil
	case "chain-valid-but-device-policy-reject":
		// Valid when the policy is relaxed; else refused for the device
		// or the app, never for the chain.
		for _, r := range reasons {
			if slices.Index(Reasons, r) < slices.Index(Reasons, ReasonNoKeyDescription) {
				return false
			}
		}
		return true
	case "invalid-untrusted-root":
		return has(ReasonUntrustedRoot)
	case "invalid-for-hardware-policy":
		return has(ReasonSoftwareSecurityLevel) && has(ReasonUntrustedRoot)
	}
	return false
}

// TestVectorFacts checks the facts of the two valid warden chains and the
// relaxed google-aka chains against what the vectors record.
func TestVectorFacts(t *testing.T) {
	vectors := loadAndroidVectors(t)
	for _, name := range []string{"warden-nokia-x10-keymaster4-tee", "warden-pixel6-keymint200-rkp"} {
		v := vectors[name]
		chain := v.chain(t)
		r := Verify(chain, v.challenge(t), hardwarePolicy(t)(v), v.VerifiedAt)
		leaf, _ := x509.ParseCertificate(chain[0])
		sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
		want := attest.Facts{
			Platform:           "android",
			AppID:              "at.asitplus.attestation_client",
			AppVersion:         "1",
			SigningCertDigests: []string{hex.EncodeToString(wardenDigest)},
			KeyID:              base64.StdEncoding.EncodeToString(sum[:]),
			PublicKey:          leaf.RawSubjectPublicKeyInfo,
			SecurityLevel:      "tee",
			DeviceLocked:       true,
			VerifiedBoot:       "verified",
			OSPatchLevel:       202303,
			NotAfter:           r.Facts.NotAfter,
		}
		if diff := cmp.Diff(want, r.Facts); diff != "" || !r.Valid {
			t.Errorf("%s: valid=%v facts (-want +got):\n%s", name, r.Valid, diff)
		}
		if v.ExpectedSPKIB64 != "" {
			spki, _ := base64.StdEncoding.DecodeString(v.ExpectedSPKIB64)
			if !bytes.Equal(spki, r.Facts.PublicKey) {
				t.Errorf("%s: public key is not the recorded one", name)
			}
		}
	}
	// Keymaster 4 and KeyMint 200.
	for name, want := range map[string]int64{"warden-nokia-x10-keymaster4-tee": 4, "warden-pixel6-keymint200-rkp": 200} {
		kd := vectorKeyDescription(t, vectors[name])
		if kd.KeyMintVersion != want || kd.AttestationSecurityLevel != TrustedEnvironment || kd.KeyMintSecurityLevel != TrustedEnvironment {
			t.Errorf("%s: keymaster/KeyMint version %d levels %v/%v, want %d TEE", name, kd.KeyMintVersion, kd.AttestationSecurityLevel, kd.KeyMintSecurityLevel, want)
		}
	}
	// The RKP chain stops verifying when its intermediates expire.
	r := Verify(vectors["warden-pixel6-keymint200-rkp"].chain(t), nil, Policy{Apps: []App{otherApp}}, time.Time{})
	if want := time.Date(2023, 5, 1, 11, 49, 49, 0, time.UTC); !r.Facts.NotAfter.Equal(want) {
		t.Errorf("pixel6 NotAfter = %v, want %v", r.Facts.NotAfter, want)
	}
	r = Verify(vectors["google-aka-ec-tee"].chain(t), []byte("abc"), relaxedSystem, vectors["google-aka-ec-tee"].VerifiedAt)
	if !r.Valid || r.Facts.AppID != "android" || r.Facts.AppVersion != "29" || r.Facts.DeviceLocked || r.Facts.VerifiedBoot != "unverified" || r.Facts.OSPatchLevel != 201907 {
		t.Errorf("google-aka-ec-tee relaxed: %+v", r)
	}
}

// TestVectorMutations refuses each valid chain at today's date (where a
// certificate has expired), with another challenge, another package,
// another signing digest, and a higher minimum version code.
func TestVectorMutations(t *testing.T) {
	vectors := loadAndroidVectors(t)
	hw := hardwarePolicy(t)
	for _, c := range []struct {
		vector string
		policy Policy
	}{
		{"warden-nokia-x10-keymaster4-tee", hw(vectors["warden-nokia-x10-keymaster4-tee"])},
		{"warden-pixel6-keymint200-rkp", hw(vectors["warden-pixel6-keymint200-rkp"])},
		{"google-aka-ec-tee", relaxedSystem},
		{"google-aka-rsa-tee", relaxedSystem},
	} {
		v := vectors[c.vector]
		chain, challenge := v.chain(t), v.challenge(t)
		check := func(what string, r attest.Result, want []string) {
			t.Helper()
			if diff := cmp.Diff(want, r.Reasons); diff != "" {
				t.Errorf("%s %s: reasons (-want +got):\n%s", c.vector, what, diff)
			}
		}
		if r := Verify(chain, challenge, c.policy, v.VerifiedAt); !r.Valid {
			t.Fatalf("%s: not valid at its time: %v", c.vector, r.Reasons)
		}

		var wantToday []string
		if v.expiredAt(today) {
			wantToday = []string{ReasonCertExpired}
		}
		check("today", Verify(chain, challenge, c.policy, today), wantToday)

		check("other challenge", Verify(chain, append(bytes.Clone(challenge), 0), c.policy, v.VerifiedAt), []string{ReasonChallengeMismatch})
		check("no challenge", Verify(chain, nil, c.policy, v.VerifiedAt), []string{ReasonChallengeMismatch})

		p := c.policy
		p.Apps = []App{{Package: "com.example.other", SigningCertDigests: p.Apps[0].SigningCertDigests}}
		check("other package", Verify(chain, challenge, p, v.VerifiedAt), []string{ReasonPackageNotAllowed})

		p = c.policy
		p.Apps = []App{{Package: p.Apps[0].Package, SigningCertDigests: [][]byte{bytes.Repeat([]byte{1}, 32)}, MinVersionCode: p.Apps[0].MinVersionCode}}
		check("other digest", Verify(chain, challenge, p, v.VerifiedAt), []string{ReasonSignatureDigestNotAllowed})

		p = c.policy
		p.Apps = []App{{Package: p.Apps[0].Package, SigningCertDigests: p.Apps[0].SigningCertDigests, MinVersionCode: 1000}}
		check("newer version", Verify(chain, challenge, p, v.VerifiedAt), []string{ReasonVersionTooOld})

		p = c.policy
		p.TrustedRoots = []crypto.PublicKey{testRoots(t).ecKey.Public()}
		check("other root", Verify(chain, challenge, p, v.VerifiedAt), []string{ReasonUntrustedRoot})
	}
}

// TestVectorByteFlips flips bytes of every certificate of every valid
// chain and expects each flip refused. Every 7th offset is walked by
// default, which reaches every region of every certificate while keeping
// `make test` fast; DRAWBRIDGE_EXHAUSTIVE=1 walks every offset (every third
// under -race), -short every 17th. No byte of these certificates can
// change unnoticed: the TBS of each is signed (the root's by itself), the
// outer framing is DER that crypto/x509 checks, the outer signature
// algorithm must equal the signed inner one, and the signature value is
// what the check verifies.
func TestVectorByteFlips(t *testing.T) {
	vectors := loadAndroidVectors(t)
	hw := hardwarePolicy(t)
	stride := 7
	switch {
	case testing.Short():
		stride = 17
	case os.Getenv("DRAWBRIDGE_EXHAUSTIVE") == "1" && raceEnabled:
		stride = 3
	case os.Getenv("DRAWBRIDGE_EXHAUSTIVE") == "1":
		stride = 1
	}
	for _, c := range []struct {
		vector string
		policy Policy
	}{
		{"warden-nokia-x10-keymaster4-tee", hw(vectors["warden-nokia-x10-keymaster4-tee"])},
		{"warden-pixel6-keymint200-rkp", hw(vectors["warden-pixel6-keymint200-rkp"])},
		{"google-aka-ec-tee", relaxedSystem},
		{"google-aka-rsa-tee", relaxedSystem},
	} {
		t.Run(c.vector, func(t *testing.T) {
			t.Parallel()
			v := vectors[c.vector]
			chain, challenge := v.chain(t), v.challenge(t)
			flips, first := 0, map[string]int{}
			for i := range chain {
				for off := 0; off < len(chain[i]); off += stride {
					for _, mask := range []byte{0x01, 0x80} {
						mutated := make([][]byte, len(chain))
						copy(mutated, chain)
						mutated[i] = bytes.Clone(chain[i])
						mutated[i][off] ^= mask
						flips++
						r := Verify(mutated, challenge, c.policy, v.VerifiedAt)
						if r.Valid {
							t.Errorf("cert %d offset %d mask %#x: flip accepted", i, off, mask)
						}
						first[r.Reason]++
					}
				}
			}
			t.Logf("%d flips, all refused; first reasons: %v", flips, first)
		})
	}
}

// TestVectorKeyDescriptions cross-checks ParseKeyDescription against the
// independently parsed key_description_parsed of every vector.
func TestVectorKeyDescriptions(t *testing.T) {
	for name, v := range loadAndroidVectors(t) {
		kd := vectorKeyDescription(t, v)
		got := normalizeJSON(t, keyDescriptionJSON(kd))
		if diff := cmp.Diff(normalizeJSON(t, v.KeyDescription), got); diff != "" {
			t.Errorf("%s: key description (-vector +parsed):\n%s", name, diff)
		}
	}
}

func vectorKeyDescription(tb testing.TB, v *androidVector) *KeyDescription {
	tb.Helper()
	leaf, err := x509.ParseCertificate(v.chain(tb)[0])
	if err != nil {
		tb.Fatal(err)
	}
	ext, n := keyDescriptionExtension(leaf)
	if n != 1 {
		tb.Fatalf("%s: %d KeyDescription extensions", v.Name, n)
	}
	kd, err := ParseKeyDescription(ext)
	if err != nil {
		tb.Fatalf("%s: %v", v.Name, err)
	}
	return kd
}

// TestEmbeddedRootsMatchVectors checks the embedded keys against the
// vectors' root certificates: every Google RSA root certificate carries
// the embedded RSA key, the Key Attestation CA1 certificate the EC key.
func TestEmbeddedRootsMatchVectors(t *testing.T) {
	dir := vectorDir(t, "roots")
	_, spkis := googleRoots()
	if len(spkis) != 2 {
		t.Fatalf("%d embedded roots, want 2", len(spkis))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "google-*.pem"))
	if len(files) != 5 {
		t.Fatalf("%d Google root certificates in %s, want 5", len(files), dir)
	}
	matched := map[int]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(b)
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := cert.CheckSignatureFrom(cert); err != nil {
			t.Errorf("%s: self-signature: %v", f, err)
		}
		found := false
		for i, spki := range spkis {
			if bytes.Equal(spki, cert.RawSubjectPublicKeyInfo) {
				matched[i]++
				found = true
			}
		}
		if !found {
			t.Errorf("%s: key is not embedded", filepath.Base(f))
		}
	}
	if len(matched) != 2 {
		t.Errorf("embedded roots matched by vector certificates: %v", matched)
	}
}

// TestVectorSoftwareRelaxed shows that the software chains are refused
// only by the hardware policy: trusting their AOSP software root and
// allowing software, unlocked and unverified devices, the Nougat hybrid is
// valid, and the emulators are left with their impossible leaf validity
// (and, for RSA, the 1024-bit software keys).
func TestVectorSoftwareRelaxed(t *testing.T) {
	vectors := loadAndroidVectors(t)
	for name, want := range map[string][]string{
		"warden-bq-aquaris-nougat-hybrid": nil,
		"warden-emulator-software-ec":     {ReasonCertExpired},
		"warden-emulator-software-rsa":    {ReasonBadSignatureChain, ReasonCertExpired},
	} {
		v := vectors[name]
		chain := v.chain(t)
		root, err := x509.ParseCertificate(chain[len(chain)-1])
		if err != nil {
			t.Fatal(err)
		}
		app, _ := v.app(t)
		p := Policy{
			Apps:                []App{app},
			TrustedRoots:        []crypto.PublicKey{root.PublicKey},
			AllowSoftware:       true,
			AllowUnlocked:       true,
			AllowUnverifiedBoot: true,
		}
		r := Verify(chain, v.challenge(t), p, v.VerifiedAt)
		if diff := cmp.Diff(want, r.Reasons); diff != "" {
			t.Errorf("%s: reasons (-want +got):\n%s", name, diff)
		}
		if r.Facts.SecurityLevel != "software" {
			t.Errorf("%s: security level %q", name, r.Facts.SecurityLevel)
		}
	}
}
