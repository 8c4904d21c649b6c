package token

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultMaxTokenBytes caps a token's length before anything is parsed.
const DefaultMaxTokenBytes = 16 << 10

// IssuerConfig says whose tokens are accepted and how they are checked.
type IssuerConfig struct {
	// Issuer is the exact iss value (RFC 7519 §4.1.1; no normalisation:
	// a trailing slash or a change of case is another issuer). Empty
	// accepts any iss or none, and is allowed only for a verifier's sole
	// issuer (the CLI).
	Issuer string
	// Keys are the issuer's key sources; a kid is looked up in all of
	// them. Keys found here are never used for another issuer.
	Keys []KeySource
	// Algorithms is the allow-list (SignatureAlgorithms); it is required,
	// and "none" is never allowed. The token's alg, its key's type and
	// the key's declared alg must all agree.
	Algorithms []string
	// Audiences, when not empty, are the audiences one of which aud must
	// name. Empty: aud is not checked.
	Audiences []string
	// Leeway tolerates clock skew in exp, nbf and iat. Zero means none.
	Leeway time.Duration
	// Type, when set, is the typ a JWT must carry (RFC 8725 §3.11), such
	// as "at+jwt" (RFC 9068 §2.1) so that an ID token is not taken for an
	// access token. When empty, typ may be absent, "JWT" or "at+jwt";
	// other types (dpop+jwt, logout+jwt, ...) are never bearer tokens.
	// PASETO tokens have no typ and are not checked.
	Type string
	// MaxAge, when set, refuses tokens whose iat is older (and those
	// without iat).
	MaxAge time.Duration
	// RequiredClaims must be present.
	RequiredClaims []string
	// AllowMissingExp accepts tokens without exp. By default they are
	// refused (RFC 9068 §2.2 requires exp in access tokens).
	AllowMissingExp bool
}

// Config configures a Verifier. Zero values mean the documented default.
type Config struct {
	// Issuers are the trusted issuers; a token is checked against the one
	// its iss names, with that issuer's keys only (RFC 8725 §3.8).
	Issuers []IssuerConfig
	// JWE, if not nil, accepts encrypted tokens: JWEs whose plaintext is a
	// JWS of a trusted issuer. If nil, JWEs are refused.
	JWE *JWEConfig
	// MaxTokenBytes caps token length. If zero, DefaultMaxTokenBytes.
	MaxTokenBytes int
	// Now is the clock for exp, nbf, iat and the cache. If nil, time.Now.
	Now func() time.Time
	// Cache, if not nil, remembers verified tokens (see Cache).
	Cache *Cache
	// AllowJSONSerialization accepts the JWS and JWE JSON serialisations
	// (RFC 7515 §7.2, RFC 7516 §7.2), which bearer tokens never use: only
	// for explicit callers, such as the RFC 7520 vectors. A JWS in JSON
	// form then needs every one of its signatures to verify.
	AllowJSONSerialization bool
	// PASETOImplicitAssertion is the implicit assertion PASETO v4 tokens
	// are bound to (PASETO spec, "Implicit Assertions"). Usually empty.
	PASETOImplicitAssertion []byte
}

// issuer is a compiled IssuerConfig.
type issuer struct {
	cfg  IssuerConfig
	algs map[string]bool
}

// Verifier verifies tokens. It is safe for concurrent use.
type Verifier struct {
	issuers  []*issuer
	any      *issuer // the sole issuer when it accepts any iss
	jwe      *jweConfig
	max      int
	now      func() time.Time
	cache    *Cache
	json     bool
	implicit []byte
}

// NewVerifier checks c and returns its Verifier.
func NewVerifier(c Config) (*Verifier, error) {
	v := &Verifier{max: c.MaxTokenBytes, now: c.Now, cache: c.Cache, json: c.AllowJSONSerialization, implicit: c.PASETOImplicitAssertion}
	if v.max <= 0 {
		v.max = DefaultMaxTokenBytes
	}
	if v.now == nil {
		v.now = time.Now
	}
	if len(c.Issuers) == 0 {
		return nil, errors.New("token: no issuer configured")
	}
	seen := map[string]bool{}
	for i, ic := range c.Issuers {
		is := &issuer{cfg: ic, algs: map[string]bool{}}
		if ic.Issuer == "" {
			if len(c.Issuers) != 1 {
				return nil, errors.New("token: an issuer that accepts any iss must be the only one")
			}
			v.any = is
		}
		if seen[ic.Issuer] {
			return nil, fmt.Errorf("token: issuer %q is configured twice", ic.Issuer)
		}
		seen[ic.Issuer] = true
		if len(ic.Algorithms) == 0 {
			return nil, fmt.Errorf("token: issuers[%d]: no algorithms allowed", i)
		}
		for _, a := range ic.Algorithms {
			if _, ok := algs[a]; !ok {
				return nil, fmt.Errorf("token: issuers[%d]: algorithm %q is unknown or refused", i, a)
			}
			is.algs[a] = true
		}
		if len(ic.Keys) == 0 {
			return nil, fmt.Errorf("token: issuers[%d]: no key source", i)
		}
		if ic.Leeway < 0 || ic.MaxAge < 0 {
			return nil, fmt.Errorf("token: issuers[%d]: negative leeway or max age", i)
		}
		v.issuers = append(v.issuers, is)
	}
	if c.JWE != nil {
		j, err := compileJWE(c.JWE)
		if err != nil {
			return nil, err
		}
		v.jwe = j
	}
	return v, nil
}

