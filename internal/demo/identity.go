package demo

import (
	"encoding/base64"
	"strconv"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// The demo's identity issuer: the shop's sign-in service, as far as the
// gateway is concerned.
const (
	Issuer   = "https://id.shop.example"
	Audience = "https://api.shop.example"
)

// Tokens are the access tokens the demo mints at start for the tour.
type Tokens struct {
	// Alice is a valid token for user alice, for 12 hours.
	Alice string
	// Expired is alice's token that expired an hour ago.
	Expired string
	// Forged claims to be the issuer's (its kid) but is signed by a key
	// the issuer never published.
	Forged string
	// None is an unsigned token ("alg": "none") claiming to be admin.
	None string
}

// NewIdentity makes the issuer's EdDSA key, whose private half lives only
// in memory, and returns its public JWK Set and the tour's tokens.
func NewIdentity(now time.Time) (jwks []byte, t Tokens, err error) {
	key, err := token.GenerateKey("EdDSA")
	if err != nil {
		return nil, t, err
	}
	if jwks, err = token.PublicJWKS(key); err != nil {
		return nil, t, err
	}
	signer, err := token.NewSigner(key, "EdDSA")
	if err != nil {
		return nil, t, err
	}
	claims := func(sub string, iat, exp time.Time) map[string]any {
		return map[string]any{
			"iss": Issuer, "aud": Audience, "sub": sub, "scope": "orders:read orders:write",
			"iat": iat.Unix(), "exp": exp.Unix(),
		}
	}
	if t.Alice, err = signer.Sign(claims("alice", now, now.Add(12*time.Hour)), "at+jwt"); err != nil {
		return nil, t, err
	}
	if t.Expired, err = signer.Sign(claims("alice", now.Add(-2*time.Hour), now.Add(-time.Hour)), "at+jwt"); err != nil {
		return nil, t, err
	}
	// A key of the attacker's, wearing the issuer's kid.
	other, err := token.GenerateKey("EdDSA")
	if err != nil {
		return nil, t, err
	}
	impostor, err := token.NewKey(other.Private(), key.KID(), "EdDSA")
	if err != nil {
		return nil, t, err
	}
	forger, err := token.NewSigner(impostor, "EdDSA")
	if err != nil {
		return nil, t, err
	}
	if t.Forged, err = forger.Sign(claims("admin", now, now.Add(12*time.Hour)), "at+jwt"); err != nil {
		return nil, t, err
	}
	enc := base64.RawURLEncoding.EncodeToString
	t.None = enc([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + enc([]byte(`{"iss":"`+Issuer+`","aud":"`+Audience+`","sub":"admin","scope":"orders:read orders:write","exp":`+strconv.FormatInt(now.Add(12*time.Hour).Unix(), 10)+`}`)) + "."
	return jwks, t, nil
}
