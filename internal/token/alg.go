package token

import (
	"crypto"
	_ "crypto/sha256" // hashes of the JWS algorithms
	_ "crypto/sha512"
)

// algInfo is what an algorithm demands of its key (RFC 7518 §3.1, RFC
// 8037 §3.1, PASETO v4).
type algInfo struct {
	kty     string      // RSA, EC, OKP or oct
	crv     string      // EC and OKP curve
	hash    crypto.Hash // 0 for EdDSA and PASETO
	pss     bool
	minKey  int // oct: minimum secret bytes (RFC 7518 §3.2: at least the hash size)
	exact   int // oct: exact secret bytes (v4.local)
	sigSize int // fixed signature size; 0 for RSA (the modulus size)
	paseto  bool
}

// Algorithm names.
const (
	AlgPASETOPublic = "v4.public" // PASETO v4.public: Ed25519 over PAE
	AlgPASETOLocal  = "v4.local"  // PASETO v4.local: XChaCha20 + BLAKE2b-MAC
)

var algs = map[string]algInfo{
	"RS256": {kty: "RSA", hash: crypto.SHA256},
	"RS384": {kty: "RSA", hash: crypto.SHA384},
	"RS512": {kty: "RSA", hash: crypto.SHA512},
	"PS256": {kty: "RSA", hash: crypto.SHA256, pss: true},
	"PS384": {kty: "RSA", hash: crypto.SHA384, pss: true},
	"PS512": {kty: "RSA", hash: crypto.SHA512, pss: true},
	"ES256": {kty: "EC", crv: "P-256", hash: crypto.SHA256, sigSize: 64},
	"ES384": {kty: "EC", crv: "P-384", hash: crypto.SHA384, sigSize: 96},
	"ES512": {kty: "EC", crv: "P-521", hash: crypto.SHA512, sigSize: 132},
	"EdDSA": {kty: "OKP", crv: "Ed25519", sigSize: 64},
	// Ed25519 is the fully specified name of EdDSA over Ed25519.
	"Ed25519":       {kty: "OKP", crv: "Ed25519", sigSize: 64},
	"HS256":         {kty: "oct", hash: crypto.SHA256, minKey: 32, sigSize: 32},
	"HS384":         {kty: "oct", hash: crypto.SHA384, minKey: 48, sigSize: 48},
	"HS512":         {kty: "oct", hash: crypto.SHA512, minKey: 64, sigSize: 64},
	AlgPASETOPublic: {kty: "OKP", crv: "Ed25519", sigSize: 64, paseto: true},
	AlgPASETOLocal:  {kty: "oct", exact: 32, paseto: true},
}

// SignatureAlgorithms lists the algorithms an issuer may allow.
func SignatureAlgorithms() []string {
	return []string{"ES256", "ES384", "ES512", "EdDSA", "Ed25519", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "HS256", "HS384", "HS512", AlgPASETOPublic, AlgPASETOLocal}
}

// isHMAC reports whether alg is a MAC, which needs a secret the issuer
// shares with the gateway.
func isHMAC(alg string) bool { return algs[alg].kty == "oct" && !algs[alg].paseto }

// fits reports whether k may check a token of alg (RFC 8725 §3.1: each key
// is used with exactly one algorithm). A key that declares alg fits that
// alg only; a key that declares none fits the algorithms of its type and
// curve, except PASETO, whose keys must say they are PASETO keys.
func (k *Key) fits(alg string) bool {
	info, ok := algs[alg]
	if !ok {
		return false
	}
	if k.alg != "" {
		if k.alg != alg {
			return false
		}
	} else if info.paseto {
		return false
	}
	if k.kty != info.kty || k.crv != info.crv {
		return false
	}
	if k.kty == "oct" {
		n := len(k.secret)
		if n < info.minKey || (info.exact != 0 && n != info.exact) {
			return false
		}
	}
	return true
}
