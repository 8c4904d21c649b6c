package gateway

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
)

// maxAttestBody bounds an exchange request: a certificate chain and an
// attestation object fit easily.
const maxAttestBody = 64 << 10

// attestRequest is the JSON body of every exchange (docs/protocol.md §3);
// each endpoint reads the fields it needs.
type attestRequest struct {
	App              string          `json:"app"`
	ClientData       string          `json:"client_data"`
	SigningKey       json.RawMessage `json:"signing_key"`
	AppVersion       string          `json:"app_version"`
	BindAuthz        bool            `json:"bind_authorization"`
	KeyID            string          `json:"key_id"`
	Attestation      string          `json:"attestation"`
	Assertion        string          `json:"assertion"`
	CertificateChain []string        `json:"certificate_chain"`
	IntegrityToken   string          `json:"integrity_token"`
	Signature        string          `json:"signature"`
}

// serveAttestation answers the attestation endpoints. It reports false
// when path is not one of them.
func (g *Gateway) serveAttestation(w http.ResponseWriter, s *Scope, c *compiled, path string) bool {
	ep := c.attest
	rel, ok := strings.CutPrefix(path, ep.prefix)
	if !ok {
		return false
	}
	r := s.Request
	s.RouteName = attestRoute
	var method string
	switch rel {
	case "/.well-known/jwks.json":
		method = http.MethodGet
	case "/v1/attest/challenge", "/v1/attest/apple", "/v1/attest/apple-assertion",
		"/v1/attest/android", "/v1/attest/play", "/v1/attest/dev":
		method = http.MethodPost
	default:
		return false
	}
	m := ep.metrics
	if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
		w.Header().Set("Allow", method)
		g.denyWith(w, s, c, m, "route", Deny("route.method_not_allowed"))
		return true
	}
	for _, st := range ep.steps {
		s.layer = st.layer
		if err := st.policy.Decide(s); err != nil {
			if rep, ok := err.(*Reply); ok {
				g.replyWith(w, s, c, m, st.layer, rep)
				return true
			}
			g.denyWith(w, s, c, m, st.layer, asDenial(err))
			return true
		}
	}
	s.layer = "attestation"
	if rel == "/.well-known/jwks.json" {
		h := w.Header()
		h.Set("Content-Type", "application/jwk-set+json")
		h.Set("Cache-Control", "public, max-age=300")
		g.writeReply(w, s, c, m, ep.svc.Issuer().JWKS())
		return true
	}
	var req attestRequest
	if d := decodeAttestRequest(r, &req); d != nil {
		g.denyWith(w, s, c, m, "attestation", d)
		return true
	}
	ctx := r.Context()
	if rel == "/v1/attest/challenge" {
		ch, err := ep.svc.NewChallenge(ctx, req.App)
		if err != nil {
			g.denyWith(w, s, c, m, "attestation", asDenial(err))
			return true
		}
		body, _ := json.Marshal(map[string]any{"challenge": ch.Challenge, "expires_in": int(ch.ExpiresIn.Seconds())})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		g.writeReply(w, s, c, m, body)
		return true
	}
	cd, err := decodeB64URL(req.ClientData)
	if err != nil {
		g.denyWith(w, s, c, m, "attestation", &Denial{Reason: service.ReasonBadRequest, Cause: errors.New("client_data must be base64url")})
		return true
	}
	base := service.Request{App: req.App, ClientData: cd, SigningKey: req.SigningKey, AppVersion: req.AppVersion}
	if req.BindAuthz {
		base.Authorization = r.Header.Get("Authorization")
		if base.Authorization == "" {
			g.denyWith(w, s, c, m, "attestation", &Denial{Reason: service.ReasonBadRequest, Cause: errors.New("bind_authorization without an Authorization header")})
			return true
		}
	}
	var issued *service.Issued
	switch rel {
	case "/v1/attest/apple":
		issued, err = ep.svc.ExchangeApple(ctx, &service.AppleRequest{Request: base, KeyID: req.KeyID, Attestation: req.Attestation})
	case "/v1/attest/apple-assertion":
		issued, err = ep.svc.ExchangeAppleAssertion(ctx, &service.AppleAssertionRequest{Request: base, KeyID: req.KeyID, Assertion: req.Assertion})
	case "/v1/attest/android":
		issued, err = ep.svc.ExchangeAndroid(ctx, &service.AndroidRequest{Request: base, CertificateChain: req.CertificateChain})
	case "/v1/attest/play":
		issued, err = ep.svc.ExchangePlay(ctx, &service.PlayRequest{Request: base, IntegrityToken: req.IntegrityToken})
	case "/v1/attest/dev":
		issued, err = ep.svc.ExchangeDev(ctx, &service.DevRequest{Request: base, CertificateChain: req.CertificateChain, Signature: req.Signature})
	default:
		err = errors.New("attestation: no exchange for " + rel)
	}
	if err != nil {
		g.denyWith(w, s, c, m, "attestation", asDenial(err))
		return true
	}
	s.Install = &Install{App: req.App, ID: issued.InstallID, Platform: issued.Facts.Platform, Environment: issued.Facts.Environment}
	body, _ := json.Marshal(map[string]any{"token": issued.Token, "expires_in": int(issued.ExpiresIn.Seconds()), "install_id": issued.InstallID})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	g.writeReply(w, s, c, m, body)
	return true
}

// decodeAttestRequest reads a JSON body strictly: a size cap before
// parsing, JSON only, no unknown fields.
func decodeAttestRequest(r *http.Request, req *attestRequest) *Denial {
	bad := func(msg string) *Denial {
		return &Denial{Reason: service.ReasonBadRequest, Cause: errors.New(msg)}
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return bad("content type must be application/json")
	}
	if r.ContentLength > maxAttestBody {
		return &Denial{Reason: "request.body_too_large"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAttestBody+1))
	if err != nil {
		return &Denial{Reason: "request.body_incomplete", Cause: err}
	}
	if len(body) > maxAttestBody {
		return &Denial{Reason: "request.body_too_large"}
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		return bad("malformed JSON body: " + err.Error())
	}
	if dec.More() {
		return bad("trailing data after the JSON body")
	}
	if req.App == "" {
		return bad("app is required")
	}
	return nil
}

// writeReply answers a request the gateway serves itself.
func (g *Gateway) writeReply(w http.ResponseWriter, s *Scope, c *compiled, m *routeMetrics, body []byte) {
	h := w.Header()
	for k, vs := range s.responseHeader {
		h[k] = vs
	}
	h.Set("X-Request-Id", s.RequestID)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if s.Request.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	g.finish(s, c, m, "reply")
}

func decodeB64URL(s string) ([]byte, error) { return base64.RawURLEncoding.Strict().DecodeString(s) }
