package tokentest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// Attack is one hostile (or, where the catalogue says so, acceptable)
// token and the reason the core must give.
type Attack struct {
	// ID is the case id in jwt_attacks.json (JWT-01 ... JWT-32), or X-...
	// for cases beyond the catalogue.
	ID string
	// Name says what the token does.
	Name string
	// Token is the token.
	Token string
	// Reason is the token.* reason of the refusal; "" means the token
	// must be accepted.
	Reason string
	// Plain sends the token where JWE is not accepted.
	Plain bool
}

// Gateway paths of the attacks: the jwt policy of the gateway tests has a
// route that accepts JWE and one that does not.
const (
	PathJWE   = "/jwe/"
	PathPlain = "/plain/"
)

// Config is the core configuration the attacks are judged against: both
// issuers, static keys, and (unless plain) the gateway's JWE keys with
// PBES2 enabled (capped at p2c 10000) so that the p2c cap itself is
// reached. The gateway tests configure the same through YAML.
func (f *Fixture) Config(plain bool) token.Config {
	issuerKeys, err := token.ParseJWKS(f.PublicJWKS())
	if err != nil {
		panic(err)
	}
	hmacKeys, err := token.ParseJWKS(f.HMACIssuerKeys())
	if err != nil {
		panic(err)
	}
	c := token.Config{Issuers: []token.IssuerConfig{
		{
			Issuer: Issuer, Keys: []token.KeySource{issuerKeys},
			Algorithms: []string{"ES256", "EdDSA", "RS256", "PS256"},
			Audiences:  []string{Audience}, Type: "at+jwt",
			RequiredClaims: []string{"sub"}, MaxAge: 24 * 3600e9,
		},
		{
			Issuer: HMACIssuer, Keys: []token.KeySource{hmacKeys},
			Algorithms: []string{"HS256", "RS256", "ES256"},
			Audiences:  []string{Audience},
		},
	}}
	if !plain {
		c.JWE = &token.JWEConfig{
			Keys:          f.DecryptionKeys(),
			KeyAlgorithms: append(append([]string(nil), token.DefaultJWEKeyAlgorithms...), "RSA-OAEP-256", "PBES2-HS256+A128KW"),
		}
	}
	return c
}

