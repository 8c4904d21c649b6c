package token_test

import (
	"context"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// BenchmarkVerify measures the bearer path: cold is every check including
// the signature (no cache), hot is a cache hit (SHA-256 of the token and a
// map look-up).
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		k := mustKey(b, alg)
		tok := mint(b, k, func(c map[string]any) { c["scope"] = "orders:read orders:write"; c["exp"] = time.Now().Unix() + 3600 })
		for _, mode := range []string{"cold", "hot"} {
			var cache *token.Cache
			if mode == "hot" {
				cache = token.NewCache(0, 0)
			}
			v := staticVerifier(b, k, time.Now, nil, cache)
			ctx := context.Background()
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
			b.Run(alg+"/"+mode, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.Verify(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
