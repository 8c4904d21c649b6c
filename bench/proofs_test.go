package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/dpop"
	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
)

// TestPerRequestHeaders: the generator signs every request afresh, and
// each signature and proof verifies once, with its nonce or jti never
// repeated.
func TestPerRequestHeaders(t *testing.T) {
	t.Setenv("BENCH_SIG_JWKS_URL", "http://127.0.0.1:0/jwks.json")
	if err := startProofKeys(); err != nil {
		t.Fatal(err)
	}
	hot := memory.NewHot(memory.HotOptions{})
	defer hot.Close()
	secret, _ := base64.StdEncoding.DecodeString(benchHMACSecret)
	sigs := &httpsig.Verifier{ReplayGuard: hot, Keys: httpsig.StaticKeys{
		"bench-hmac": {Algorithm: httpsig.HMACSHA256, Secret: secret},
		benchEdKID:   {Algorithm: httpsig.Ed25519, Public: proofKeys.ed.Public().(ed25519.PublicKey)},
	}}
	proofs := &dpop.Verifier{ReplayGuard: hot}
	for _, kind := range []string{"signature-hmac", "signature-ed25519", "dpop"} {
		t.Run(kind, func(t *testing.T) {
			var ok, bad atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var err error
				if kind == "dpop" {
					_, err = proofs.Verify(r.Context(), dpop.Request{Method: r.Method, URI: "http://" + r.Host + r.URL.Path,
						Proofs: r.Header["Dpop"], AccessToken: "tok"})
				} else {
					_, err = sigs.Verify(r.Context(), httpsig.Message{Request: httpsig.NewRequest(r, r.RequestURI, httpsig.Origin{})})
				}
				if err != nil {
					bad.Add(1)
					t.Log(err)
					w.WriteHeader(401)
					return
				}
				ok.Add(1)
			}))
			defer srv.Close()
			key, err := perRequestKey(kind)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(srv.URL + "/api/products?x=1")
			fixed := []Header{{"Authorization", "DPoP tok"}}
			next, err := perRequestHeaders(kind, key, "GET", u, fixed)
			if err != nil {
				t.Fatal(err)
			}
			r, err := generate(context.Background(), genSpec{URL: u.String(), Method: "GET", Headers: fixed, Conns: 4, Duration: 200 * time.Millisecond, PerRequest: next})
			if err != nil {
				t.Fatal(err)
			}
			if bad.Load() != 0 || ok.Load() < 10 || r.Non2xx != 0 {
				t.Fatalf("%d verified, %d refused, result %+v", ok.Load(), bad.Load(), r)
			}
		})
	}
}