// Attacks returns the catalogue: every case of jwt_attacks.json at least
// once, and cases for each remaining reason.
func (f *Fixture) Attacks() []Attack {
	var out []Attack
	add := func(id, name, tok, reason string) {
		out = append(out, Attack{ID: id, Name: name, Token: tok, Reason: reason})
	}
	claims := Claims(Issuer)
	es := f.Signer(f.ES256, "ES256")
	valid := f.Valid(f.ES256)
	parts := strings.Split(valid, ".")

	add("X-VALID", "a valid ES256 access token", valid, "")
	add("X-VALID", "a valid EdDSA access token", f.Valid(f.EdDSA), "")
	add("X-VALID", "a valid RS256 access token", f.Valid(f.RS256), "")

	// JWT-01: alg none in every spelling, with an empty and with the
	// original signature.
	for _, none := range []string{"none", "None", "NONE", "nOnE"} {
		h := Header(none, "es-1")
		add("JWT-01", "alg "+none+", empty signature", Compact(h, claims, nil), token.ReasonAlgNone)
		add("JWT-01", "alg "+none+", original signature", seg(h)+"."+parts[1]+"."+parts[2], token.ReasonAlgNone)
	}
	// JWT-02: the real alg, the signature stripped.
	add("JWT-02", "ES256 with the signature stripped", parts[0]+"."+parts[1]+".", token.ReasonBadSignature)
	// JWT-03: HS256 with an empty secret, at the issuer that allows HS256.
	add("JWT-03", "HS256 signed with an empty secret", Compact(Header("HS256", "hs-1"), Claims(HMACIssuer), HMAC(nil)), token.ReasonBadSignature)
	// JWT-04: the issuer's public key as an HMAC secret, in every form.
	for name, secret := range f.publicKeyForms() {
		for _, alg := range []string{"HS256", "HS384", "HS512"} {
			add("JWT-04", alg+" keyed with the public key as "+name, Compact(Header(alg, "es-1"), claims, HMAC(secret)), token.ReasonAlgNotAllowed)
		}
	}
	// JWT-05: an RSA or EC key's kid with an HS alg where HS256 is
	// allowed; a key declaring RS256 used with PS256; two keys sharing a
	// kid.
	hclaims := Claims(HMACIssuer)
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(f.RSAB.Public()))})
	add("JWT-05", "RSA kid with HS256 keyed by its PEM", Compact(Header("HS256", "rs-b"), hclaims, HMAC(rsaPEM)), token.ReasonKeyMismatch)
	add("JWT-05", "EC/RSA kid dup with HS256", Compact(Header("HS256", "dup"), hclaims, HMAC(rsaPEM)), token.ReasonKeyMismatch)
	add("JWT-05", "key declaring RS256 used with PS256 (a valid PSS signature)", Compact(Header("PS256", "rs-1"), claims, f.Signer(f.RS256, "PS256")), token.ReasonKeyMismatch)
	add("JWT-05", "ES256 with kid dup: the EC key of the two verifies", Compact(Header("ES256", "dup"), hclaims, f.Signer(f.ECB, "ES256")), "")
	// JWT-06..08: keys and key URLs in the header; nothing is fetched.
	attackerJWK := map[string]any{}
	_ = json.Unmarshal(must(f.Attacker.PublicJWK()), &attackerJWK)
	atk := f.Signer(f.Attacker, "ES256")
	for _, inj := range []struct{ id, param string }{{"JWT-06", "jwk"}, {"JWT-07", "jku"}, {"JWT-08", "x5u"}, {"JWT-08", "x5c"}} {
		for _, target := range InjectionTargets(inj.param) {
			h := Header("ES256", "es-1")
			h[inj.param] = target
			if inj.param == "jwk" {
				h[inj.param] = attackerJWK
			}
			add(inj.id, inj.param+" header injection "+fmt.Sprint(target)[:min(40, len(fmt.Sprint(target)))], Compact(h, claims, atk), token.ReasonHeaderInjection)
		}
	}
	// JWT-09..11: kid injection strings, HS256-signed with an empty secret.
	for _, kid := range []struct{ id, kid string }{
		{"JWT-09", "../../../../../../dev/null"}, {"JWT-09", "/dev/null"}, {"JWT-09", "/invalid_path"}, {"JWT-09", ""},
		{"JWT-10", "x' UNION SELECT '1';--"},
		{"JWT-11", "|sleep 10"}, {"JWT-11", "| curl http://127.0.0.1:1/"},
		{"X-KID", "a\x00b"}, {"X-KID", strings.Repeat("k", 200)},
	} {
		h := map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": kid.kid}
		add(kid.id, fmt.Sprintf("kid %q", truncate(kid.kid)), Compact(h, hclaims, HMAC([]byte{0})), token.ReasonBadKID)
	}
	// JWT-12/13: ECDSA encodings.
	add("JWT-12", "ES256 r=s=0 (64 zero bytes)", parts[0]+"."+parts[1]+"."+strings.Repeat("A", 86), token.ReasonBadSignature)
	add("JWT-12", "ES256 r=s=0 in DER", parts[0]+"."+parts[1]+"."+b64([]byte{0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00}), token.ReasonBadSignature)
	sig := mustDecode(parts[2])
	add("JWT-13", "ES256 signature in DER", parts[0]+"."+parts[1]+"."+b64(der(sig)), token.ReasonBadSignature)
	add("JWT-13", "ES256 signature of 63 bytes", parts[0]+"."+parts[1]+"."+b64(sig[:63]), token.ReasonBadSignature)
	add("JWT-13", "ES256 signature of 65 bytes", parts[0]+"."+parts[1]+"."+b64(append(append([]byte{}, sig...), 0)), token.ReasonBadSignature)
	n := elliptic.P256().Params().N
	add("JWT-13", "ES256 r = n", parts[0]+"."+parts[1]+"."+b64(append(n.FillBytes(make([]byte, 32)), sig[32:]...)), token.ReasonBadSignature)
	// JWT-14: (r, n-s) verifies mathematically (JOSE has no low-S rule);
	// the cache keys on the whole token, so it is its own entry.
	s := new(big.Int).SetBytes(sig[32:])
	add("JWT-14", "ES256 (r, n-s)", parts[0]+"."+parts[1]+"."+b64(append(append([]byte{}, sig[:32]...), new(big.Int).Sub(n, s).FillBytes(make([]byte, 32))...)), "")
	// JWT-15: Ed25519 with S + L.
	edTok := strings.Split(f.Valid(f.EdDSA), ".")
	add("JWT-15", "EdDSA with S+L", edTok[0]+"."+edTok[1]+"."+b64(addL(mustDecode(edTok[2]))), token.ReasonBadSignature)
	// JWT-16..19: time claims.
	now := Now().Unix()
	with := func(mut func(map[string]any)) map[string]any {
		c := Claims(Issuer)
		mut(c)
		return c
	}
	add("JWT-16", "no exp", Compact(Header("ES256", "es-1"), with(func(c map[string]any) { delete(c, "exp") }), es), token.ReasonMissingExp)
	add("JWT-17", "exp two minutes ago", Compact(Header("ES256", "es-1"), with(func(c map[string]any) { c["exp"] = now - 120 }), es), token.ReasonExpired)
	add("JWT-18", "nbf in an hour", Compact(Header("ES256", "es-1"), with(func(c map[string]any) { c["nbf"] = now + 3600 }), es), token.ReasonNotYetValid)
	add("JWT-18", "iat in an hour", Compact(Header("ES256", "es-1"), with(func(c map[string]any) { c["iat"] = now + 3600 }), es), token.ReasonNotYetValid)
	for _, bad := range []string{`"9999999999"`, `1e309`, `-1`, `true`, `null`, `[1]`} {
		p := strings.Replace(string(must(json.Marshal(with(func(c map[string]any) { c["exp"] = "EXP" })))), `"EXP"`, bad, 1)
		add("JWT-19", "exp "+bad, Compact(Header("ES256", "es-1"), p, es), token.ReasonBadClaims)
	}
	// JWT-20: audiences.
	add("JWT-20", "no aud", Compact(Header("ES256", "es-1"), with(func(c map[string]any) { delete(c, "aud") }), es), token.ReasonAudience)
	add("JWT-20", "aud another service", Compact(Header("ES256", "es-1"), with(func(c map[string]any) { c["aud"] = "https://other.test" }), es), token.ReasonAudience)
	add("JWT-20", `aud ["other"]`, Compact(Header("ES256", "es-1"), with(func(c map[string]any) { c["aud"] = []string{"https://other.test"} }), es), token.ReasonAudience)
	add("JWT-20", `aud ["other", us]`, Compact(Header("ES256", "es-1"), with(func(c map[string]any) { c["aud"] = []string{"https://other.test", Audience} }), es), "")
	// JWT-21: issuers.
	add("JWT-21", "iss of Issuer, signed by HMACIssuer's key", Compact(Header("RS256", "rs-b"), claims, f.Signer(f.RSAB, "RS256")), token.ReasonUnknownKID)
	add("JWT-21", "iss with a trailing slash", Compact(Header("ES256", "es-1"), with(func(c map[string]any) { c["iss"] = Issuer + "/" }), es), token.ReasonIssuer)
	add("JWT-21", "iss in upper case", Compact(Header("ES256", "es-1"), with(func(c map[string]any) { c["iss"] = strings.ToUpper(Issuer) }), es), token.ReasonIssuer)
	add("JWT-21", "no iss", Compact(Header("ES256", "es-1"), with(func(c map[string]any) { delete(c, "iss") }), es), token.ReasonIssuer)
	// JWT-22: explicit typing.
	for _, typ := range []string{"JWT", "dpop+jwt", "logout+jwt", ""} {
		h := Header("ES256", "es-1")
		if typ == "" {
			delete(h, "typ")
		} else {
			h["typ"] = typ
		}
		add("JWT-22", fmt.Sprintf("typ %q where at+jwt is required (an ID token, a DPoP proof, ...)", typ), Compact(h, claims, es), token.ReasonType)
	}
	// JWT-23: crit.
	for _, crit := range []any{[]string{"x-unknown"}, []string{"exp"}, []string{}, []string{"b64"}} {
		h := Header("ES256", "es-1")
		h["crit"] = crit
		if fmt.Sprint(crit) == "[b64]" {
			h["b64"] = false
		}
		add("JWT-23", fmt.Sprintf("crit %v", crit), Compact(h, claims, es), token.ReasonCritUnsupported)
	}
	// JWT-24: duplicate members, validly signed.
	add("JWT-24", "header alg twice", Compact(`{"alg":"none","alg":"ES256","kid":"es-1","typ":"at+jwt"}`, claims, es), token.ReasonDuplicateKey)
	dupPayload := strings.Replace(string(must(json.Marshal(claims))), `"sub":"user-42"`, `"sub":"alice","sub":"admin"`, 1)
	add("JWT-24", "payload sub twice", Compact(Header("ES256", "es-1"), dupPayload, es), token.ReasonDuplicateKey)
	add("JWT-24", `header "alg" and "\u0061lg"`, Compact(`{"alg":"ES256","\u0061lg":"none","kid":"es-1","typ":"at+jwt"}`, claims, es), token.ReasonDuplicateKey)
	// JWT-25: non-canonical base64url.
	add("JWT-25", "padding", parts[0]+"=."+parts[1]+"."+parts[2], token.ReasonBadEncoding)
	add("JWT-25", "standard alphabet", parts[0]+"."+parts[1]+"."+strings.NewReplacer("-", "+", "_", "/").Replace(parts[2])+"+", token.ReasonBadEncoding)
	add("JWT-25", "a newline", parts[0]+"\n."+parts[1]+"."+parts[2], token.ReasonBadEncoding)
	add("JWT-25", "non-zero trailing bits", parts[0]+"."+parts[1]+"."+flipTrailing(parts[2]), token.ReasonBadEncoding)
	// JWT-26: serialisations.
	flat := fmt.Sprintf(`{"payload":%q,"protected":%q,"signature":%q}`, parts[1], parts[0], parts[2])
	add("JWT-26", "flattened JSON serialisation", flat, token.ReasonJSONSerialization)
	add("JWT-26", "general JSON serialisation, two signatures", fmt.Sprintf(`{"payload":%q,"signatures":[{"protected":%q,"signature":%q},{"header":{"alg":"none"},"signature":""}]}`, parts[1], parts[0], parts[2]), token.ReasonJSONSerialization)
	add("JWT-26", "compact with JSON appended", valid+flat, token.ReasonBadEncoding)
	// JWT-27..32 and JWE beyond them.
	out = append(out, f.jweAttacks(valid)...)
	// JWT-28: sizes.
	add("JWT-28", "1 MiB of dots", strings.Repeat(".", 1<<20), token.ReasonTooLarge)
	add("JWT-28", "100k segments", strings.Repeat("a.", 100000), token.ReasonTooLarge)
	add("JWT-28", "64 KiB header", Compact(map[string]any{"alg": "ES256", "x": strings.Repeat("a", 64<<10)}, claims, es), token.ReasonTooLarge)
	add("JWT-28", "deeply nested header JSON", Compact(`{"alg":"ES256","x":`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+`}`, claims, es), token.ReasonMalformed)
	// Beyond the catalogue: each remaining reason.
	add("X-SHAPE", "two parts", parts[0]+"."+parts[1], token.ReasonMalformed)
	add("X-SHAPE", "header not an object", Compact(`["ES256"]`, claims, es), token.ReasonMalformed)
	add("X-CLAIMS", "payload an array", Compact(Header("ES256", "es-1"), `[1,2]`, es), token.ReasonBadClaims)
	add("X-CLAIMS", "sub a number", Compact(Header("ES256", "es-1"), with(func(c map[string]any) { c["sub"] = 42 }), es), token.ReasonBadClaims)
	add("X-KEYS", "an unknown kid", Compact(Header("ES256", "no-such-key"), claims, es), token.ReasonUnknownKID)
	add("X-KEYS", "signed by an attacker key with the issuer's kid", Compact(Header("ES256", "es-1"), claims, atk), token.ReasonBadSignature)
	add("X-KEYS", "an alg the issuer does not allow", Compact(Header("ES384", "es-1"), claims, es), token.ReasonAlgNotAllowed)
	add("X-AGE", "iat 25 hours ago, max age 24h", Compact(Header("ES256", "es-1"), with(func(c map[string]any) { c["iat"] = now - 25*3600 }), es), token.ReasonTooOld)
	add("X-REQUIRED", "no sub, which the issuer requires", Compact(Header("ES256", "es-1"), with(func(c map[string]any) { delete(c, "sub") }), es), token.ReasonMissingClaim)
	out = append(out, Attack{ID: "X-JWE", Name: "a valid JWE where JWE is not accepted", Token: f.mustEncrypt(valid, f.EncEC, "ECDH-ES+A256KW"), Reason: token.ReasonJWENotAccepted, Plain: true})
	return out
}

