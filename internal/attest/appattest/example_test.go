package appattest_test

import (
	"fmt"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest"
)

// Register a key with its attestation, then accept requests signed with
// it. The stored key and counter come from the previous verdicts.
func Example() {
	// From the app; empty here, so the example stops at the first check.
	var attestationObject, assertionObject []byte
	challenge := []byte("one-time challenge the server issued")

	res := appattest.VerifyAttestation(attestationObject, appattest.Expect{
		TeamID:         "ABCDE12345",
		BundleID:       "com.example.app",
		ClientDataHash: challenge, // exactly what the app passed to attestKey
	}, time.Now())
	if !res.Valid {
		fmt.Println("attestation refused:", res.Reason)
		return
	}
	// Store res.Facts.KeyID, res.Facts.PublicKey and res.Facts.Counter.

	res = appattest.VerifyAssertion(assertionObject, appattest.AssertionExpect{
		TeamID:          "ABCDE12345",
		BundleID:        "com.example.app",
		ClientData:      []byte(`{"challenge":"..."}`),
		PublicKey:       res.Facts.PublicKey,
		PreviousCounter: res.Facts.Counter,
	})
	fmt.Println(res.Valid, res.Reason)
	// Output: attestation refused: appattest.malformed
}
