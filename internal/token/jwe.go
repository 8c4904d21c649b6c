package token

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// JWEConfig accepts encrypted tokens (RFC 7516). Their plaintext must be
// a JWS of a trusted issuer (RFC 8725 §2.3: anyone can encrypt to the
// gateway's public key, so encryption alone proves nothing).
type JWEConfig struct {
	// Keys are the gateway's decryption keys: RSA and EC private keys,
	// symmetric keys for dir and key wrapping, PBES2 passwords. Required.
	Keys *KeySet
	// KeyAlgorithms is the alg allow-list. If empty: RSA-OAEP-256,
	// ECDH-ES, ECDH-ES+A256KW and dir. RSA1_5 (RFC 8725 §3.2) and PBES2
	// are accepted only when listed.
	KeyAlgorithms []string
	// ContentEncryption is the enc allow-list. If empty: A256GCM.
	ContentEncryption []string
	// MaxP2C caps the PBES2 iteration count, read from the header before
	// any key derivation (JWT-30). If zero, 10000.
	MaxP2C int
	// AllowZip accepts compressed plaintexts (zip "DEF"). Off by default:
	// a small token can inflate to megabytes (RFC 8725 §3.6). go-jose
	// bounds inflation at 250 kB or ten times the input; the inflated
	// plaintext must also fit MaxZipBytes (if zero, 64 KiB).
	AllowZip    bool
	MaxZipBytes int
}

// Defaults of JWEConfig.
const (
	DefaultMaxP2C      = 10000
	DefaultMaxZipBytes = 64 << 10
)

// DefaultJWEKeyAlgorithms and DefaultJWEContentEncryption are the
// allow-lists of a JWEConfig that sets none.
var (
	DefaultJWEKeyAlgorithms     = []string{"RSA-OAEP-256", "ECDH-ES", "ECDH-ES+A256KW", "dir"}
	DefaultJWEContentEncryption = []string{"A256GCM"}
)

// jweAlg is what a key management algorithm needs of its key.
type jweAlg struct {
	kty    string
	keyLen int // oct: exact secret length; 0 for any (PBES2) or dir (the enc's)
	pbes2  bool
	ecdh   bool
}

var jweKeyAlgs = map[string]jweAlg{
	"RSA1_5":             {kty: "RSA"},
	"RSA-OAEP":           {kty: "RSA"},
	"RSA-OAEP-256":       {kty: "RSA"},
	"ECDH-ES":            {kty: "EC", ecdh: true},
	"ECDH-ES+A128KW":     {kty: "EC", ecdh: true},
	"ECDH-ES+A192KW":     {kty: "EC", ecdh: true},
	"ECDH-ES+A256KW":     {kty: "EC", ecdh: true},
	"dir":                {kty: "oct"},
	"A128KW":             {kty: "oct", keyLen: 16},
	"A192KW":             {kty: "oct", keyLen: 24},
	"A256KW":             {kty: "oct", keyLen: 32},
	"A128GCMKW":          {kty: "oct", keyLen: 16},
	"A192GCMKW":          {kty: "oct", keyLen: 24},
	"A256GCMKW":          {kty: "oct", keyLen: 32},
	"PBES2-HS256+A128KW": {kty: "oct", pbes2: true},
	"PBES2-HS384+A192KW": {kty: "oct", pbes2: true},
	"PBES2-HS512+A256KW": {kty: "oct", pbes2: true},
}

// jweEncs maps content encryption to its key length (for dir).
var jweEncs = map[string]int{
	"A128GCM": 16, "A192GCM": 24, "A256GCM": 32,
	"A128CBC-HS256": 32, "A192CBC-HS384": 48, "A256CBC-HS512": 64,
}

type jweConfig struct {
	keys    *KeySet
	algs    map[string]bool
	encs    map[string]bool
	maxP2C  int
	zip     bool
	maxZip  int
	algList []jose.KeyAlgorithm
	encList []jose.ContentEncryption
}