func (f *Fixture) jweAttacks(valid string) []Attack {
	var out []Attack
	add := func(id, name, tok, reason string) {
		out = append(out, Attack{ID: id, Name: name, Token: tok, Reason: reason})
	}
	for _, alg := range []struct {
		key *token.Key
		alg string
	}{{f.EncEC, "ECDH-ES+A256KW"}, {f.EncEC, "ECDH-ES"}, {f.EncRSA, "RSA-OAEP-256"}, {f.EncDir, "dir"}} {
		add("X-JWE", "a valid JWS nested in "+alg.alg+"/A256GCM", f.mustEncrypt(valid, alg.key, alg.alg), "")
	}
	add("X-JWE", "a valid JWS nested in PBES2 with p2c 1000", f.pbes2(valid, 1000), "")
	add("JWT-27", "claims encrypted to the gateway, unsigned", f.mustEncrypt(string(must(json.Marshal(Claims(Issuer)))), f.EncEC, "ECDH-ES+A256KW"), token.ReasonJWEUnsigned)
	add("JWT-27", "an alg none JWT nested in a JWE", f.mustEncrypt(Compact(Header("none", ""), Claims(Issuer), nil), f.EncEC, "ECDH-ES+A256KW"), token.ReasonAlgNone)
	add("JWT-29", "zip DEF bomb", f.zipBomb(), token.ReasonJWEZip)
	add("JWT-30", "PBES2 with p2c 2147483647", fakeJWE(map[string]any{"alg": "PBES2-HS256+A128KW", "enc": "A256GCM", "p2c": 2147483647, "p2s": "c2FsdHNhbHQ"}), token.ReasonJWEP2C)
	add("JWT-30", "PBES2 without p2c", fakeJWE(map[string]any{"alg": "PBES2-HS256+A128KW", "enc": "A256GCM", "p2s": "c2FsdHNhbHQ"}), token.ReasonJWEP2C)
	for _, epk := range []struct{ name, crv, x, y string }{
		// Wycheproof ecdh_secp256r1_webcrypto tcId 348 (off the curve) and 349 ((0,0)).
		{"a point off P-256", "P-256", "FRAmTBicPVI_-ZFqvXBp76aWjY3H3bZFfXhptT6mDNw", "-vt-1HhtoV0p7lklb1Nto1daSIjBuwqVslb0p-n9dkw"},
		{"(0,0)", "P-256", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"secp256k1", "P-256K", "gCjRYIKwdpbUqkqrnWsfFGNDWsCXkAYxEI-YiOE9pnw", "SEH9jdPO1uetjG_GVmIcL5PT2w6ynUjRQjFUUZhl28E"},
	} {
		add("JWT-31", "ECDH-ES epk "+epk.name, fakeJWE(map[string]any{"alg": "ECDH-ES+A256KW", "enc": "A256GCM", "kid": "enc-ec", "epk": map[string]any{"kty": "EC", "crv": epk.crv, "x": epk.x, "y": epk.y}}), token.ReasonJWEBadEPK)
	}
	p384 := must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))
	add("JWT-31", "ECDH-ES epk on P-384 for a P-256 key", fakeJWE(map[string]any{"alg": "ECDH-ES", "enc": "A256GCM", "kid": "enc-ec", "epk": map[string]any{
		"kty": "EC", "crv": "P-384", "x": b64(p384.X.FillBytes(make([]byte, 48))), "y": b64(p384.Y.FillBytes(make([]byte, 48))),
	}}), token.ReasonJWEBadEPK)
	add("JWT-32", "RSA1_5", fakeJWE(map[string]any{"alg": "RSA1_5", "enc": "A256GCM", "kid": "enc-rsa"}), token.ReasonJWEAlgNotAllowed)
	add("JWT-32", "A128CBC-HS256 where only A256GCM is allowed", fakeJWE(map[string]any{"alg": "RSA-OAEP-256", "enc": "A128CBC-HS256"}), token.ReasonJWEAlgNotAllowed)
	hs := must(token.NewKey(f.HS256, "hs-1", "dir"))
	add("JWT-32", "dir with the issuer's HMAC signing secret", f.mustEncrypt(valid, hs, "dir"), token.ReasonUnknownKID)
	add("X-JWE", "encrypted to another key with the gateway key's kid", f.mustEncrypt(valid, f.EncOtherEC, "ECDH-ES+A256KW"), token.ReasonDecrypt)
	add("X-JWE", "jku in a JWE header", fakeJWE(map[string]any{"alg": "RSA-OAEP-256", "enc": "A256GCM", "jku": "http://127.0.0.1:1/jwks"}), token.ReasonHeaderInjection)
	return out
}

