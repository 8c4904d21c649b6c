package gateway

import (
	"context"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// Scope is the per-request state every layer reads and annotates. One
// Scope lives in the request context for the life of a request.
type Scope struct {
	// Request is the client's request. Policies must not change it; they
	// annotate the Scope instead.
	Request *http.Request
	// RouteName is the name of the matched route.
	RouteName string
	// ClientIP is the client's address: the TCP peer, or, behind trusted
	// proxies, the right-most untrusted X-Forwarded-For entry.
	ClientIP netip.Addr
	// Path is the normalised, escaped path that is judged and forwarded.
	Path string
	// OriginalTarget is the request target exactly as the client sent it,
	// for layers that verify what the client signed.
	OriginalTarget string
	// Secure reports whether the client reached the gateway over TLS (or a
	// trusted proxy says it did).
	Secure bool
	// RequestID identifies the request in logs, upstream headers and
	// problem bodies.
	RequestID string
	// Start is when the gateway began handling the request.
	Start time.Time

	// User is the user's verified token, set by the jwt layer; nil when no
	// layer has authenticated a user. Later layers key rate limits on its
	// subject, bind DPoP proofs to it, and so on.
	User *token.Token
	// UserToken is the raw token User was verified from (for DPoP's ath).
	UserToken string
	// UserScheme is how the jwt layer received UserToken: "Bearer" or
	// "DPoP" (the Authorization scheme), or "cookie". The dpop layer
	// requires a proof's ath for a DPoP token.
	UserScheme string
	// Install is the attested app install, set by the attestation layer;
	// nil when no layer has checked what is calling.
	Install *Install
	// APIKeyID is the id of the API key the apikey layer accepted.
	APIKeyID string

	route          *route
	peerTrusted    bool
	upstreamHeader http.Header
	upstreamStrip  []string
	upstreamQuery  *string // replaces the forwarded query when set
	responseHeader http.Header
	layer          string
	reason         string
	cause          error
	upgrade        bool
	forwarding     bool
	body           bodyReader
	clientIPText   string
	// w is the client's response writer while the request is forwarded.
	w http.ResponseWriter
	// requestIDValue is the X-Request-Id value sent upstream, shared with
	// the response.
	requestIDValue []string
}

// SetUpstreamHeader sets a header the gateway vouches for on the forwarded
// request. It is applied after hop-by-hop fields are stripped, so a
// client's Connection header cannot remove it, and any copy the client sent
// is replaced.
func (s *Scope) SetUpstreamHeader(name, value string) {
	if s.upstreamHeader == nil {
		s.upstreamHeader = make(http.Header, 4)
	}
	s.upstreamHeader.Set(name, value)
}

// StripUpstreamHeader removes a header (canonical name) the client sent from the forwarded
// request, for headers a layer vouches for only when it can (a claim the
// token may lack): a client must never supply them itself. It is applied
// before the headers set with SetUpstreamHeader.
func (s *Scope) StripUpstreamHeader(name string) {
	s.upstreamStrip = append(s.upstreamStrip, name)
}

// SetUpstreamQuery replaces the query of the forwarded request (raw, as
// it goes on the request line), for a layer that removes what only the
// gateway may read (an API key in a query parameter).
func (s *Scope) SetUpstreamQuery(raw string) {
	s.upstreamQuery = &raw
}

// SetResponseHeader sets a header on the response to the client, whether
// the request is forwarded or denied.
func (s *Scope) SetResponseHeader(name, value string) {
	if s.responseHeader == nil {
		s.responseHeader = make(http.Header, 8)
	}
	s.responseHeader.Set(name, value)
}

// setResponseHeaderValues sets a response header to values prepared at
// config load (canonical name; a slice capped at its length, shared by
// all requests and never modified).
func (s *Scope) setResponseHeaderValues(name string, values []string) {
	if s.responseHeader == nil {
		s.responseHeader = make(http.Header, 8)
	}
	s.responseHeader[name] = values
}

// clientIP is the client address as text, computed once per request.
func (s *Scope) clientIP() string {
	if s.clientIPText == "" && s.ClientIP.IsValid() {
		s.clientIPText = s.ClientIP.String()
	}
	return s.clientIPText
}

// AddResponseHeader adds a value to a response header (Vary).
func (s *Scope) AddResponseHeader(name, value string) {
	if s.responseHeader == nil {
		s.responseHeader = make(http.Header, 8)
	}
	s.responseHeader.Add(name, value)
}

// Install is what an attestation token says about the calling app install.
type Install struct {
	// App is the app's id in the config.
	App string
	// ID identifies the install (the attested key's id).
	ID string
	// Version is the app version.
	Version string
	// Platform is apple, android, play or dev, or the name of an external
	// issuer (firebase, approov).
	Platform string
	// Environment is production or development.
	Environment string
	// BoundKey is the RFC 7638 thumbprint of the install's request-signing
	// key (cnf.jkt), which signature and DPoP layers require proofs from.
	BoundKey string

	// boundJWK is that key's public JWK (cnf.jwk), when the token carries
	// it: the signature layer verifies with it. Never modified.
	boundJWK map[string]any
}

type scopeKey struct{}

// ScopeFrom returns the Scope of a request handled by the gateway.
func ScopeFrom(ctx context.Context) *Scope {
	s, _ := ctx.Value(scopeKey{}).(*Scope)
	return s
}

var scopePool = sync.Pool{New: func() any { return new(Scope) }}

func getScope() *Scope { return scopePool.Get().(*Scope) }

func putScope(s *Scope) {
	uh, rh, us := s.upstreamHeader, s.responseHeader, s.upstreamStrip
	clear(uh)
	clear(rh)
	*s = Scope{upstreamHeader: uh, responseHeader: rh, upstreamStrip: us[:0]}
	scopePool.Put(s)
}

func withScope(ctx context.Context, s *Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, s)
}
