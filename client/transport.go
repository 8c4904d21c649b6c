package client

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Proof is the proof of possession of the request-signing key that
// accompanies the token.
type Proof string

// Proofs a gateway route may require.
const (
	// ProofSignature is an HTTP message signature (RFC 9421).
	ProofSignature Proof = "signature"
	// ProofDPoP is a DPoP proof (RFC 9449).
	ProofDPoP Proof = "dpop"
	// ProofNone sends the token alone, for routes that require no proof.
	ProofNone Proof = "none"
)

// DefaultHeader is the header that carries the attestation token.
const DefaultHeader = "Attestation-Token"

// Transport is an http.RoundTripper that attests the app, keeps its
// attestation token fresh, and sends the token with a proof of possession
// on every request to the gateway (see the package documentation). It is
// safe for concurrent use; configure it before its first use and do not
// copy it after.
type Transport struct {
	// Gateway is the gateway's origin, scheme://host[:port], such as
	// https://api.example.com: the attestation endpoints are there, and
	// only requests to it carry the token and proofs. Required.
	Gateway string
	// Prefix is the gateway's attestation.prefix. If empty, none.
	Prefix string
	// App is the app's id in the gateway's config. Required unless
	// FixedToken is set.
	App string
	// AppVersion is the version users know the app by ("2.3.1"); the
	// gateway's version rules judge it. If empty, none is sent, and an app
	// with a min_version is refused.
	AppVersion string
	// Attestor makes the platform's evidence. Required unless FixedToken
	// is set.
	Attestor Attestor
	// Key is the request-signing key K, ECDSA P-256; a hardware-backed
	// crypto.Signer fits. If nil, a key is generated in memory at first
	// use and lives as long as the Transport. The gateway registers an
	// install with one K: an Attestor whose device key outlives the
	// Transport (DevAttestor, an Android Keystore key) needs the same K
	// every time, such as the device key itself.
	Key crypto.Signer
	// Proof is the proof sent with each request. If empty, ProofSignature.
	Proof Proof
	// Header carries the token. If empty, DefaultHeader.
	Header string
	// BindAuthorization asks for tokens bound to the request's
	// Authorization header (the token's uth), for routes with
	// bind_authorization: a token is then obtained for each Authorization
	// value, sent with the exchange.
	BindAuthorization bool
	// SignatureLabel is the label of the signatures. If empty,
	// DefaultSignatureLabel.
	SignatureLabel string
	// SignatureTag is the tag parameter of the signatures, for routes
	// that require one. If empty, none.
	SignatureTag string
	// FixedToken, if set, is sent instead of attesting: a token obtained
	// elsewhere, such as by a platform SDK. It is never refreshed, and
	// the proofs are made with Key.
	FixedToken string
	// UserAgent is the User-Agent of the attestation requests. If empty,
	// Go's default. Requests the app sends keep their own.
	UserAgent string
	// Base sends the requests. If nil, http.DefaultTransport.
	Base http.RoundTripper
	// Now is the clock of token refreshes, signatures and proofs. If nil,
	// time.Now.
	Now func() time.Time

	initOnce sync.Once
	initErr  error
	key      *signingKey
	gateway  origin
	sem      chan struct{} // one exchange at a time

	mu     sync.Mutex
	tok    *Token
	nonce  string // the gateway's latest DPoP-Nonce
	assert bool   // a token was earned: refresh by assertion
}

var _ http.RoundTripper = (*Transport)(nil)

// origin is a normalised scheme and authority.
type origin struct{ scheme, authority, base string }

