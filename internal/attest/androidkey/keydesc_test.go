package androidkey

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
)

// keyDescriptionJSON renders a KeyDescription in the vocabulary of the
// vectors' key_description_parsed, for comparison.
func keyDescriptionJSON(kd *KeyDescription) map[string]any {
	level := map[SecurityLevel]string{Software: "Software", TrustedEnvironment: "TrustedEnvironment", StrongBox: "StrongBox"}
	return map[string]any{
		"attestationVersion":        kd.AttestationVersion,
		"attestationSecurityLevel":  level[kd.AttestationSecurityLevel],
		"keymasterOrKeyMintVersion": kd.KeyMintVersion,
		"keymasterSecurityLevel":    level[kd.KeyMintSecurityLevel],
		"attestationChallenge_b64":  base64.StdEncoding.EncodeToString(kd.AttestationChallenge),
		"uniqueId_b64":              base64.StdEncoding.EncodeToString(kd.UniqueID),
		"softwareEnforced":          authorizationListJSON(&kd.SoftwareEnforced),
		"hardwareEnforced":          authorizationListJSON(&kd.HardwareEnforced),
	}
}

func authorizationListJSON(l *AuthorizationList) map[string]any {
	m := map[string]any{}
	put := func(k string, v *int64) {
		if v != nil {
			m[k] = *v
		}
	}
	if l.Purpose != nil {
		m["purpose"] = l.Purpose
	}
	put("algorithm", l.Algorithm)
	put("keySize", l.KeySize)
	if l.Digest != nil {
		m["digest"] = l.Digest
	}
	if l.Padding != nil {
		m["padding"] = l.Padding
	}
	put("ecCurve", l.ECCurve)
	put("rsaPublicExponent", l.RSAPublicExponent)
	if l.NoAuthRequired {
		m["noAuthRequired"] = true
	}
	put("creationDateTime", l.CreationDateTime)
	put("origin", l.Origin)
	if r := l.RootOfTrust; r != nil {
		state := map[VerifiedBootState]string{Verified: "Verified", SelfSigned: "SelfSigned", Unverified: "Unverified", Failed: "Failed"}
		m["rootOfTrust"] = map[string]any{
			"verifiedBootKey_hex":  hex.EncodeToString(r.VerifiedBootKey),
			"deviceLocked":         r.DeviceLocked,
			"verifiedBootState":    state[r.VerifiedBootState],
			"verifiedBootHash_hex": hex.EncodeToString(r.VerifiedBootHash),
		}
	}
	put("osVersion", l.OSVersion)
	put("osPatchLevel", l.OSPatchLevel)
	if a := l.AttestationApplicationID; a != nil {
		var pkgs []any
		for _, p := range a.Packages {
			pkgs = append(pkgs, map[string]any{"package_name": p.Name, "version": p.Version})
		}
		var digests []string
		for _, d := range a.SignatureDigests {
			digests = append(digests, base64.StdEncoding.EncodeToString(d))
		}
		m["attestationApplicationId"] = map[string]any{"package_infos": pkgs, "signature_digests_b64": digests}
	}
	put("vendorPatchLevel", l.VendorPatchLevel)
	put("bootPatchLevel", l.BootPatchLevel)
	if l.OtherTags != nil {
		m["other_tags"] = l.OtherTags
	}
	return m
}

// normalizeJSON round-trips v through JSON so that values built here and
// values decoded from a vector compare as the same generic types.
func normalizeJSON(tb testing.TB, v any) any {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestParseKeyDescriptionRejects(t *testing.T) {
	good := defaultKD().der()
	if _, err := ParseKeyDescription(good); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		der  []byte
	}{
		{"empty", nil},
		{"trailing byte", append(append([]byte{}, good...), 0)},
		{"truncated", good[:len(good)-1]},
		{"not a sequence", []byte{0x04, 0x00}},
		{"too large", make([]byte, MaxCertSize+1)},
		{"seven fields", []byte{0x30, 0x0e, 0x02, 0x01, 0x03, 0x0a, 0x01, 0x01, 0x02, 0x01, 0x04, 0x0a, 0x01, 0x01, 0x04, 0x00}},
	} {
		_, err := ParseKeyDescription(c.der)
		if !errors.Is(err, ErrMalformedKeyDescription) {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}
}

// TestParseKeyDescriptionBERBoolean refuses deviceLocked encoded as 0x01
// (BER TRUE): DER requires 0xff and the vectors' devices comply.
func TestParseKeyDescriptionBERBoolean(t *testing.T) {
	der := defaultKD().der()
	// Find the DER TRUE (01 01 ff) inside the RootOfTrust and make it BER.
	for i := 0; i+2 < len(der); i++ {
		if der[i] == 0x01 && der[i+1] == 0x01 && der[i+2] == 0xff {
			der[i+2] = 0x01
			if _, err := ParseKeyDescription(der); err == nil {
				t.Error("BER boolean accepted")
			}
			return
		}
	}
	t.Fatal("no BOOLEAN TRUE found")
}

func TestSecurityLevelStrings(t *testing.T) {
	for l, want := range map[SecurityLevel]string{Software: "software", TrustedEnvironment: "tee", StrongBox: "strongbox", 7: "unknown(7)"} {
		if l.String() != want {
			t.Errorf("%d: %q", l, l.String())
		}
	}
	for s, want := range map[VerifiedBootState]string{Verified: "verified", SelfSigned: "self_signed", Unverified: "unverified", Failed: "failed", 9: "unknown(9)"} {
		if s.String() != want {
			t.Errorf("%d: %q", s, s.String())
		}
	}
}

func TestPatchDate(t *testing.T) {
	for v, want := range map[int64]int64{202303: 20230300, 20230305: 20230305, 20190700: 20190700, 0: 0, 2023: 0, 202313: 0, 20231232: 0, 123456789: 0} {
		got, ok := patchDate(v)
		if ok != (want != 0) || ok && got != want {
			t.Errorf("patchDate(%d) = %d, %v", v, got, ok)
		}
	}
}
