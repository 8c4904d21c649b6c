package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// The jwt rows verify a bearer token on every request. Their issuer's
// keys are made by the harness, in memory, when the first jwt row runs,
// and served on BENCH_JWKS_URL (default http://127.0.0.1:47611/jwks.json,
// as bench/configs/jwt-*.yaml expect) until the benchmark ends: nothing
// secret is ever written to disk.

const (
	benchIssuer   = "https://id.bench.test"
	benchAudience = "https://api.bench.test"
)

var jwtIssuer struct {
	once sync.Once
	keys map[string]*token.Key // by alg
	err  error
}

func benchJWKSURL() string {
	if u := os.Getenv("BENCH_JWKS_URL"); u != "" {
		return u
	}
	return "http://127.0.0.1:47611/jwks.json"
}

// startJWTIssuer makes the ES256 and EdDSA keys and serves their public
// JWK Set, once.
func startJWTIssuer() (map[string]*token.Key, error) {
	jwtIssuer.once.Do(func() {
		keys := map[string]*token.Key{}
		for _, alg := range []string{"ES256", "EdDSA"} {
			k, err := token.GenerateKey(alg)
			if err != nil {
				jwtIssuer.err = err
				return
			}
			keys[alg] = k
		}
		jwks, err := token.PublicJWKS(keys["ES256"], keys["EdDSA"])
		if err != nil {
			jwtIssuer.err = err
			return
		}
		if err := serveJWKS(benchJWKSURL(), "BENCH_JWKS_URL", jwks); err != nil {
			jwtIssuer.err = fmt.Errorf("jwt issuer: %w", err)
			return
		}
		jwtIssuer.keys = keys
	})
	return jwtIssuer.keys, jwtIssuer.err
}

// jwtSetup returns the Setup of a jwt row: it mints a token of alg, valid
// for an hour, and waits until the gateway accepts it (its first request
// fetches the issuer's keys).
func jwtSetup(alg string) func(ctx context.Context, t Target) ([]Header, error) {
	return func(ctx context.Context, t Target) ([]Header, error) {
		keys, err := startJWTIssuer()
		if err != nil {
			return nil, err
		}
		s, err := token.NewSigner(keys[alg], alg)
		if err != nil {
			return nil, err
		}
		now := time.Now()
		tok, err := s.Sign(map[string]any{
			"iss": benchIssuer, "aud": benchAudience, "sub": "bench-user", "scope": "products:read",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		}, "at+jwt")
		if err != nil {
			return nil, err
		}
		auth := Header{"Authorization", "Bearer " + tok}
		if err := awaitAccepted(ctx, t, "the "+alg+" jwt row's token", func() []Header { return []Header{auth} }); err != nil {
			return nil, err
		}
		return []Header{auth}, nil
	}
}