func (t *Transport) init() error {
	t.initOnce.Do(func() {
		u, err := url.Parse(t.Gateway)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			t.initErr = fmt.Errorf("client: Gateway must be scheme://host[:port], got %q", t.Gateway)
			return
		}
		t.gateway = origin{scheme: u.Scheme, authority: normalizeAuthority(u.Scheme, u.Host), base: u.Scheme + "://" + u.Host}
		switch {
		case t.Prefix != "" && (!strings.HasPrefix(t.Prefix, "/") || strings.HasSuffix(t.Prefix, "/")):
			t.initErr = fmt.Errorf("client: Prefix must start with / and not end with one, got %q", t.Prefix)
		case t.FixedToken == "" && (t.App == "" || t.Attestor == nil):
			t.initErr = errors.New("client: App and Attestor are required (or FixedToken)")
		case t.Proof != "" && t.Proof != ProofSignature && t.Proof != ProofDPoP && t.Proof != ProofNone:
			t.initErr = fmt.Errorf("client: unknown proof %q", t.Proof)
		case t.SignatureLabel != "" && !validLabel(t.SignatureLabel):
			t.initErr = fmt.Errorf("client: signature label %q is not a structured field key", t.SignatureLabel)
		case !validTag(t.SignatureTag):
			t.initErr = errors.New("client: the signature tag must be printable ASCII")
		}
		if t.initErr != nil {
			return
		}
		t.key, t.initErr = newSigningKey(t.Key)
		t.sem = make(chan struct{}, 1)
	})
	return t.initErr
}

// Thumbprint returns the RFC 7638 thumbprint of the request-signing key,
// which tokens bound to it name in cnf.jkt.
func (t *Transport) Thumbprint() (string, error) {
	if err := t.init(); err != nil {
		return "", err
	}
	return t.key.jkt, nil
}

// Token returns a current attestation token, attesting when there is
// none or it is due for refresh. It binds the token to no Authorization
// header: with BindAuthorization, RoundTrip obtains the tokens bound to
// each request's header.
func (t *Transport) Token(ctx context.Context) (*Token, error) {
	if err := t.init(); err != nil {
		return nil, err
	}
	return t.token(ctx, "", nil)
}

// RoundTrip sends r. To the gateway's origin it sends r with the
// attestation token and a proof; it reads r's body into memory first, to
// compute its digest and to send it again when the gateway asks for a
// fresh token (attestation.expired, attestation.token_revoked) or a DPoP
// nonce (dpop.use_nonce), which it does once each. Refusals of the
// attestation itself are *Error values.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := t.init(); err != nil {
		// Never send a request of an app configured to attest without
		// its token.
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, err
	}
	if !t.toGateway(r) {
		return t.base().RoundTrip(r)
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	authz := ""
	if t.BindAuthorization {
		authz = r.Header.Get("Authorization")
	}
	tok, err := t.token(ctx, authz, nil)
	if err != nil {
		return nil, err
	}
	retriedToken, retriedNonce := false, false
	for {
		t.mu.Lock()
		nonce := t.nonce
		t.mu.Unlock()
		resp, err := t.send(r, body, tok, nonce)
		if err != nil {
			return nil, err
		}
		if n := resp.Header.Get("Dpop-Nonce"); n != "" && t.proof() == ProofDPoP {
			t.mu.Lock()
			t.nonce = n
			t.mu.Unlock()
		}
		if resp.StatusCode != http.StatusUnauthorized {
			return resp, nil
		}
		reason, resp, err := peekReason(resp)
		if err != nil {
			return nil, err
		}
		switch {
		case (reason == "attestation.expired" || reason == "attestation.token_revoked") && !retriedToken && t.FixedToken == "":
			retriedToken = true
			resp.Body.Close()
			if tok, err = t.token(ctx, authz, tok); err != nil {
				return nil, err
			}
		case reason == "dpop.use_nonce" && !retriedNonce && t.proof() == ProofDPoP && resp.Header.Get("Dpop-Nonce") != "":
			retriedNonce = true
			resp.Body.Close()
		default:
			return resp, nil
		}
	}
}

