package androidkey

import "testing"

// BenchmarkVerify verifies real valid chains at their recorded time:
// the Nokia X10 (factory-provisioned, 4 certificates: ECDSA P-256 leaf and
// intermediate, P-384 intermediate, RSA-4096 root) and the Pixel 6 (RKP, 5
// certificates).
func BenchmarkVerify(b *testing.B) {
	vectors := loadAndroidVectors(b)
	for _, name := range []string{"warden-nokia-x10-keymaster4-tee", "warden-pixel6-keymint200-rkp"} {
		v := vectors[name]
		chain, challenge := v.chain(b), v.challenge(b)
		p := hardwarePolicy(b)(v)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r := Verify(chain, challenge, p, v.VerifiedAt); !r.Valid {
					b.Fatal(r.Reasons)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
		})
	}
}

func BenchmarkParseKeyDescription(b *testing.B) {
	der := defaultKD().der()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseKeyDescription(der); err != nil {
			b.Fatal(err)
		}
	}
}
