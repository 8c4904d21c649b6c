package gateway

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// External attestation services (attestation.external) whose tokens the
// attestation policy accepts beside its own, for apps that already use
// one. Each is verified only with its own keys and its own rules; the
// policy picks which one by what the token says of itself (its iss and
// alg, read unverified), which decides nothing but whose keys are tried.
//
//   - Firebase App Check: RS256 tokens signed with Google's keys
//     (https://firebaseappcheck.googleapis.com/v1/jwks), iss
//     https://firebaseappcheck.googleapis.com/<project number>, aud naming
//     projects/<project number>, sub the Firebase app id, which the
//     config maps to one of its apps. App Check tokens name no install.
//   - Approov: HS256 tokens signed with the account secret, with exp; the
//     config names the one app they vouch for (apps: {"*": app}). A pay
//     claim binds the token to the request's Authorization header: it is
//     base64 of SHA-256 of the header's value (Approov's token binding).
//     The did claim, when present, names the device.

// Firebase App Check's defaults.
const (
	firebaseJWKSURL      = "https://firebaseappcheck.googleapis.com/v1/jwks"
	firebaseIssuerPrefix = "https://firebaseappcheck.googleapis.com/"
)

// externalVerifier verifies one external service's tokens.
type externalVerifier struct {
	name     string
	platform string // firebase or approov: Install.Platform
	alg      string // the one algorithm its tokens use
	issuer   string // the exact iss (Firebase); empty for Approov
	apps     map[string]string
	bind     bool
	verifier *token.Verifier
}

// claimsView is what the policy judges, whoever issued the token.
type claimsView struct {
	app, install, version string
	hasVersion            bool
	issuedAt              time.Time
	platform, environment string
	boundKey              string
	boundJWK              map[string]any // cnf.jwk, when the token carries it
	uth                   string         // this gateway's binding claim
	external              bool           // from attestation.external
}

// buildExternal compiles the attestation.external entry name for a
// policy with the given leeway.
func buildExternal(name string, e config.ExternalAttestation, leeway time.Duration, b *buildEnv) (*externalVerifier, []config.Problem) {
	at := "attestation.external." + name
	x := &externalVerifier{name: name, apps: e.Apps, bind: e.BindAuthorization}
	ic := token.IssuerConfig{Leeway: leeway}
	switch e.Type {
	case "firebase_app_check":
		url := e.JWKSURL
		if url == "" {
			url = firebaseJWKSURL
		}
		key := sourceKey{url: url, min: config.DefaultKeyRefreshMin, max: config.DefaultKeyRefreshMax, unknownKIDWait: config.DefaultUnknownKIDInterval}
		src, err := b.st.g.keySources.get(key, b.st.g.log)
		if err != nil {
			return nil, []config.Problem{{Field: at + ".jwks_url", Msg: err.Error()}}
		}
		b.st.used[key] = true
		x.platform, x.alg = "firebase", "RS256"
		x.issuer = firebaseIssuerPrefix + e.ProjectNumber
		ic.Issuer, ic.Keys, ic.Algorithms = x.issuer, []token.KeySource{src}, []string{"RS256"}
		ic.Audiences = []string{"projects/" + e.ProjectNumber}
		ic.RequiredClaims = []string{"sub"}
	case "approov":
		secret, err := base64.StdEncoding.DecodeString(e.Secret)
		var k *token.Key
		if err == nil {
			k, err = token.NewKey(secret, "", "HS256")
		}
		if err != nil {
			// The error never quotes the secret.
			return nil, []config.Problem{{Field: at + ".secret", Msg: "want the Approov account secret, standard base64"}}
		}
		x.platform, x.alg = "approov", "HS256"
		// Approov tokens carry no fixed iss: the verifier's sole issuer
		// accepts any, and only the account secret verifies.
		ic.Keys, ic.Algorithms = []token.KeySource{token.NewKeySet(k)}, []string{"HS256"}
	default:
		return nil, []config.Problem{{Field: at + ".type", Msg: fmt.Sprintf("unknown type %q", e.Type)}}
	}
	v, err := token.NewVerifier(token.Config{
		Issuers: []token.IssuerConfig{ic},
		Now:     b.now,
		Cache:   token.NewCache(config.DefaultTokenCacheSize, 0),
	})
	if err != nil {
		return nil, []config.Problem{{Field: at, Msg: err.Error()}}
	}
	x.verifier = v
	return x, nil
}

// matches reports whether a token that says it is signed with alg by iss
// is this service's to verify.
func (x *externalVerifier) matches(alg, iss string) bool {
	if alg != x.alg {
		return false
	}
	return x.issuer == "" || iss == x.issuer
}

// verify checks a token and the binding rules of the service; bind says
// the route requires the token bound to its Authorization header.
func (x *externalVerifier) verify(ctx context.Context, raw, authorization string, bind bool) (*claimsView, *Denial) {
	tok, err := x.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, tokenDenial(err)
	}
	cl := tok.Claims
	v := &claimsView{platform: x.platform, environment: "production", issuedAt: cl.IssuedAt, external: true}
	v.version, v.hasVersion = cl.String("ver")
	switch x.platform {
	case "firebase":
		app, ok := x.apps[cl.Subject]
		if !ok {
			return nil, &Denial{Reason: "attestation.wrong_app", Cause: fmt.Errorf("%s: Firebase app %q is not mapped to an app", x.name, cl.Subject)}
		}
		v.app = app
		if bind {
			// App Check tokens cannot be bound to a session.
			return nil, &Denial{Reason: "attestation.binding_mismatch", Cause: fmt.Errorf("%s: Firebase App Check tokens carry no binding", x.name)}
		}
	case "approov":
		v.app = x.apps["*"]
		v.install, _ = cl.String("did")
		pay, hasPay := cl.String("pay")
		if hasPay || bind || x.bind {
			sum := sha256.Sum256([]byte(authorization))
			want := base64.StdEncoding.EncodeToString(sum[:])
			if !hasPay || authorization == "" || subtle.ConstantTimeCompare([]byte(pay), []byte(want)) != 1 {
				return nil, &Denial{Reason: "attestation.binding_mismatch", Cause: fmt.Errorf("%s: the pay claim does not match the Authorization header", x.name)}
			}
		}
	}
	return v, nil
}

// tokenDenial maps the token core's refusal of an attestation token.
func tokenDenial(err error) *Denial {
	switch token.ReasonOf(err) {
	case token.ReasonExpired:
		return &Denial{Reason: "attestation.expired", Header: attestChallenge, Cause: err}
	case token.ReasonKeysUnavailable:
		return &Denial{Reason: "attestation.unavailable", Cause: err}
	}
	return &Denial{Reason: "attestation.invalid", Header: attestChallenge, Cause: err}
}

// inspectRouting reads a token's alg and iss without verifying anything,
// to pick whose keys verify it.
func inspectRouting(raw string) (alg, iss string, err error) {
	in, err := token.Inspect(raw, 0)
	if err != nil {
		return "", "", err
	}
	if in.Format != "JWS" {
		return "", "", errors.New("not a JWS")
	}
	alg, _ = in.Header["alg"].(string)
	iss, _ = in.Claims["iss"].(string)
	return alg, iss, nil
}
