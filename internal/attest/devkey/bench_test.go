package devkey_test

import (
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
)

// BenchmarkVerify verifies development evidence with a compiled Verifier:
// certificate parsing, x509.Verify to the pinned CA, and the device
// key's ECDSA P-256 signature.
func BenchmarkVerify(b *testing.B) {
	v, err := devkey.New(synthPolicy(b))
	if err != nil {
		b.Fatal(err)
	}
	ev := evidence(b)
	exp := synthExpect()
	b.ReportAllocs()
	for b.Loop() {
		if r := v.Verify(ev, exp, synthNow); !r.Valid {
			b.Fatal(r.Reasons)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}

// BenchmarkAttest is the client side: one signature.
func BenchmarkAttest(b *testing.B) {
	a := pki(b).device
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Attest(synthHash); err != nil {
			b.Fatal(err)
		}
	}
}
