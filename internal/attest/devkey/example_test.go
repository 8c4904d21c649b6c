package devkey_test

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
)

// A CI job holds a device key certified by the team's development CA; it
// attests over the client data hash, and the gateway verifies the
// evidence under the app's development-enabled policy.
func ExampleAttestor() {
	now := time.Now()
	ca, caKey, err := devkey.NewCA(now, 0) // `drawbridge attestation dev-ca`
	if err != nil {
		fmt.Println(err)
		return
	}
	device, err := devkey.NewAttestor(ca, caKey, "shop-ios", now, 0) // `dev-device`
	if err != nil {
		fmt.Println(err)
		return
	}

	hash := sha256.Sum256([]byte(`{"challenge":"q3T2Zk1xYz","jkt":"NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"}`))
	ev, err := device.Attest(hash[:])
	if err != nil {
		fmt.Println(err)
		return
	}

	dev := devkey.Policy{App: "shop-ios", CAs: []*x509.Certificate{ca}, AllowDevelopment: true}
	r := devkey.Verify(ev, devkey.Expect{ClientDataHash: hash[:]}, dev, now)
	fmt.Println(r.Valid, r.Facts.Environment, r.Facts.AppID)

	prod := dev
	prod.AllowDevelopment = false
	r = devkey.Verify(ev, devkey.Expect{ClientDataHash: hash[:]}, prod, now)
	fmt.Println(r.Valid, r.Reason)
	// Output:
	// true development shop-ios
	// false devkey.environment_not_allowed
}
