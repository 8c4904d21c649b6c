package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/dpop/dpoptest"
	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// The signature-* and dpop rows send a new proof with every request: an
// HTTP message signature's created and nonce, a DPoP proof's iat and jti
// change each time, and the gateway refuses a repeated one as a replay,
// as it must. So these rows run on the built-in Go load generator, which
// makes the headers for each request (Row.PerRequest); wrk sends fixed
// ones. The generator's signing runs on its own CPU, beside the upstream,
// never on the gateway's.
//
// Keys: the Ed25519 signature key and the DPoP key are made in memory
// when the first such row runs; the gateway learns the Ed25519 public key
// from a JWK Set the harness serves (BENCH_SIG_JWKS_URL, default
// http://127.0.0.1:47613/jwks.json) and the DPoP key from the access
// token's cnf.jkt; the private keys reach the load generator in its
// environment, never on disk or on a recorded command line. The HMAC row's
// secret is benchHMACSecret, public and written in
// bench/configs/signature.yaml: a shared secret must be in the gateway's
// config, and this one guards only a benchmark.

// benchHMACSecret is the signature-hmac row's key (32 bytes, base64).
const benchHMACSecret = "ZHJhd2JyaWRnZS1iZW5jaC1vbmx5LWhtYWMta2V5LTMyYg=="

// benchEdKID is the Ed25519 key's id in the served JWK Set.
const benchEdKID = "bench-ed25519"

var proofKeys struct {
	once sync.Once
	ed   ed25519.PrivateKey
	dpop *ecdsa.PrivateKey
	err  error
}

func benchSigJWKSURL() string {
	if u := os.Getenv("BENCH_SIG_JWKS_URL"); u != "" {
		return u
	}
	return "http://127.0.0.1:47613/jwks.json"
}

// startProofKeys makes the keys and serves the Ed25519 public key, once.
func startProofKeys() error {
	proofKeys.once.Do(func() {
		_, ed, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			proofKeys.err = err
			return
		}
		if proofKeys.dpop, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			proofKeys.err = err
			return
		}
		proofKeys.ed = ed
		k, err := token.NewKey(ed.Public(), benchEdKID, "EdDSA")
		if err != nil {
			proofKeys.err = err
			return
		}
		jwks, err := token.PublicJWKS(k)
		if err != nil {
			proofKeys.err = err
			return
		}
		if err := serveJWKS(benchSigJWKSURL(), "BENCH_SIG_JWKS_URL", jwks); err != nil {
			proofKeys.err = fmt.Errorf("signature keys: %w", err)
		}
	})
	return proofKeys.err
}

// signaturePrepare serves the Ed25519 key before the gateway loads.
func signaturePrepare(context.Context) ([]string, error) {
	if err := startProofKeys(); err != nil {
		return nil, err
	}
	return []string{"BENCH_SIG_JWKS_URL=" + benchSigJWKSURL()}, nil
}

// dpopPrepare starts the access tokens' issuer (bench/jwt.go) and makes
// the DPoP key.
func dpopPrepare(context.Context) ([]string, error) {
	if _, err := startJWTIssuer(); err != nil {
		return nil, err
	}
	if err := startProofKeys(); err != nil {
		return nil, err
	}
	return []string{"BENCH_JWKS_URL=" + benchJWKSURL()}, nil
}

// perRequestKey returns the private key material the load generator
// needs for kind.
func perRequestKey(kind string) ([]byte, error) {
	if err := startProofKeys(); err != nil {
		return nil, err
	}
	switch kind {
	case "signature-hmac":
		return base64.StdEncoding.DecodeString(benchHMACSecret)
	case "signature-ed25519":
		return proofKeys.ed.Seed(), nil
	case "dpop":
		return proofKeys.dpop.Bytes()
	}
	return nil, fmt.Errorf("no per-request headers %q", kind)
}