func (f *Fixture) mustEncrypt(plaintext string, k *token.Key, alg string) string {
	return must(token.Encrypt([]byte(plaintext), k, alg, "A256GCM", strings.Count(plaintext, ".") == 2))
}

func (f *Fixture) pbes2(plaintext string, p2c int) string {
	e := must(jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.PBES2_HS256_A128KW, Key: []byte(Password), KeyID: "enc-pw", PBES2Count: p2c}, (&jose.EncrypterOptions{}).WithContentType("JWT")))
	return must(must(e.Encrypt([]byte(plaintext))).CompactSerialize())
}

// zipBomb is a compressed JWE whose plaintext inflates to 2 MiB.
func (f *Fixture) zipBomb() string {
	e := must(jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.ECDH_ES_A256KW, Key: f.EncEC.Public(), KeyID: "enc-ec"}, &jose.EncrypterOptions{Compression: jose.DEFLATE}))
	return must(must(e.Encrypt(make([]byte, 2<<20))).CompactSerialize())
}

// fakeJWE is a compact JWE with the given header and random parts: the
// checks under test must refuse it before any key is used.
func fakeJWE(h map[string]any) string {
	r := func(n int) string {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return b64(b)
	}
	return seg(h) + "." + r(40) + "." + r(12) + "." + r(64) + "." + r(16)
}

