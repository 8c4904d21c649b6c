package dpop_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/dpop"
	"github.com/drawbridge-gw/drawbridge/internal/dpop/dpoptest"
)

// FuzzVerify feeds attacker bytes to the proof parser and verifier: it
// never panics, and every refusal carries a declared reason.
func FuzzVerify(f *testing.F) {
	v := dpoptest.LoadVectors(f)
	for _, p := range v.Proofs {
		f.Add(p.Proof, p.Context.URI)
	}
	key, _ := dpoptest.NewKey("EdDSA")
	f.Add(key.Proof("GET", "https://a.test/x"), "https://a.test/x")
	f.Add("e30.e30.", "https://a.test/%41")
	ver := &dpop.Verifier{Now: func() time.Time { return time.Unix(1562262616, 0) }, Nonces: &dpop.Nonces{Secret: dpop.NewSecret()}}
	plain := &dpop.Verifier{Now: ver.Now}
	f.Fuzz(func(t *testing.T, proof, uri string) {
		for _, vv := range []*dpop.Verifier{ver, plain} {
			_, err := vv.Verify(context.Background(), dpop.Request{Method: "POST", URI: uri, Proofs: []string{proof}, AccessToken: "t"})
			if err != nil && !slices.Contains(dpop.Reasons, dpop.ReasonOf(err)) {
				t.Fatalf("undeclared reason: %v", err)
			}
		}
		_, _ = dpop.NormalizeURI(uri)
	})
}
