package playintegrity_test

import (
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity"
)

// BenchmarkVerify verifies a minted token with a compiled Verifier, as
// the gateway does: A256KW unwrap, A256GCM decryption, the ES256
// signature, the payload parse and the verdict checks.
func BenchmarkVerify(b *testing.B) {
	v, err := playintegrity.New(synthPolicy(b))
	if err != nil {
		b.Fatal(err)
	}
	tok := mint(b, keys(b).app, mustJSON(b, synthVerdict()))
	exp := synthExpect()
	b.ReportAllocs()
	for b.Loop() {
		if r := v.Verify(tok, exp, synthNow); !r.Valid {
			b.Fatal(r.Reasons)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}

// BenchmarkVerifyUncompiled is Verify with the policy compiled per call,
// as the CLI does: the difference is what New saves.
func BenchmarkVerifyUncompiled(b *testing.B) {
	p := synthPolicy(b)
	tok := mint(b, keys(b).app, mustJSON(b, synthVerdict()))
	exp := synthExpect()
	b.ReportAllocs()
	for b.Loop() {
		if r := playintegrity.Verify(tok, exp, p, synthNow); !r.Valid {
			b.Fatal(r.Reasons)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}

// BenchmarkRefuseForged measures the cost of a token that does not
// decrypt: what a flood of forgeries costs the gateway.
func BenchmarkRefuseForged(b *testing.B) {
	v, err := playintegrity.New(synthPolicy(b))
	if err != nil {
		b.Fatal(err)
	}
	tok := mint(b, keys(b).other, mustJSON(b, synthVerdict()))
	exp := synthExpect()
	b.ReportAllocs()
	for b.Loop() {
		if r := v.Verify(tok, exp, synthNow); r.Reason != playintegrity.ReasonDecryptFailed {
			b.Fatal(r.Reasons)
		}
	}
}