// Token is a verified token.
type Token struct {
	// Format is "JWS", "JWE" (a JWS nested in a JWE), "v4.public" or
	// "v4.local".
	Format string
	// Alg is the signature algorithm (of the nested JWS for a JWE).
	Alg string
	// KID is the key ID the token named, if any.
	KID string
	// Type is the JWS typ header, if any.
	Type string
	// Header is the JWS protected header (the nested one for a JWE); for
	// PASETO, the footer when it is a JSON object. It must not be modified.
	Header map[string]any
	// Claims are the verified claims.
	Claims *Claims
	// Issuer is the configured issuer that vouched for the token.
	Issuer string

	key   *Key
	src   KeySource
	gen   uint64
	until time.Time // when a cached copy stops being served
}

// Verify checks a bearer token, compact JWS, compact JWE (nesting a JWS)
// or PASETO v4, and returns it verified, or an *Error with the reason of
// the first check that failed (see the package doc for the order).
func (v *Verifier) Verify(ctx context.Context, raw string) (*Token, error) {
	if len(raw) > v.max {
		return nil, newError(ReasonTooLarge, "longer than the size cap")
	}
	now := v.now()
	var sum [sha256.Size]byte
	if v.cache != nil {
		sum = sha256.Sum256([]byte(raw))
		if t := v.cache.get(sum, now); t != nil {
			return t, nil
		}
	}
	t, err := v.verify(ctx, raw, now)
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.cache.put(sum, t, now)
	}
	return t, nil
}

func (v *Verifier) verify(ctx context.Context, raw string, now time.Time) (*Token, error) {
	if raw == "" {
		return nil, newError(ReasonMalformed, "empty")
	}
	if raw[0] == '{' {
		return nil, newError(ReasonJSONSerialization, "JSON serialisation where a compact token is expected")
	}
	if len(raw) > 2 && raw[0] == 'v' && raw[1] >= '0' && raw[1] <= '9' && raw[2] == '.' {
		return v.verifyPASETO(ctx, raw, now)
	}
	switch n := strings.Count(raw, "."); n {
	case 2:
		return v.verifyCompactJWS(ctx, raw, now)
	case 4:
		if v.jwe == nil {
			return nil, newError(ReasonJWENotAccepted, "encrypted tokens are not accepted here")
		}
		return v.verifyCompactJWE(ctx, raw, now)
	default:
		return nil, newError(ReasonMalformed, "not three (JWS) or five (JWE) parts")
	}
}

// issuerFor picks the issuer a token's iss names: the key that verifies
// it must be that issuer's (RFC 8725 §3.8).
func (v *Verifier) issuerFor(iss string, present bool) (*issuer, error) {
	if v.any != nil {
		return v.any, nil
	}
	if !present {
		return nil, newError(ReasonIssuer, "no iss claim")
	}
	for _, is := range v.issuers {
		if is.cfg.Issuer == iss {
			return is, nil
		}
	}
	return nil, newError(ReasonIssuer, "iss is not a trusted issuer")
}

// keyChoice is a key and the set it came from.
type keyChoice struct {
	key *Key
	src KeySource
	gen uint64
}

// keysFor returns the issuer's keys that may verify a token of alg with
// the given kid, refetching remote sets once (rate-limited) when the kid
// is unknown.
func (is *issuer) keysFor(ctx context.Context, alg, kid string, hasKID bool) ([]keyChoice, error) {
	if !is.algs[alg] {
		return nil, newError(ReasonAlgNotAllowed, "alg is not allowed for this issuer")
	}
	found := is.lookup(kid, hasKID, func(s KeySource) *KeySet { return s.current() })
	if len(found) == 0 {
		// An unknown kid (or an empty set): remote sets may fetch, at most
		// once per interval however many tokens ask.
		found = is.lookup(kid, hasKID, func(s KeySource) *KeySet { return s.refetch(ctx) })
	}
	if len(found) == 0 {
		for _, s := range is.cfg.Keys {
			if s.current().gen == 0 {
				if _, remote := s.(*RemoteKeySet); remote {
					return nil, newError(ReasonKeysUnavailable, "the issuer's key set has not been fetched yet")
				}
			}
		}
		if !hasKID {
			return nil, newError(ReasonUnknownKID, "the issuer has no keys")
		}
		return nil, newError(ReasonUnknownKID, "no key of the issuer has this kid")
	}
	fit := slices.DeleteFunc(found, func(c keyChoice) bool { return !c.key.fits(alg) })
	if len(fit) == 0 {
		return nil, newError(ReasonKeyMismatch, "the key's type or declared alg does not agree with the token's alg")
	}
	if !hasKID && len(fit) > 1 {
		return nil, newError(ReasonUnknownKID, "the token names no kid and several keys fit")
	}
	return fit, nil
}

func (is *issuer) lookup(kid string, hasKID bool, get func(KeySource) *KeySet) []keyChoice {
	var out []keyChoice
	for _, s := range is.cfg.Keys {
		set := get(s)
		for _, k := range lookupKeys(set, kid, hasKID) {
			out = append(out, keyChoice{k, s, set.gen})
		}
	}
	return out
}

// checkType applies the issuer's explicit typing (RFC 8725 §3.11).
func (is *issuer) checkType(typ string, present bool) error {
	if is.cfg.Type != "" {
		if !present || normaliseType(typ) != normaliseType(is.cfg.Type) {
			return newError(ReasonType, "typ is not the one the issuer requires")
		}
		return nil
	}
	if present {
		switch normaliseType(typ) {
		case "jwt", "at+jwt":
		default:
			return newError(ReasonType, "typ names a token that is not a bearer token")
		}
	}
	return nil
}