// perRequestHeaders returns the function that makes one request's headers
// of kind, for method and target u, from the key perRequestKey gave and
// the row's fixed headers (a DPoP row's Authorization).
func perRequestHeaders(kind string, key []byte, method string, u *url.URL, fixed []Header) (func() []Header, error) {
	switch kind {
	case "signature-hmac", "signature-ed25519":
		s := &httpsig.Signer{KeyID: "bench-hmac", Nonce: true, Components: []string{"@method", "@authority", "@path"},
			Key: httpsig.SigningKey{Algorithm: httpsig.HMACSHA256, Secret: key}}
		if kind == "signature-ed25519" {
			if len(key) != ed25519.SeedSize {
				return nil, errors.New("bad Ed25519 seed")
			}
			s.KeyID, s.Key = benchEdKID, httpsig.SigningKey{Algorithm: httpsig.Ed25519, Private: ed25519.NewKeyFromSeed(key)}
		}
		req := &httpsig.Request{Method: method, Target: u.RequestURI(), Scheme: "http", Authority: u.Host,
			Fields: []httpsig.Field{{Name: "Host", Value: u.Host}}}
		return func() []Header {
			signed, err := s.Sign(httpsig.Message{Request: req})
			if err != nil {
				return nil // the request goes unsigned and counts as non-2xx
			}
			return []Header{{"Signature-Input", signed.Input}, {"Signature", signed.Signature}}
		}, nil
	case "dpop":
		priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), key)
		if err != nil {
			return nil, err
		}
		k, err := dpopKey(priv)
		if err != nil {
			return nil, err
		}
		var at string
		for _, h := range fixed {
			if v, ok := strings.CutPrefix(h.Value, "DPoP "); ok && strings.EqualFold(h.Name, "Authorization") {
				at = v
			}
		}
		htu := "http://" + u.Host + u.EscapedPath()
		return func() []Header {
			return []Header{{"DPoP", k.ProofWith(dpoptest.Claims{Method: method, URI: htu, AccessToken: at}, nil)}}
		}, nil
	}
	return nil, fmt.Errorf("no per-request headers %q", kind)
}

// dpopKey wraps the DPoP private key as a client does.
func dpopKey(priv *ecdsa.PrivateKey) (*dpoptest.Key, error) {
	pt, err := priv.PublicKey.Bytes()
	if err != nil {
		return nil, err
	}
	jkt, err := token.Thumbprint(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	b64 := base64.RawURLEncoding
	return &dpoptest.Key{Alg: "ES256", Private: priv, JKT: jkt,
		JWK: map[string]any{"kty": "EC", "crv": "P-256", "x": b64.EncodeToString(pt[1:33]), "y": b64.EncodeToString(pt[33:])}}, nil
}

// dpopSetup mints an access token bound to the DPoP key, valid for an
// hour, and waits until the gateway accepts it with a proof (its first
// request may fetch the issuer's keys).
func dpopSetup(ctx context.Context, t Target) ([]Header, error) {
	keys, err := startJWTIssuer()
	if err != nil {
		return nil, err
	}
	if err := startProofKeys(); err != nil {
		return nil, err
	}
	k, err := dpopKey(proofKeys.dpop)
	if err != nil {
		return nil, err
	}
	s, err := token.NewSigner(keys["ES256"], "ES256")
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tok, err := s.Sign(map[string]any{
		"iss": benchIssuer, "aud": benchAudience, "sub": "bench-user", "scope": "products:read",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "cnf": map[string]any{"jkt": k.JKT},
	}, "at+jwt")
	if err != nil {
		return nil, err
	}
	auth := []Header{{"Authorization", "DPoP " + tok}}
	return auth, waitAccepted(ctx, t, "dpop", auth)
}

// signatureSetup waits until the gateway accepts a signed request (it
// loads the Ed25519 key from the harness's JWK Set).
func signatureSetup(kind string) func(ctx context.Context, t Target) ([]Header, error) {
	return func(ctx context.Context, t Target) ([]Header, error) {
		return nil, waitAccepted(ctx, t, kind, nil)
	}
}

// waitAccepted sends GET /api/products with fixed and fresh per-request
// headers until the gateway answers 200, for at most 10 seconds.
func waitAccepted(ctx context.Context, t Target, kind string, fixed []Header) error {
	key, err := perRequestKey(kind)
	if err != nil {
		return err
	}
	u, err := url.Parse(t.URL + "/api/products")
	if err != nil {
		return err
	}
	next, err := perRequestHeaders(kind, key, http.MethodGet, u, fixed)
	if err != nil {
		return err
	}
	return awaitAccepted(ctx, t, "a "+kind+" proof", func() []Header { return append(append([]Header{}, fixed...), next()...) })
}
