package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Attestor makes a platform's evidence that this is the genuine app on a
// sound device.
type Attestor interface {
	// Platform is the exchange endpoint's name: "apple", "android",
	// "play" or "dev" ({prefix}/v1/attest/{platform}).
	Platform() string
	// Attest returns the platform's evidence over clientDataHash, the
	// SHA-256 of the client data (32 bytes), which names the challenge
	// and the request-signing key (docs/protocol.md §2).
	Attest(ctx context.Context, clientDataHash []byte) (Evidence, error)
}

// Asserter is implemented by an Attestor that refreshes a token more
// cheaply than by attesting again, as App Attest does with assertions
// (generateAssertion over the client data hash, posted to
// {prefix}/v1/attest/apple-assertion). Once the Transport holds a token,
// it refreshes with Assert; when the gateway refuses the assertion, it
// attests again.
type Asserter interface {
	// Assert returns the endpoint's platform ("apple-assertion") and the
	// evidence over clientDataHash.
	Assert(ctx context.Context, clientDataHash []byte) (platform string, ev Evidence, err error)
}

// Evidence holds the platform's members of an exchange request
// (docs/protocol.md §3); the Transport adds app, client_data,
// signing_key, app_version and bind_authorization. Empty members are not
// sent.
type Evidence struct {
	// KeyID is the App Attest key id, standard base64 (apple,
	// apple-assertion).
	KeyID string `json:"key_id,omitempty"`
	// Attestation is the App Attest attestation object, standard base64
	// (apple).
	Attestation string `json:"attestation,omitempty"`
	// Assertion is an App Attest assertion, standard base64
	// (apple-assertion).
	Assertion string `json:"assertion,omitempty"`
	// CertificateChain is a certificate chain, leaf first, each DER in
	// standard base64 (android, dev).
	CertificateChain []string `json:"certificate_chain,omitempty"`
	// IntegrityToken is the Play Integrity token (play).
	IntegrityToken string `json:"integrity_token,omitempty"`
	// Signature is the development device key's signature, ASN.1 DER,
	// base64url (dev).
	Signature string `json:"signature,omitempty"`
}

// Token is an attestation token and what the exchange said of it.
type Token struct {
	// Value is the token (a compact JWS), sent in Attestation-Token.
	Value string
	// InstallID is the install the gateway registered (the token's sub):
	// what an operator revokes.
	InstallID string
	// Expiry is when the token expires, by this client's clock: the time
	// the exchange was sent plus the lifetime the gateway gave.
	Expiry time.Time

	refreshAt time.Time // 80% of the lifetime
	authHash  [32]byte  // SHA-256 of the Authorization value it is bound to
	bound     bool      // bound to an Authorization value (the uth claim)
}

// maxAnswer bounds what is read of an answer of the attestation endpoints
// and of a refusal the Transport inspects.
const maxAnswer = 64 << 10

// exchangeRequest is the JSON body of an exchange.
type exchangeRequest struct {
	App               string `json:"app"`
	ClientData        string `json:"client_data"`
	SigningKey        jwk    `json:"signing_key"`
	AppVersion        string `json:"app_version,omitempty"`
	BindAuthorization bool   `json:"bind_authorization,omitempty"`
	Evidence
}

// attest runs the protocol once: challenge, client data, evidence,
// exchange. assert picks the Asserter's refresh when there is one.
func (t *Transport) attest(ctx context.Context, authz string, assert bool) (*Token, error) {
	var ch struct {
		Challenge string `json:"challenge"`
	}
	if err := t.post(ctx, "challenge", map[string]string{"app": t.App}, "", &ch); err != nil {
		return nil, err
	}
	// The challenge goes into the client data verbatim: only 32 bytes of
	// base64url keep its one exact shape.
	if b, err := b64url.Strict().DecodeString(ch.Challenge); err != nil || len(b) != 32 {
		return nil, errors.New("client: the gateway's challenge is not 32 bytes of base64url")
	}
	cd := ClientData(ch.Challenge, t.key.jkt)
	hash := sha256.Sum256(cd)

	platform := ""
	var ev Evidence
	var err error
	if a, ok := t.Attestor.(Asserter); ok && assert {
		platform, ev, err = a.Assert(ctx, hash[:])
	} else {
		platform = t.Attestor.Platform()
		ev, err = t.Attestor.Attest(ctx, hash[:])
	}
	if err != nil {
		return nil, fmt.Errorf("client: attesting: %w", err)
	}
	bind := t.BindAuthorization && authz != ""
	req := exchangeRequest{
		App: t.App, ClientData: b64url.EncodeToString(cd), SigningKey: t.key.jwk,
		AppVersion: t.AppVersion, BindAuthorization: bind, Evidence: ev,
	}
	var out struct {
		Token     string `json:"token"`
		ExpiresIn int64  `json:"expires_in"`
		InstallID string `json:"install_id"`
	}
	sent := t.now()
	if err := t.post(ctx, platform, req, authz, &out); err != nil {
		return nil, err
	}
	if out.Token == "" || out.ExpiresIn <= 0 {
		return nil, errors.New("client: the exchange answered no token")
	}
	life := time.Duration(out.ExpiresIn) * time.Second
	tok := &Token{
		Value: out.Token, InstallID: out.InstallID, Expiry: sent.Add(life),
		refreshAt: sent.Add(life * 8 / 10), authHash: sha256.Sum256([]byte(authz)), bound: bind,
	}
	return tok, nil
}

// ClientData returns the client data for a challenge and the thumbprint
// of the request-signing key: exactly {"challenge":"…","jkt":"…"}, the
// bytes every platform attests over (their SHA-256).
func ClientData(challenge, jkt string) []byte {
	return []byte(`{"challenge":"` + challenge + `","jkt":"` + jkt + `"}`)
}

// post sends one request to an attestation endpoint
// ({prefix}/v1/attest/{endpoint}) and decodes its answer into out.
func (t *Transport) post(ctx context.Context, endpoint string, body any, authz string, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.gateway.base+t.Prefix+"/v1/attest/"+endpoint, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if t.UserAgent != "" {
		req.Header.Set("User-Agent", t.UserAgent)
	}
	resp, err := t.base().RoundTrip(req)
	if err != nil {
		return fmt.Errorf("client: %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return fmt.Errorf("client: %s: reading the answer: %w", endpoint, err)
	}
	if len(answer) > maxAnswer {
		return fmt.Errorf("client: %s: the answer is larger than %d bytes", endpoint, maxAnswer)
	}
	if resp.StatusCode != http.StatusOK {
		return refusal(endpoint, resp, answer)
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("client: %s: the answer is not the expected JSON", endpoint)
	}
	return nil
}
