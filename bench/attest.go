package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// The attestation row's tokens come from an attestation issuer in the
// harness: its EdDSA key is made in memory when the row first runs, its
// public keys served on BENCH_ATTEST_JWKS_URL (default
// http://127.0.0.1:47612/jwks.json) until the benchmark ends. Prepare
// starts it before the gateway, which fetches the keys as it loads.

const benchAttestIssuer = "https://attest.bench.test"

var attestIssuer struct {
	once sync.Once
	iss  *service.Issuer
	err  error
}

func benchAttestJWKSURL() string {
	if u := os.Getenv("BENCH_ATTEST_JWKS_URL"); u != "" {
		return u
	}
	return "http://127.0.0.1:47612/jwks.json"
}

// startAttestIssuer makes the issuer and serves its JWKS, once.
func startAttestIssuer() (*service.Issuer, error) {
	attestIssuer.once.Do(func() {
		k, err := token.GenerateKey("EdDSA")
		if err == nil {
			attestIssuer.iss, err = service.NewIssuer(benchAttestIssuer, []*token.Key{k})
		}
		if err != nil {
			attestIssuer.err = err
			return
		}
		u, err := url.Parse(benchAttestJWKSURL())
		if err != nil {
			attestIssuer.err = err
			return
		}
		l, err := net.Listen("tcp", u.Host)
		if err != nil {
			attestIssuer.err = fmt.Errorf("attestation issuer: %w (set BENCH_ATTEST_JWKS_URL to a free loopback address)", err)
			return
		}
		jwks := attestIssuer.iss.JWKS()
		srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/jwk-set+json")
			w.Header().Set("Cache-Control", "max-age=3600")
			_, _ = w.Write(jwks)
		})}
		go func() { _ = srv.Serve(l) }() // serves until the harness exits
	})
	return attestIssuer.iss, attestIssuer.err
}

// attestPrepare starts the issuer and tells the gateway where its keys
// are.
func attestPrepare(context.Context) ([]string, error) {
	if _, err := startAttestIssuer(); err != nil {
		return nil, err
	}
	return []string{"BENCH_ATTEST_JWKS_URL=" + benchAttestJWKSURL()}, nil
}

// attestSetup mints a token for an install of bench-app, valid for an
// hour, and waits until the gateway accepts it.
func attestSetup(ctx context.Context, t Target) ([]Header, error) {
	iss, err := startAttestIssuer()
	if err != nil {
		return nil, err
	}
	tok, err := iss.Issue(service.Claims{
		Subject: "bench-install", App: "bench-app", Version: "1.2.0", Platform: "apple", Environment: "production",
		Cnf: service.Confirmation{JKT: strings.Repeat("A", 43)},
	}, time.Now(), time.Hour)
	if err != nil {
		return nil, err
	}
	h := Header{"Attestation-Token", tok}
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL+"/api/products", nil)
		if err != nil {
			return nil, err
		}
		for _, x := range append(append([]Header{}, browser...), h) {
			req.Header.Set(x.Name, x.Value)
		}
		resp, err := t.Client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return []Header{h}, nil
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil, errors.Join(errors.New("attestation row: the gateway did not accept the token within 10s"), err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