// send sends a copy of r with the token and the proof.
func (t *Transport) send(r *http.Request, body []byte, tok *Token, nonce string) (*http.Response, error) {
	out := r.Clone(r.Context())
	out.Body, out.GetBody, out.ContentLength = http.NoBody, nil, 0
	if len(body) > 0 {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		out.ContentLength = int64(len(body))
	}
	for _, h := range []string{"Signature", "Signature-Input", "Dpop"} {
		out.Header.Del(h)
	}
	out.Header.Set(t.header(), tok.Value)
	now := t.now()
	switch t.proof() {
	case ProofSignature:
		if err := t.signRequest(out, body, now); err != nil {
			return nil, err
		}
	case ProofDPoP:
		p, err := t.dpopProof(out, nonce, now)
		if err != nil {
			return nil, err
		}
		out.Header.Set("DPoP", p)
	}
	return t.base().RoundTrip(out)
}

// token returns the cached token when it is fresh and bound to authz, or
// attests. stale is a token the gateway refused: it is never returned,
// though a token another request obtained since is.
func (t *Transport) token(ctx context.Context, authz string, stale *Token) (*Token, error) {
	if t.FixedToken != "" {
		return &Token{Value: t.FixedToken}, nil
	}
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-t.sem }()

	t.mu.Lock()
	cur, assert := t.tok, t.assert
	t.mu.Unlock()
	now := t.now()
	usable := cur != nil && cur != stale && t.boundTo(cur, authz)
	if usable && now.Before(cur.refreshAt) {
		return cur, nil
	}
	_, asserter := t.Attestor.(Asserter)
	byAssertion := asserter && assert
	tok, err := t.attest(ctx, authz, byAssertion)
	var refused *Error
	if err != nil && byAssertion && errors.As(err, &refused) {
		// The assertion was refused (an unknown key, a counter the gateway
		// saw): attest anew.
		tok, err = t.attest(ctx, authz, false)
	}
	if err != nil {
		if usable && now.Before(cur.Expiry) {
			// A refresh that failed early is not a failure yet: the token
			// still works, and the next request tries again.
			return cur, nil
		}
		return nil, err
	}
	t.mu.Lock()
	t.tok, t.assert = tok, true
	t.mu.Unlock()
	return tok, nil
}

// boundTo reports whether tok may be sent with the Authorization value
// authz: always, unless tokens are bound to Authorization; then a request
// without one takes an unbound token, and a request with one a token
// bound to it.
func (t *Transport) boundTo(tok *Token, authz string) bool {
	switch {
	case !t.BindAuthorization:
		return true
	case authz == "":
		return !tok.bound
	}
	h := sha256.Sum256([]byte(authz))
	return tok.bound && subtle.ConstantTimeCompare(h[:], tok.authHash[:]) == 1
}

// toGateway reports whether r goes to the gateway's origin.
func (t *Transport) toGateway(r *http.Request) bool {
	if r.URL == nil {
		return false
	}
	return strings.EqualFold(r.URL.Scheme, t.gateway.scheme) && normalizeAuthority(t.gateway.scheme, r.URL.Host) == t.gateway.authority
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

func (t *Transport) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Transport) header() string {
	if t.Header != "" {
		return t.Header
	}
	return DefaultHeader
}

func (t *Transport) proof() Proof {
	if t.Proof == "" {
		return ProofSignature
	}
	return t.Proof
}

// readBody reads and closes r's body.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("client: reading the request body: %w", err)
	}
	return b, nil
}

// peekReason reads the start of a refusal, its problem reason, and
// returns the response with its body whole again.
func peekReason(resp *http.Response) (string, *http.Response, error) {
	orig := resp.Body
	b, err := io.ReadAll(io.LimitReader(orig, maxAnswer+1))
	if err != nil {
		orig.Close()
		return "", nil, fmt.Errorf("client: reading the answer: %w", err)
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), orig), orig}
	if len(b) > maxAnswer {
		return "", resp, nil
	}
	return problemReason(resp.Header, b), resp, nil
}
