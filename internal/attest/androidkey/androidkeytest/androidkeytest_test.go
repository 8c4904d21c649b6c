package androidkeytest_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey/androidkeytest"
)

// A chain the builder makes verifies under its authority with the facts
// it was given, and the device state it was given is judged as such.
func TestBuiltChainVerifies(t *testing.T) {
	auth := androidkeytest.NewAuthority()
	at := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	digest := bytes.Repeat([]byte{7}, 32)
	policy := androidkey.Policy{
		Apps:         []androidkey.App{{Package: "com.example.shop", SigningCertDigests: [][]byte{digest}, MinVersionCode: 3}},
		TrustedRoots: auth.TrustedRoots(),
	}
	base := androidkeytest.Attestation{
		Challenge: []byte("challenge-0123456789abcdef012345"), Package: "com.example.shop", VersionCode: 4,
		SigningCertDigests: [][]byte{digest}, SecurityLevel: androidkey.StrongBox, OSPatchLevel: 203101, At: at,
	}
	tests := []struct {
		name string
		edit func(*androidkeytest.Attestation)
		want string
	}{
		{"valid", nil, ""},
		{"software", func(a *androidkeytest.Attestation) { a.SecurityLevel = androidkey.Software }, androidkey.ReasonSoftwareSecurityLevel},
		{"unlocked", func(a *androidkeytest.Attestation) { a.Unlocked = true }, androidkey.ReasonUnlockedBootloader},
		{"self-signed boot", func(a *androidkeytest.Attestation) { a.BootState = androidkey.SelfSigned }, androidkey.ReasonUnverifiedBoot},
		{"other package", func(a *androidkeytest.Attestation) { a.Package = "com.evil" }, androidkey.ReasonPackageNotAllowed},
		{"other challenge", func(a *androidkeytest.Attestation) { a.Challenge = []byte("x") }, androidkey.ReasonChallengeMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := base
			if tt.edit != nil {
				tt.edit(&a)
			}
			c := auth.Attest(a)
			res := androidkey.Verify(c.DER, base.Challenge, policy, at)
			if res.Reason != tt.want {
				t.Fatalf("reasons %v, want first %q", res.Reasons, tt.want)
			}
			if tt.want == "" && (res.Facts.AppVersion != "4" || res.Facts.SecurityLevel != "strongbox") {
				t.Errorf("facts %+v", res.Facts)
			}
		})
	}
	// Google's roots do not trust the test PKI.
	c := auth.Attest(base)
	p := policy
	p.TrustedRoots = nil
	if res := androidkey.Verify(c.DER, base.Challenge, p, at); res.Valid {
		t.Fatal("a test chain verified under Google's roots")
	}
}
