package androidkey_test

import (
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey"
)

// The gateway issues a challenge, the app generates a key with
// setAttestationChallenge(challenge) and sends its certificate chain; the
// gateway verifies it under a policy compiled from its configuration, at
// the time it received it.
func ExampleVerify() {
	digest, _ := hex.DecodeString("34b9762c4d6c90d48431940c57bde7314258b26420efe16ac7f7274f0d330ad5")
	policy := androidkey.Policy{
		Apps: []androidkey.App{{
			Package:            "at.asitplus.attestation_client",
			SigningCertDigests: [][]byte{digest},
			MinVersionCode:     1,
		}},
		MinOSPatchLevel: 202301,
	}
	if f, err := os.Open("status.json"); err == nil { // Google's status list, fetched by the caller
		policy.Revoked, _ = androidkey.ReadStatusList(f)
		f.Close()
	}
	if err := policy.Validate(); err != nil {
		fmt.Println(err)
		return
	}

	var chain [][]byte   // DER certificates, leaf first, from the app
	var challenge []byte // the challenge this server issued
	r := androidkey.Verify(chain, challenge, policy, time.Now())
	fmt.Println(r.Valid, r.Reason)
	// Output: false androidkey.malformed_chain
}