func compileJWE(c *JWEConfig) (*jweConfig, error) {
	j := &jweConfig{keys: c.Keys, algs: map[string]bool{}, encs: map[string]bool{}, maxP2C: c.MaxP2C, zip: c.AllowZip, maxZip: c.MaxZipBytes}
	if j.maxP2C <= 0 {
		j.maxP2C = DefaultMaxP2C
	}
	if j.maxZip <= 0 {
		j.maxZip = DefaultMaxZipBytes
	}
	if c.Keys.Len() == 0 {
		return nil, fmt.Errorf("token: JWE needs at least one decryption key")
	}
	for _, k := range c.Keys.keys {
		if !k.HasPrivate() {
			return nil, fmt.Errorf("token: JWE decryption key %q has no private or secret material", k.kid)
		}
	}
	algs, encs := c.KeyAlgorithms, c.ContentEncryption
	if len(algs) == 0 {
		algs = DefaultJWEKeyAlgorithms
	}
	if len(encs) == 0 {
		encs = DefaultJWEContentEncryption
	}
	for _, a := range algs {
		if _, ok := jweKeyAlgs[a]; !ok {
			return nil, fmt.Errorf("token: unknown JWE key algorithm %q", a)
		}
		j.algs[a] = true
		j.algList = append(j.algList, jose.KeyAlgorithm(a))
	}
	for _, e := range encs {
		if _, ok := jweEncs[e]; !ok {
			return nil, fmt.Errorf("token: unknown JWE content encryption %q", e)
		}
		j.encs[e] = true
		j.encList = append(j.encList, jose.ContentEncryption(e))
	}
	return j, nil
}

// checkJWEHeader applies the JWE policy to a (merged) header, before any
// key is used: jwe_alg_not_allowed, jwe_zip, jwe_p2c, jwe_bad_epk.
func (j *jweConfig) checkJWEHeader(h *joseHeader) (*ecdh.PublicKey, error) {
	info, known := jweKeyAlgs[h.alg]
	if !known || !j.algs[h.alg] {
		return nil, newError(ReasonJWEAlgNotAllowed, "JWE alg is not allowed")
	}
	enc, _ := h.m["enc"].(string)
	if !j.encs[enc] {
		return nil, newError(ReasonJWEAlgNotAllowed, "JWE enc is not allowed")
	}
	if zip, ok := h.m["zip"]; ok {
		if !j.zip || zip != "DEF" {
			return nil, newError(ReasonJWEZip, "compressed JWE plaintexts are not accepted")
		}
	}
	if info.pbes2 {
		n, ok := h.m["p2c"].(json.Number)
		c, err := strconv.ParseInt(string(n), 10, 64)
		if !ok || err != nil || c < 1 || c > int64(j.maxP2C) {
			// Read before any key derivation: a p2c of 2^31 would cost
			// minutes of PBKDF2 (JWT-30).
			return nil, newError(ReasonJWEP2C, "PBES2 p2c is missing or above the cap")
		}
		if s, ok := h.m["p2s"].(string); !ok || s == "" {
			return nil, newError(ReasonMalformed, "PBES2 p2s is missing")
		}
	}
	if info.ecdh {
		epk, err := parseEPK(h.m["epk"])
		if err != nil {
			return nil, err
		}
		return epk, nil
	}
	return nil, nil
}

// parseEPK reads an ECDH-ES ephemeral public key (RFC 7518 §4.6.1.1)
// strictly: an EC JWK with no private part, exact-length coordinates, and
// a point of its curve other than infinity, as crypto/ecdh checks. An
// off-curve point would let a sender learn the gateway's private key
// (invalid-curve attack, RFC 8725 §3.4).
func parseEPK(v any) (*ecdh.PublicKey, error) {
	bad := newError(ReasonJWEBadEPK, "the ephemeral public key is not a point of a supported curve")
	m, ok := v.(map[string]any)
	if !ok {
		return nil, bad
	}
	if kty, _ := m["kty"].(string); kty != "EC" {
		return nil, bad
	}
	if _, ok := m["d"]; ok {
		return nil, bad
	}
	crv, _ := m["crv"].(string)
	var curve ecdh.Curve
	var size int
	switch crv {
	case "P-256":
		curve, size = ecdh.P256(), 32
	case "P-384":
		curve, size = ecdh.P384(), 48
	case "P-521":
		curve, size = ecdh.P521(), 66
	default:
		return nil, bad
	}
	xs, _ := m["x"].(string)
	ys, _ := m["y"].(string)
	x, errX := decodeSegment(xs)
	y, errY := decodeSegment(ys)
	if errX != nil || errY != nil || len(x) != size || len(y) != size {
		return nil, bad
	}
	point := make([]byte, 0, 1+2*size)
	point = append(append(append(point, 4), x...), y...)
	pub, err := curve.NewPublicKey(point)
	if err != nil {
		return nil, bad
	}
	return pub, nil
}

