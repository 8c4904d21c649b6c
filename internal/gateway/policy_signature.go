package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// signaturePolicy requires an HTTP message signature (RFC 9421), verified
// by internal/httpsig over the request as the client sent it: the method,
// the target as received (Scope.OriginalTarget, not the normalised path),
// the public origin, the header field lines, and the body, read before
// anything is forwarded so that its Content-Digest can be checked, then
// forwarded unchanged.
//
// Keys come by keyid from the config, from a JWK Set, or, after an
// attestation layer, from the attestation token: the install's bound key,
// whose keyid is its thumbprint (cnf.jkt) and whose public key the token
// carries (cnf.jwk). Once an attestation layer has run, that key is the
// only one accepted: a request of an attested app must be signed by the
// key the attestation bound, or the token could travel without it.
type signaturePolicy struct {
	verifier httpsig.Verifier // a template: Keys is set per request
	static   httpsig.StaticKeys
	jwks     token.KeySource // nil without jwks_url or jwks_file
	origin   httpsig.Origin
	maxBody  int64
	digest   bool        // content-digest is required of a request with a body
	accept   http.Header // Accept-Signature: what to sign
	bound    boundKeys
}

// boundKeys caches installs' bound keys by thumbprint: parsing a JWK costs
// more than the signature check. A thumbprint names one key, so an entry
// never goes stale.
type boundKeys struct {
	mu sync.RWMutex
	m  map[string]httpsig.Key
}

const maxBoundKeys = 10000

func buildSignature(spec *config.PolicySpec, b *buildEnv) (Policy, []config.Problem) {
	c := spec.Signature
	var problems []config.Problem
	p := &signaturePolicy{static: httpsig.StaticKeys{}, maxBody: int64(c.MaxBodyBytes)}
	for _, id := range slices.Sorted(maps.Keys(c.Keys)) {
		k, err := signatureKey(c.Keys[id])
		if err != nil {
			problems = append(problems, b.problem("keys."+id, err.Error()))
			continue
		}
		p.static[id] = k
	}
	switch {
	case c.JWKSURL != "":
		src, ps := b.st.remoteKeys(c.JWKSURL, b, "jwks_url")
		problems = append(problems, ps...)
		p.jwks = src
	case c.JWKSFile != "":
		raw, err := os.ReadFile(c.JWKSFile)
		var set *token.KeySet
		if err == nil {
			set, err = token.ParseJWKS(raw)
		}
		if err != nil {
			problems = append(problems, b.problem("jwks_file", err.Error()))
		} else {
			p.jwks = set
		}
	}
	origin, err := parseOrigin(c.Origin)
	if err != nil {
		problems = append(problems, b.problem("origin", err.Error()))
	}
	p.origin = origin
	v := httpsig.Verifier{
		Label: c.Label, Tag: c.Tag, Required: c.Required,
		MaxAge: c.MaxAge.D(), Skew: c.Skew.D(), Now: b.now,
		Limits: httpsig.Limits{MaxBodyBytes: p.maxBody},
	}
	for _, a := range c.Algorithms {
		v.Algorithms = append(v.Algorithms, httpsig.Algorithm(a))
	}
	if c.Nonce == "required" {
		v.ReplayGuard = replayGuard{b.hot}
	}
	// A body's digest is required when the signature must cover it: by
	// default, or when the route lists content-digest.
	p.digest = c.Required == nil || slices.ContainsFunc(c.Required, func(r string) bool {
		id, err := httpsig.ParseComponent(r)
		return err == nil && id == `"content-digest"`
	})
	if !p.digest {
		v.Digest = httpsig.DigestIfPresent
	}
	v.Keys = p.static // for Validate; replaced per request
	if err := v.Validate(); err != nil {
		problems = append(problems, b.problem("", err.Error()))
	}
	p.verifier = v
	p.accept = acceptSignature(c)
	if len(problems) > 0 {
		return nil, problems
	}
	return p, nil
}

// signatureKey reads a configured key.
func signatureKey(k config.SignatureKey) (httpsig.Key, error) {
	data := []byte(k.Secret)
	if k.File != "" {
		var err error
		if data, err = os.ReadFile(k.File); err != nil {
			return httpsig.Key{}, err
		}
	}
	key, err := httpsig.ParseKey(data, httpsig.Algorithm(k.Alg))
	if err == nil && k.Secret != "" && key.Algorithm != httpsig.HMACSHA256 {
		err = errors.New("a secret is an HMAC key: alg must be hmac-sha256")
	}
	return key, err
}

// acceptSignature is the Accept-Signature field (RFC 9421 §5.1) sent with
// refusals that say what to sign.
func acceptSignature(c *config.SignaturePolicy) http.Header {
	comps := []string{`"@method"`, `"@authority"`, `"@path"`}
	if c.Required != nil {
		comps = comps[:0]
		for _, r := range c.Required {
			if id, err := httpsig.ParseComponent(r); err == nil {
				comps = append(comps, id)
			}
		}
	}
	label := c.Label
	if label == "" {
		label = httpsig.DefaultLabel
	}
	v := label + "=(" + strings.Join(comps, " ") + ");created"
	if c.Nonce == "required" {
		v += ";nonce"
	}
	if c.Tag != "" {
		v += fmt.Sprintf(";tag=%q", c.Tag)
	}
	return http.Header{"Accept-Signature": {v}}
}

