package playintegrity_test

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity"
)

// The gateway compiles the app's policy once per configuration load, then
// verifies each integrity token against the SHA-256 of the client data
// the app sent with it, at the time it received it.
func ExampleVerifier_Verify() {
	decryptionKey, err := playintegrity.ParseDecryptionKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		fmt.Println(err)
		return
	}
	verificationKey, err := playintegrity.ParseVerificationKey(
		"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqs5NcBOKN40tu/5+NLFvGRMRcYF6KRksYoUmiwlKhhzbGaALzE2PerEM5wzNKeC6ESruZJRoBPuHn5D+HfoMkA==")
	if err != nil {
		fmt.Println(err)
		return
	}
	digest := sha256.Sum256([]byte("the app signing certificate, DER"))
	v, err := playintegrity.New(playintegrity.Policy{
		Package:            "com.example.shop",
		DecryptionKey:      decryptionKey,
		VerificationKey:    verificationKey,
		SigningCertDigests: [][]byte{digest[:]},
		MinVersionCode:     7,
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	clientData := []byte(`{"challenge":"q3T2Zk1xYz","jkt":"NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"}`)
	hash := sha256.Sum256(clientData)
	r := v.Verify("eyJhbGciOiJBMjU2S1ciLCJlbmMiOiJBMjU2R0NNIn0.AAAA.AAAA.AAAA.AAAA",
		playintegrity.Expect{ClientDataHash: hash[:]}, time.Now())
	fmt.Println(r.Valid, r.Reason)
	// Output: false playintegrity.decrypt_failed
}
