package config

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestProofProblems: every mistake in signature, dpop and apikey layers,
// and in how they sit on a route, is reported with its position.
func TestProofProblems(t *testing.T) {
	_, err := Load("testdata/proofs_broken.yaml", env(nil))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v, want Errors", err)
	}
	if *update {
		if err := os.WriteFile("testdata/proofs_broken.golden", []byte(err.Error()+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, _ := os.ReadFile("testdata/proofs_broken.golden")
	if diff := cmp.Diff(strings.TrimSpace(string(want)), err.Error()); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestProofDefaults: an empty layer gets the documented defaults.
func TestProofDefaults(t *testing.T) {
	f, err := Parse("p.yaml", []byte(`
upstreams: {a: {url: 'http://127.0.0.1:1'}}
issuers: {as: {issuer: https://as.test, jwks_file: x, algorithms: [ES256], audiences: [a]}}
api_keys: {pepper: 0123456789abcdef0123456789abcdef}
routes:
  - upstream: a
    policies:
      - jwt: {issuers: [as], schemes: [DPoP]}
      - dpop: {nonce: {}}
      - signature: {keys: {k: {secret: c2VjcmV0}}}
      - apikey: {}
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	ps := f.Config.Routes[0].Policies
	d, s, a := ps[1].DPoP, ps[2].Signature, ps[3].APIKey
	if d.MaxAge.D() != DefaultDPoPMaxAge || d.Skew.D() != DefaultDPoPSkew || d.Nonce.Lifetime.D() != DefaultDPoPNonceLifetime ||
		len(d.Algorithms) != 2 || d.MaxProofBytes != DefaultDPoPMaxProofBytes {
		t.Errorf("dpop defaults: %+v", d)
	}
	if s.MaxAge.D() != DefaultSignatureMaxAge || s.Nonce != "required" || s.MaxBodyBytes != DefaultSignatureMaxBodyBytes {
		t.Errorf("signature defaults: %+v", s)
	}
	if a.Header != "X-Api-Key" || f.Config.APIKeys.CacheTTL.D() != DefaultAPIKeyCacheTTL {
		t.Errorf("apikey defaults: %+v", a)
	}
	if j := ps[0].JWT; len(j.Schemes) != 1 || j.Schemes[0] != "DPoP" {
		t.Errorf("jwt schemes: %v", j.Schemes)
	}
}