func (p *signaturePolicy) Decide(s *Scope) error {
	r := s.Request
	msg := httpsig.NewRequest(r, s.OriginalTarget, publicOrigin(p.origin, s))
	if hasBody(r) && (p.digest || r.Header.Get("Content-Digest") != "") {
		max := p.maxBody
		if s.route != nil { // nil before the attestation endpoints
			max = min(max, s.route.maxBody)
		}
		body, d := readBody(s, max, httpsig.ReasonBodyTooLarge)
		if d != nil {
			return d
		}
		msg.Body = body
	}
	v := p.verifier
	var keyErr error // why the resolver found no key: httpsig's error says only that
	v.Keys = httpsig.KeyResolverFunc(func(ctx context.Context, keyID string) (httpsig.Key, error) {
		k, err := p.resolve(ctx, s.Install, keyID)
		keyErr = err
		return k, err
	})
	_, err := v.Verify(r.Context(), httpsig.Message{Request: msg})
	if err == nil {
		return nil
	}
	reason := httpsig.ReasonOf(err)
	switch {
	case reason == "":
		return &Denial{Reason: "gateway.internal", Cause: err}
	case reason == httpsig.ReasonUnknownKey && keyErr != nil:
		if errors.Is(keyErr, errNotBound) {
			reason = "signature.key_not_bound"
		}
		err = fmt.Errorf("%w: %v", err, keyErr)
	}
	d := &Denial{Reason: reason, Cause: err}
	switch reason {
	case httpsig.ReasonMissing, httpsig.ReasonCoversNothing, httpsig.ReasonMissingComponent, httpsig.ReasonMissingNonce:
		d.Header = p.accept
	}
	return d
}

// errNotBound: an attested install's request names another key than
// the one its attestation bound.
var errNotBound = fmt.Errorf("%w: not the attested install's bound key", httpsig.ErrUnknownKey)

// resolve finds the key of a keyid: the install's bound key when an
// attestation layer has run (and no other), else a configured key, else
// one of the JWK Set.
func (p *signaturePolicy) resolve(ctx context.Context, in *Install, keyID string) (httpsig.Key, error) {
	if in != nil && in.BoundKey != "" {
		if keyID != in.BoundKey {
			return httpsig.Key{}, errNotBound
		}
		return p.bound.get(in)
	}
	if k, ok := p.static[keyID]; ok {
		return k, nil
	}
	if p.jwks == nil {
		return httpsig.Key{}, httpsig.ErrUnknownKey
	}
	keys, err := token.FindKeys(ctx, p.jwks, keyID)
	switch {
	case token.ReasonOf(err) == token.ReasonUnknownKID:
		return httpsig.Key{}, httpsig.ErrUnknownKey
	case err != nil:
		return httpsig.Key{}, err
	}
	return httpsigKey(keys[0])
}

// get returns the install's bound key, from its token's cnf.jwk. A token
// without one is refused even when the key is cached: the answer must not
// depend on which node, or which moment, serves the request.
func (c *boundKeys) get(in *Install) (httpsig.Key, error) {
	if in.boundJWK == nil {
		return httpsig.Key{}, fmt.Errorf("%w: the attestation token carries no cnf.jwk (send signing_key when refreshing it)", httpsig.ErrUnknownKey)
	}
	c.mu.RLock()
	k, ok := c.m[in.BoundKey]
	c.mu.RUnlock()
	if ok {
		return k, nil
	}
	raw, err := json.Marshal(in.boundJWK)
	if err != nil {
		return httpsig.Key{}, err
	}
	tk, err := token.ParseJWK(raw)
	if err != nil || tk.HasPrivate() || tk.Public() == nil {
		return httpsig.Key{}, fmt.Errorf("%w: cnf.jwk is not a public key", httpsig.ErrUnknownKey)
	}
	if jkt, err := token.Thumbprint(tk.Public()); err != nil || jkt != in.BoundKey {
		return httpsig.Key{}, fmt.Errorf("%w: cnf.jwk is not the key cnf.jkt names", httpsig.ErrUnknownKey)
	}
	k, err = httpsigKey(tk)
	if err != nil {
		return httpsig.Key{}, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxBoundKeys {
		c.m = make(map[string]httpsig.Key)
	}
	c.m[in.BoundKey] = k
	c.mu.Unlock()
	return k, nil
}

// httpsigKey turns a JOSE key into an HTTP signature key: the JWK's alg,
// when it declares one, picks the algorithm; otherwise its type does.
func httpsigKey(k *token.Key) (httpsig.Key, error) {
	if k.Public() == nil {
		return httpsig.Key{}, fmt.Errorf("%w: a symmetric key cannot come from a key set", httpsig.ErrUnknownKey)
	}
	alg := map[string]httpsig.Algorithm{
		"ES256": httpsig.ECDSAP256SHA256, "EdDSA": httpsig.Ed25519, "Ed25519": httpsig.Ed25519,
		"PS512": httpsig.RSAPSSSHA512, "RS256": httpsig.RSAV15SHA256,
	}[k.Alg()]
	if k.Alg() != "" && alg == "" {
		return httpsig.Key{}, fmt.Errorf("%w: JWK alg %s has no HTTP signature algorithm", httpsig.ErrUnknownKey, k.Alg())
	}
	if alg == "" {
		alg = map[string]httpsig.Algorithm{"EC": httpsig.ECDSAP256SHA256, "OKP": httpsig.Ed25519, "RSA": httpsig.RSAPSSSHA512}[k.Type()]
	}
	return httpsig.Key{Algorithm: alg, Public: k.Public()}, nil
}

var _ Policy = (*signaturePolicy)(nil)
