package appattesttest_test

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest/appattesttest"
)

// What the builder makes must verify under its authority, in both
// environments, and its assertions must verify with the attested key.
func TestBuiltEvidenceVerifies(t *testing.T) {
	auth := appattesttest.NewAuthority()
	at := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, env := range []string{appattesttest.Production, appattesttest.Development} {
		hash := sha256.Sum256([]byte("client data " + env))
		att := auth.Attest(appattesttest.Attestation{TeamID: "TEAM123456", BundleID: "com.example.shop", Environment: env, ClientDataHash: hash[:], At: at})
		res := appattest.VerifyAttestation(att.Object, appattest.Expect{
			TeamID: "TEAM123456", BundleID: "com.example.shop", ClientDataHash: hash[:], KeyID: att.KeyID,
			Environments: []string{appattest.Production, appattest.Development},
			Roots:        auth.Roots, ReceiptRoots: auth.ReceiptRoots,
		}, at)
		if !res.Valid || res.Facts.Environment != env {
			t.Fatalf("%s: attestation %+v, want valid in %s", env, res.Reasons, env)
		}
		a := appattesttest.Assertion(att.Key, "TEAM123456", "com.example.shop", 1, []byte("hello"))
		ar := appattest.VerifyAssertion(a, appattest.AssertionExpect{
			TeamID: "TEAM123456", BundleID: "com.example.shop", ClientData: []byte("hello"), PublicKey: res.Facts.PublicKey,
		})
		if !ar.Valid || ar.Facts.Counter != 1 {
			t.Fatalf("%s: assertion %v, want valid with counter 1", env, ar.Reasons)
		}
	}
	// Apple's real roots do not trust the test PKI.
	hash := sha256.Sum256([]byte("x"))
	att := auth.Attest(appattesttest.Attestation{TeamID: "TEAM123456", BundleID: "com.example.shop", ClientDataHash: hash[:]})
	res := appattest.VerifyAttestation(att.Object, appattest.Expect{TeamID: "TEAM123456", BundleID: "com.example.shop", ClientDataHash: hash[:]}, time.Now())
	if res.Reason != appattest.ReasonChainUntrusted {
		t.Fatalf("under Apple's roots: %v, want %s", res.Reasons, appattest.ReasonChainUntrusted)
	}
}