// InjectionTargets are the URLs (or values) the injection attacks put in
// a header parameter; the tests point a counting server at the first.
func InjectionTargets(param string) []any {
	switch param {
	case "jku", "x5u":
		return []any{InjectionURL, "http://169.254.169.254/latest/meta-data/"}
	case "x5c":
		return []any{[]string{"MIIBszCCAVmgAwIBAgIUAttackerSelfSigned"}}
	}
	return []any{"jwk"}
}

// InjectionURL is where injected jku and x5u point; tests serve a counting
// server there (SetInjectionURL) and check it is never fetched.
var InjectionURL = "http://127.0.0.1:9/jwks.json"

// SetInjectionURL points the jku/x5u attacks at u.
func SetInjectionURL(u string) { InjectionURL = u }

func (f *Fixture) publicKeyForms() map[string][]byte {
	pub := f.ES256.Public().(*ecdsa.PublicKey)
	der := must(x509.MarshalPKIXPublicKey(pub))
	p := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	rsaPub := f.RS256.Public()
	return map[string][]byte{
		"PEM":                   p,
		"PEM without newline":   []byte(strings.TrimSuffix(string(p), "\n")),
		"DER":                   der,
		"JWK":                   must(f.ES256.PublicJWK()),
		"RSA PKCS#1 PEM":        pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(rsaPub.(*rsa.PublicKey))}),
		"uncompressed EC point": must(pub.Bytes()),
	}
}

func mustDecode(s string) []byte { return must(base64.RawURLEncoding.DecodeString(s)) }

// der encodes a P1363 signature as ASN.1 DER.
func der(p1363 []byte) []byte {
	r, s := new(big.Int).SetBytes(p1363[:32]), new(big.Int).SetBytes(p1363[32:])
	enc := func(x *big.Int) []byte {
		b := x.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return append([]byte{0x02, byte(len(b))}, b...)
	}
	body := append(enc(r), enc(s)...)
	return append([]byte{0x30, byte(len(body))}, body...)
}

// addL adds the Ed25519 group order L to S (little-endian).
func addL(sig []byte) []byte {
	out := append([]byte{}, sig...)
	l := []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	carry := 0
	for i := 0; i < 32; i++ {
		v := int(out[32+i]) + int(l[i]) + carry
		out[32+i], carry = byte(v), v>>8
	}
	return out
}

// flipTrailing changes the last character so that only unused trailing
// bits differ (a lenient decoder reads the same bytes).
func flipTrailing(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[last^1])
}

func truncate(s string) string {
	if len(s) > 30 {
		return s[:30] + "..."
	}
	return s
}
