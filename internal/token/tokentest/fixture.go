// Package tokentest builds the token attack catalogue for tests: a fixture
// of issuers and keys, and hand-made tokens for every trick in
// /work/shared/vectors/standards/attacks/jwt_attacks.json and then some.
// The token core's tests and the gateway's jwt policy tests run the same
// attacks, so each refusal is checked at both layers.
//
// It is for tests only: it signs whatever it is told to, including
// tokens no issuer would make.
package tokentest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// Issuer names and the audience of the fixture.
const (
	// Issuer signs with ES256, EdDSA and RS256 (its RSA key declares alg
	// RS256) and requires typ at+jwt.
	Issuer = "https://issuer.test"
	// HMACIssuer allows HS256 and RS256 and has an oct key, an RSA key
	// and an EC key without declared alg, two of them sharing kid "dup".
	HMACIssuer = "https://hmac-issuer.test"
	// Audience is the audience both issuers' tokens must name.
	Audience = "https://api.test"
	// Password is the PBES2 password of the JWE keys.
	Password = "correct horse battery staple, twice over"
)

// Fixture holds the keys of the fixture's issuers and of an attacker.
type Fixture struct {
	ES256, EdDSA, RS256 *token.Key // Issuer's keys (private)
	HS256               []byte     // HMACIssuer's secret, kid "hs-1"
	RSAB, ECB           *token.Key // HMACIssuer's asymmetric keys (kid "rs-b", "dup")
	Attacker            *token.Key // an ES256 key no issuer trusts, kid "es-1" (Issuer's kid)

	EncEC, EncRSA, EncDir, EncPBES2 *token.Key // the gateway's JWE keys
	DirSecret                       []byte     // EncDir's secret
	EncOtherEC                      *token.Key // a P-256 key the gateway does not hold, kid "enc-ec"
}

var (
	once sync.Once
	fx   *Fixture
)

// New returns the fixture; keys are generated once per process.
func New() *Fixture {
	once.Do(func() { fx = generate() })
	return fx
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func generate() *Fixture {
	f := &Fixture{}
	ec := func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) }
	rsaKey := func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) }
	_, ed := must2(ed25519.GenerateKey(rand.Reader))
	f.ES256 = must(token.NewKey(ec(), "es-1", "ES256"))
	f.EdDSA = must(token.NewKey(ed, "ed-1", "EdDSA"))
	f.RS256 = must(token.NewKey(rsaKey(), "rs-1", "RS256"))
	f.HS256 = make([]byte, 32)
	_, _ = rand.Read(f.HS256)
	f.RSAB = must(token.NewKey(rsaKey(), "rs-b", ""))
	f.ECB = must(token.NewKey(ec(), "dup", ""))
	f.Attacker = must(token.NewKey(ec(), "es-1", "ES256"))
	f.EncEC = must(token.NewKey(ec(), "enc-ec", ""))
	f.EncRSA = must(token.NewKey(rsaKey(), "enc-rsa", ""))
	f.DirSecret = make([]byte, 32)
	_, _ = rand.Read(f.DirSecret)
	f.EncDir = must(token.NewKey(f.DirSecret, "enc-dir", "dir"))
	f.EncPBES2 = must(token.NewKey([]byte(Password), "enc-pw", "PBES2-HS256+A128KW"))
	f.EncOtherEC = must(token.NewKey(ec(), "enc-ec", ""))
	return f
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// PublicJWKS is Issuer's key set as its JWKS URL would serve it.
func (f *Fixture) PublicJWKS() []byte {
	return must(token.PublicJWKS(f.ES256, f.EdDSA, f.RS256))
}

// HMACIssuerKeys is HMACIssuer's key set, as a JWKS file with its secret
// (HMAC keys come only from files configured for their issuer).
func (f *Fixture) HMACIssuerKeys() []byte {
	type jwk map[string]any
	pubJWK := func(k *token.Key) jwk {
		var m jwk
		_ = json.Unmarshal(must(k.PublicJWK()), &m)
		return m
	}
	// A second key with kid "dup", of another type: lookups must filter
	// by type, never pick by kid alone (JWT-05).
	dupRSA := pubJWK(f.RSAB)
	dupRSA["kid"] = "dup"
	set := map[string]any{"keys": []jwk{
		{"kty": "oct", "kid": "hs-1", "k": b64(f.HS256)},
		pubJWK(f.RSAB), pubJWK(f.ECB), dupRSA,
	}}
	return must(json.Marshal(set))
}

