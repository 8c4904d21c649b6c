package httpsig

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/dunglas/httpsfv"
)

// Defaults of a zero Verifier.
const (
	DefaultMaxAge = 5 * time.Minute
	DefaultSkew   = 30 * time.Second
	// fallbackNonceTTL bounds how long a nonce is held when the signature
	// itself sets no bound (no created with a maximum age, no expires).
	fallbackNonceTTL = 24 * time.Hour
)

// Limits bound what is read before parsing. Zero fields take the defaults
// given.
type Limits struct {
	// MaxFieldBytes bounds Signature-Input, Signature and Content-Digest,
	// each with all its lines joined. Zero means 8 KiB.
	MaxFieldBytes int
	// MaxSignatures bounds the members of Signature-Input and Signature.
	// Zero means 8.
	MaxSignatures int
	// MaxComponents bounds the components one signature covers. Zero
	// means 32.
	MaxComponents int
	// MaxBodyBytes bounds the body whose digest is checked. Zero means
	// 8 MiB.
	MaxBodyBytes int64
}

func (l Limits) maxFieldBytes() int { return orDefault(l.MaxFieldBytes, 8<<10) }
func (l Limits) maxSignatures() int { return orDefault(l.MaxSignatures, 8) }
func (l Limits) maxComponents() int { return orDefault(l.MaxComponents, 32) }
func (l Limits) maxBodyBytes() int64 {
	if l.MaxBodyBytes > 0 {
		return l.MaxBodyBytes
	}
	return 8 << 20
}

func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// ReplayGuard makes nonces single-use. The store's hot backends implement
// it (store.Hot).
type ReplayGuard interface {
	// Claim marks key as used for ttl and reports true for exactly one
	// caller per key and ttl window.
	Claim(ctx context.Context, key string, ttl time.Duration) (first bool, err error)
}

// DigestPolicy says when Content-Digest (RFC 9530) is checked against the
// body.
type DigestPolicy int

const (
	// DigestWithBody (the zero value): a message with a body must carry a
	// sha-256 or sha-512 Content-Digest that matches it; a message without
	// one has its Content-Digest checked when present.
	DigestWithBody DigestPolicy = iota
	// DigestIfPresent: Content-Digest is checked when present and not
	// required.
	DigestIfPresent
)

// defaultRequired are the components a Verifier with nil Required demands
// of a request, in canonical form; content-digest is added when the
// request has a body. A response must cover @status, and content-digest
// when it has a body.
var defaultRequired = []string{`"@method"`, `"@authority"`, `"@path"`}