// decryptionKeys returns the keys that may decrypt a JWE of this header.
func (j *jweConfig) decryptionKeys(h *joseHeader, epk *ecdh.PublicKey) ([]*Key, error) {
	info := jweKeyAlgs[h.alg]
	enc, _ := h.m["enc"].(string)
	cands := lookupKeys(j.keys, h.kid, h.hasKID)
	if len(cands) == 0 {
		return nil, newError(ReasonUnknownKID, "no decryption key has this kid")
	}
	var fit []*Key
	for _, k := range cands {
		if k.kty != info.kty || (k.alg != "" && k.alg != h.alg && !(h.alg == "dir" && k.alg == enc)) || k.use == "sig" || !k.HasPrivate() {
			continue
		}
		switch {
		case info.kty == "oct" && h.alg == "dir" && len(k.secret) != jweEncs[enc]:
			continue
		case info.kty == "oct" && info.keyLen != 0 && len(k.secret) != info.keyLen:
			continue
		case info.ecdh:
			priv, ok := k.priv.(*ecdsa.PrivateKey)
			if !ok {
				continue
			}
			if epk == nil || curveName(priv) != curveOf(epk) {
				return nil, newError(ReasonJWEBadEPK, "the ephemeral public key is not on the recipient key's curve")
			}
		}
		fit = append(fit, k)
	}
	if len(fit) == 0 {
		return nil, newError(ReasonKeyMismatch, "no decryption key fits the JWE alg")
	}
	return fit, nil
}

func curveName(k *ecdsa.PrivateKey) string { return k.Curve.Params().Name }

func curveOf(p *ecdh.PublicKey) string {
	switch p.Curve() {
	case ecdh.P256():
		return "P-256"
	case ecdh.P384():
		return "P-384"
	case ecdh.P521():
		return "P-521"
	}
	return ""
}

func keyMaterial(k *Key) any {
	if k.secret != nil {
		return k.secret
	}
	return k.priv
}

// decryptCompactJWE checks and decrypts a compact JWE (five parts, which
// the caller has counted).
func (v *Verifier) decryptCompactJWE(raw string) (*joseHeader, []byte, error) {
	parts := strings.Split(raw, ".")
	if parts[0] == "" || parts[2] == "" || parts[3] == "" || parts[4] == "" {
		return nil, nil, newError(ReasonMalformed, "a JWE part is empty")
	}
	var hb []byte
	for i, p := range parts {
		b, err := decodeSegment(p)
		if err != nil {
			return nil, nil, err
		}
		if i == 0 {
			hb = b
		}
	}
	h, err := parseHeaderBytes(hb)
	if err != nil {
		return nil, nil, err
	}
	plain, err := v.jwe.decrypt(h, func() (*jose.JSONWebEncryption, error) {
		return jose.ParseEncryptedCompact(raw, v.jwe.algList, v.jwe.encList)
	})
	if err != nil {
		return nil, nil, err
	}
	return h, plain, nil
}

// verifyCompactJWE decrypts a compact JWE (RFC 7516 §7.1) and verifies
// the JWS inside it.
func (v *Verifier) verifyCompactJWE(ctx context.Context, raw string, now time.Time) (*Token, error) {
	h, plain, err := v.decryptCompactJWE(raw)
	if err != nil {
		return nil, err
	}
	if cty, ok := h.m["cty"].(string); ok && normaliseType(cty) != "jwt" {
		return nil, newError(ReasonJWEUnsigned, "the JWE content type is not JWT")
	}
	inner := string(plain)
	if len(inner) > v.max {
		return nil, newError(ReasonTooLarge, "the nested token is longer than the size cap")
	}
	if strings.Count(inner, ".") != 2 || inner[0] == '{' {
		return nil, newError(ReasonJWEUnsigned, "the JWE plaintext is not a signed JWT")
	}
	t, err := v.verifyCompactJWS(ctx, inner, now)
	if err != nil {
		return nil, err
	}
	t.Format = "JWE"
	return t, nil
}

// decrypt checks the header against the policy, picks the key and
// decrypts with go-jose.
func (j *jweConfig) decrypt(h *joseHeader, parse func() (*jose.JSONWebEncryption, error)) ([]byte, error) {
	epk, err := j.checkJWEHeader(h)
	if err != nil {
		return nil, err
	}
	keys, err := j.decryptionKeys(h, epk)
	if err != nil {
		return nil, err
	}
	obj, err := parse()
	if err != nil {
		return nil, newError(ReasonMalformed, "the JWE does not parse")
	}
	for _, k := range keys {
		plain, err := obj.Decrypt(keyMaterial(k))
		if err != nil {
			continue
		}
		if _, zipped := h.m["zip"]; zipped && len(plain) > j.maxZip {
			return nil, newError(ReasonJWEZip, "the inflated plaintext is larger than the cap")
		}
		return plain, nil
	}
	return nil, newError(ReasonDecrypt, "the JWE does not decrypt with the configured keys")
}
