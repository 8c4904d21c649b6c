package dpop_test

import (
	"context"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/dpop"
	"github.com/drawbridge-gw/drawbridge/internal/dpop/dpoptest"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
)

// BenchmarkVerify: one proof checked, with its jti claimed in memory.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"ES256", "EdDSA"} {
		b.Run(alg, func(b *testing.B) {
			key, _ := dpoptest.NewKey(alg)
			hot := memory.NewHot(memory.HotOptions{})
			defer hot.Close()
			v := &dpop.Verifier{ReplayGuard: hot}
			const uri = "https://api.example.com/orders"
			proofs := make([]string, b.N)
			for i := range proofs {
				proofs[i] = key.ProofWith(dpoptest.Claims{Method: "GET", URI: uri, AccessToken: "t"}, nil)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := v.Verify(context.Background(), dpop.Request{Method: "GET", URI: uri, Proofs: proofs[i : i+1], AccessToken: "t", BoundKeys: []string{key.JKT}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