// Verifier verifies HTTP message signatures (RFC 9421 §3.2). Its zero
// value, with Keys set, is a strict policy: the first signature, by a key
// of hmac-sha256, ed25519, ecdsa-p256-sha256 or rsa-pss-sha512, covering
// @method, @authority and @path, and content-digest when there is a body,
// created within DefaultMaxAge, Content-Digest checked against the body. A Verifier is safe
// for concurrent use once configured.
type Verifier struct {
	// Keys finds the key of a keyid. Required.
	Keys KeyResolver
	// Algorithms is the allow-list of key algorithms. If nil,
	// hmac-sha256, ed25519, ecdsa-p256-sha256 and rsa-pss-sha512;
	// rsa-v1_5-sha256 is accepted only when listed.
	Algorithms []Algorithm
	// Label selects the signature Verify checks. If empty, the first
	// member of Signature-Input. VerifyAll checks every one.
	Label string
	// Tag, if set, is the tag parameter the signature must carry: it binds
	// the signature to this application (RFC 9421 §2.3).
	Tag string
	// Required are the components the signature must cover, as component
	// identifiers (`"@method"`, `@query-param;name="id"`, `content-type`;
	// see ParseComponent). If nil: @method, @authority and @path of a
	// request, @status of a response, and content-digest when the message
	// has a body (or says it has: Content-Length, Transfer-Encoding). An
	// empty non-nil slice requires none.
	Required []string
	// AllowEmpty accepts a signature that covers no component. Such a
	// signature fits any message and is refused by default (RFC 9421
	// §7.2.1).
	AllowEmpty bool
	// AllowMissingCreated accepts a signature without created. By default
	// it is refused, since its age cannot be bounded.
	AllowMissingCreated bool
	// MaxAge is how old created may be. If zero, DefaultMaxAge; if
	// negative, unbounded (expires still applies).
	MaxAge time.Duration
	// Skew is the clock skew tolerated on created and expires. If zero,
	// DefaultSkew; if negative, none.
	Skew time.Duration
	// RequireNonce refuses a signature without a nonce. A configured
	// ReplayGuard implies it: otherwise a client would evade the guard by
	// leaving the nonce out.
	RequireNonce bool
	// ReplayGuard, if set, claims each signature's keyid and nonce once,
	// for as long as the signature could still be accepted.
	ReplayGuard ReplayGuard
	// Digest says when Content-Digest is checked. The zero value requires
	// it of a message with a body.
	Digest DigestPolicy
	// Limits bound the fields and body before parsing.
	Limits Limits
	// StructuredFields add field types for the sf parameter to the ones
	// this package knows; lowercase names.
	StructuredFields map[string]FieldType
	// Now returns the verification time. If nil, time.Now.
	Now func() time.Time
}

// Result is what a verified signature says. When Verify fails, Result
// holds what could be read, for diagnosis only: never trust it.
type Result struct {
	// Label is the signature's label.
	Label string `json:"label,omitempty"`
	// Covered are the covered component identifiers in order, as they
	// appear in the signature base.
	Covered []string `json:"covered"`
	// Params are the signature parameters.
	Params
	// Algorithm is the algorithm the key was verified with.
	Algorithm Algorithm `json:"algorithm,omitempty"`
	// Digest is the Content-Digest algorithm checked against the body, or
	// "" if none was.
	Digest string `json:"digest,omitempty"`
	// SignatureParams is the @signature-params value.
	SignatureParams string `json:"signature_params,omitempty"`
}

// Validate reports every problem in v's configuration, for a config
// loader to refuse it up front rather than refusing every request. It
// changes nothing.
func (v *Verifier) Validate() error {
	var errs []error
	if v.Keys == nil {
		errs = append(errs, errors.New("httpsig: no key resolver"))
	}
	for _, a := range v.Algorithms {
		if !slices.Contains(defaultAlgorithms, a) && a != RSAV15SHA256 {
			errs = append(errs, fmt.Errorf("httpsig: algorithm %q is not supported", a))
		}
	}
	for _, r := range v.Required {
		if _, err := ParseComponent(r); err != nil {
			errs = append(errs, fmt.Errorf("httpsig: required component %q: %w", r, err))
		}
	}
	return errors.Join(errs...)
}

// Verify verifies the selected signature of msg and returns what it says,
// or an *Error whose Reason says why it was refused. Components come from
// msg as the client sent it.
func (v *Verifier) Verify(ctx context.Context, msg Message) (Result, error) {
	rs, err := v.verify(ctx, msg, false)
	if len(rs) == 0 {
		return Result{}, err
	}
	return rs[0], err
}

// VerifyAll verifies every signature of msg under the same policy; all
// must pass. The results are in Signature-Input order.
func (v *Verifier) VerifyAll(ctx context.Context, msg Message) ([]Result, error) {
	return v.verify(ctx, msg, true)
}

