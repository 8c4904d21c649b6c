package main

import (
	"context"
	"fmt"
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
		if err := serveJWKS(benchAttestJWKSURL(), "BENCH_ATTEST_JWKS_URL", attestIssuer.iss.JWKS()); err != nil {
			attestIssuer.err = fmt.Errorf("attestation issuer: %w", err)
		}
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
	if err := awaitAccepted(ctx, t, "the attestation row's token", func() []Header { return []Header{h} }); err != nil {
		return nil, err
	}
	return []Header{h}, nil
}