// DecryptionKeys are the gateway's JWE keys, as a private JWKS file.
func (f *Fixture) DecryptionKeys() *token.KeySet {
	return token.NewKeySet(f.EncEC, f.EncRSA, f.EncDir, f.EncPBES2)
}

// DecryptionJWKS is DecryptionKeys as a JWKS file (private parts included).
func (f *Fixture) DecryptionJWKS() []byte {
	var keys []any
	for _, k := range []*token.Key{f.EncEC, f.EncRSA} {
		keys = append(keys, privateJWK(k))
	}
	keys = append(keys,
		map[string]any{"kty": "oct", "kid": "enc-dir", "alg": "dir", "k": b64(f.DirSecret)},
		map[string]any{"kty": "oct", "kid": "enc-pw", "alg": "PBES2-HS256+A128KW", "k": b64([]byte(Password))},
	)
	return must(json.Marshal(map[string]any{"keys": keys}))
}

// Now is the time tokens are minted at.
func Now() time.Time { return time.Now() }

// Claims are a valid access token's claims for iss, issued now.
func Claims(iss string) map[string]any {
	now := Now().Unix()
	return map[string]any{
		"iss": iss, "sub": "user-42", "aud": Audience,
		"iat": now, "exp": now + 3600, "jti": fmt.Sprint(now),
		"scope": "orders:read orders:write", "email": "alice@example.com",
	}
}

// Header is a JOSE header for alg and kid, with typ at+jwt.
func Header(alg, kid string) map[string]any {
	h := map[string]any{"alg": alg, "typ": "at+jwt"}
	if kid != "" {
		h["kid"] = kid
	}
	return h
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// seg encodes a header or payload: a string is raw JSON, anything else
// is marshalled.
func seg(v any) string {
	if s, ok := v.(string); ok {
		return b64([]byte(s))
	}
	return b64(must(json.Marshal(v)))
}

// Compact assembles header.payload.signature, signing with sign (nil: an
// empty signature).
func Compact(header, payload any, sign func(input []byte) []byte) string {
	input := seg(header) + "." + seg(payload)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + b64(sig)
}

// Signer returns a signing function for alg with k's private key.
func (f *Fixture) Signer(k *token.Key, alg string) func([]byte) []byte {
	return func(input []byte) []byte {
		switch p := k.Private().(type) {
		case *ecdsa.PrivateKey:
			h := sha256.Sum256(input)
			r, s := must2(ecdsa.Sign(rand.Reader, p, h[:]))
			out := make([]byte, 64)
			r.FillBytes(out[:32])
			s.FillBytes(out[32:])
			return out
		case ed25519.PrivateKey:
			return ed25519.Sign(p, input)
		case *rsa.PrivateKey:
			h := sha256.Sum256(input)
			if alg == "PS256" {
				return must(rsa.SignPSS(rand.Reader, p, crypto.SHA256, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}))
			}
			return must(rsa.SignPKCS1v15(rand.Reader, p, crypto.SHA256, h[:]))
		}
		panic("tokentest: not a signing key")
	}
}

// HMAC returns an HS256 signing function with secret.
func HMAC(secret []byte) func([]byte) []byte {
	return func(input []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(input)
		return m.Sum(nil)
	}
}

// Valid returns a valid access token of Issuer signed with k.
func (f *Fixture) Valid(k *token.Key) string {
	return Compact(Header(k.Alg(), k.KID()), Claims(Issuer), f.Signer(k, k.Alg()))
}

// privateJWK renders an EC or RSA private key as a JWK.
func privateJWK(k *token.Key) map[string]any {
	m := map[string]any{"kid": k.KID()}
	switch p := k.Private().(type) {
	case *ecdsa.PrivateKey:
		m["kty"], m["crv"] = "EC", "P-256"
		m["x"], m["y"] = b64(p.X.FillBytes(make([]byte, 32))), b64(p.Y.FillBytes(make([]byte, 32)))
		m["d"] = b64(p.D.FillBytes(make([]byte, 32)))
	case *rsa.PrivateKey:
		p.Precompute()
		m["kty"] = "RSA"
		m["n"], m["e"] = b64(p.N.Bytes()), b64(big.NewInt(int64(p.E)).Bytes())
		m["d"] = b64(p.D.Bytes())
		m["p"], m["q"] = b64(p.Primes[0].Bytes()), b64(p.Primes[1].Bytes())
		m["dp"], m["dq"], m["qi"] = b64(p.Precomputed.Dp.Bytes()), b64(p.Precomputed.Dq.Bytes()), b64(p.Precomputed.Qinv.Bytes())
	}
	return m
}