func (v *Verifier) verify(ctx context.Context, msg Message, all bool) ([]Result, error) {
	fs := msg.fields()
	inputs, sigs := values(fs, "signature-input"), values(fs, "signature")
	if len(inputs) == 0 || len(sigs) == 0 {
		return nil, fail(ReasonMissing, "the message has no Signature-Input and Signature fields")
	}
	d, err := parseInputs(inputs, v.Limits)
	if err != nil {
		return nil, err
	}
	sd, err := parseSignatures(sigs, v.Limits)
	if err != nil {
		return nil, err
	}
	labels := d.Names()
	switch {
	case all:
	case v.Label != "":
		if _, ok := d.Get(v.Label); !ok {
			return nil, fail(ReasonLabelNotFound, "Signature-Input has no member %q", v.Label)
		}
		labels = []string{v.Label}
	default:
		labels = labels[:1]
	}
	var out []Result
	for _, label := range labels {
		m, _ := d.Get(label)
		r, err := v.verifyOne(ctx, msg, label, m, sd)
		out = append(out, r)
		if err != nil {
			var e *Error
			if errors.As(err, &e) && e.Label == "" {
				e.Label = label
			}
			return out, err
		}
	}
	return out, nil
}

func (v *Verifier) verifyOne(ctx context.Context, msg Message, label string, m httpsfv.Member, sd *httpsfv.Dictionary) (Result, error) {
	res := Result{Label: label}
	in, err := parseInput(label, m, v.Limits)
	for _, c := range in.comps {
		res.Covered = append(res.Covered, c.id)
	}
	res.Params, res.SignatureParams = in.params, in.raw
	if err != nil {
		return res, err
	}
	sig, err := signatureBytes(sd, label)
	if err != nil {
		return res, err
	}
	if err := v.checkPolicy(msg, in); err != nil {
		return res, err
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now()
	deadline, err := v.checkTime(in.params, t)
	if err != nil {
		return res, err
	}
	if (v.RequireNonce || v.ReplayGuard != nil) && in.params.Nonce == "" {
		return res, fail(ReasonMissingNonce, "the signature has no nonce")
	}
	key, err := v.key(ctx, in.params)
	if err != nil {
		return res, err
	}
	res.Algorithm = key.Algorithm
	base, err := baseBuilder{types: v.StructuredFields}.build(msg, in.comps, in.raw)
	if err != nil {
		return res, err
	}
	if !key.verify(base, sig) {
		return res, fail(ReasonInvalid, "the signature does not verify")
	}
	if res.Digest, err = v.checkDigest(msg); err != nil {
		return res, err
	}
	if v.ReplayGuard != nil {
		if err := v.claim(ctx, in.params, t, deadline); err != nil {
			return res, err
		}
	}
	return res, nil
}

// checkPolicy checks what the signature covers (RFC 9421 §3.2.1).
func (v *Verifier) checkPolicy(msg Message, in sigInput) error {
	if len(in.comps) == 0 && !v.AllowEmpty {
		return fail(ReasonCoversNothing, "the signature covers no component and fits any message (RFC 9421 §7.2.1)")
	}
	required := v.Required
	if required == nil {
		required = defaultRequired
		if msg.isResponse() {
			required = []string{`"@status"`}
		}
		if msg.hasBody() {
			required = append(slices.Clip(required), `"content-digest"`)
		}
	}
	covered := make(map[string]bool, len(in.comps))
	for _, c := range in.comps {
		covered[c.canonical()] = true
	}
	for _, r := range required {
		id := r
		if v.Required != nil { // the defaults are canonical already
			var err error
			if id, err = ParseComponent(r); err != nil {
				return fail(ReasonMissingComponent, "required component %q does not parse", r)
			}
		}
		if !covered[id] {
			return fail(ReasonMissingComponent, "the signature does not cover %s", r)
		}
	}
	if v.Tag != "" && in.params.Tag != v.Tag {
		return fail(ReasonTagMismatch, "the signature's tag is not %q", v.Tag)
	}
	return nil
}

// checkTime checks created and expires against now and returns the time
// after which the signature would no longer be accepted (zero if none).
func (v *Verifier) checkTime(p Params, now time.Time) (deadline time.Time, err error) {
	skew := v.Skew
	switch {
	case skew == 0:
		skew = DefaultSkew
	case skew < 0:
		skew = 0
	}
	maxAge := v.MaxAge
	if maxAge == 0 {
		maxAge = DefaultMaxAge
	}
	if p.Created.IsZero() && !v.AllowMissingCreated {
		return time.Time{}, fail(ReasonMissingCreated, "the signature has no created parameter")
	}
	if !p.Created.IsZero() {
		if p.Created.After(now.Add(skew)) {
			return time.Time{}, fail(ReasonCreatedInFuture, "created is %s ahead of the verifier's clock", p.Created.Sub(now).Round(time.Second))
		}
	}
	if !p.Expires.IsZero() {
		deadline = p.Expires.Add(skew)
		if now.After(deadline) {
			return time.Time{}, fail(ReasonExpired, "the signature expired %s ago", now.Sub(p.Expires).Round(time.Second))
		}
	}
	if !p.Created.IsZero() && maxAge > 0 {
		end := p.Created.Add(maxAge + skew)
		if now.After(end) {
			return time.Time{}, fail(ReasonTooOld, "created is %s old, more than %s", now.Sub(p.Created).Round(time.Second), maxAge)
		}
		if deadline.IsZero() || end.Before(deadline) {
			deadline = end
		}
	}
	return deadline, nil
}

// key resolves the signature's key and checks its algorithm.
func (v *Verifier) key(ctx context.Context, p Params) (Key, error) {
	if p.KeyID == "" {
		return Key{}, fail(ReasonUnknownKey, "the signature has no keyid")
	}
	if v.Keys == nil {
		return Key{}, fail(ReasonUnknownKey, "no key resolver is configured")
	}
	key, err := v.Keys.ResolveKey(ctx, p.KeyID)
	if errors.Is(err, ErrUnknownKey) {
		return Key{}, fail(ReasonUnknownKey, "key %q is not known", p.KeyID)
	}
	if err != nil {
		return Key{}, &Error{Reason: ReasonUnavailable, Detail: "resolving key " + strconv.Quote(p.KeyID), Err: err}
	}
	if !allowed(v.Algorithms, key.Algorithm) {
		return Key{}, fail(ReasonAlgNotAllowed, "key %q has algorithm %q, which is not allowed", p.KeyID, key.Algorithm)
	}
	if p.Alg != "" && p.Alg != key.Algorithm {
		return Key{}, fail(ReasonAlgMismatch, "alg %q is not key %q's algorithm %q", p.Alg, p.KeyID, key.Algorithm)
	}
	if err := key.check(); err != nil {
		return Key{}, fail(ReasonUnknownKey, "key %q is unusable: %v", p.KeyID, err)
	}
	return key, nil
}

// checkDigest applies the digest policy.
func (v *Verifier) checkDigest(msg Message) (string, error) {
	required := v.Digest == DigestWithBody && msg.hasBody()
	return CheckContentDigest(values(msg.fields(), "content-digest"), msg.body(), required, v.Limits)
}

// claim records the nonce with the replay guard until the signature's
// deadline. The key is namespaced by keyid, so one client cannot burn
// another's nonces; the keyid's length keeps "a:b"+"c" apart from
// "a"+"b:c".
func (v *Verifier) claim(ctx context.Context, p Params, now, deadline time.Time) error {
	ttl := fallbackNonceTTL
	if !deadline.IsZero() {
		ttl = max(deadline.Sub(now), time.Second)
	}
	key := "nonce:httpsig:" + strconv.Itoa(len(p.KeyID)) + ":" + p.KeyID + ":" + p.Nonce
	first, err := v.ReplayGuard.Claim(ctx, key, ttl)
	if err != nil {
		return &Error{Reason: ReasonUnavailable, Detail: "claiming the nonce", Err: err}
	}
	if !first {
		return fail(ReasonReplayedNonce, "the nonce was used before")
	}
	return nil
}
