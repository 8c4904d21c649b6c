package dpop_test

import (
	"context"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/dpop"
	"github.com/drawbridge-gw/drawbridge/internal/dpop/dpoptest"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// TestRFC9449Examples: every example proof verifies with the clock pinned
// at its iat and its request's method and URI, and is refused at a real
// clock; the refresh proof reuses the first proof's jti and is refused as
// a replay; the §10 dpop_jkt is not the proofs' key; the protected
// resource proof's ath is the access token's hash and no other's.
func TestRFC9449Examples(t *testing.T) {
	v := dpoptest.LoadVectors(t)
	jwk, err := token.ParseJWK(mustJSON(t, v.JWK))
	if err != nil {
		t.Fatal(err)
	}
	if jkt, _ := token.Thumbprint(jwk.Public()); jkt != v.JKT {
		t.Fatalf("thumbprint %s, the RFC prints %s", jkt, v.JKT)
	}
	var clock time.Time
	// The guard keeps real time: the refresh proof, 45 minutes later by
	// the proofs' clock, comes moments after the first.
	guard := memory.NewHot(memory.HotOptions{})
	defer guard.Close()
	ver := &dpop.Verifier{ReplayGuard: guard, Now: func() time.Time { return clock }}
	real := &dpop.Verifier{}
	verified := 0
	for i, ex := range v.Proofs {
		req := dpop.Request{Method: ex.Context.Method, URI: ex.Context.URI, Proofs: []string{ex.Proof}, BoundKeys: []string{v.JKT}}
		if _, ok := ex.Payload["ath"]; ok {
			req.AccessToken = v.AccessToken
		}
		clock = time.Unix(ex.Context.Clock, 0)
		t.Run(ex.ID, func(t *testing.T) {
			if _, err := real.Verify(context.Background(), req); dpop.ReasonOf(err) != dpop.ReasonTooOld {
				t.Errorf("at the real clock: %v, want %s", err, dpop.ReasonTooOld)
			}
			mismatch := req
			mismatch.BoundKeys = []string{v.DPoPJKT.JKT}
			if _, err := ver.Verify(context.Background(), mismatch); dpop.ReasonOf(err) != dpop.ReasonKeyMismatch {
				t.Errorf("bound to the §10 dpop_jkt: %v, want %s", err, dpop.ReasonKeyMismatch)
			}
			if req.AccessToken != "" {
				other := req
				other.AccessToken = v.AccessToken + "x"
				if _, err := ver.Verify(context.Background(), other); dpop.ReasonOf(err) != dpop.ReasonAthMismatch {
					t.Errorf("with another access token: %v, want %s", err, dpop.ReasonAthMismatch)
				}
			}
			p, err := ver.Verify(context.Background(), req)
			if i == 1 {
				// The refresh proof reuses jti -BwC3ESc6acc2lTc.
				if dpop.ReasonOf(err) != dpop.ReasonReplayed {
					t.Fatalf("the refresh proof after the first: %v, want %s", err, dpop.ReasonReplayed)
				}
				fresh := &dpop.Verifier{Now: ver.Now}
				if p, err = fresh.Verify(context.Background(), req); err != nil {
					t.Fatalf("the refresh proof on its own: %v", err)
				}
			} else if err != nil {
				t.Fatalf("at its iat: %v", err)
			}
			if p.JKT != v.JKT || p.Alg != "ES256" || p.IssuedAt.Unix() != ex.Context.Clock {
				t.Errorf("proof %+v", p)
			}
			verified++
			wrong := req
			wrong.Method = "PUT"
			if _, err := (&dpop.Verifier{Now: ver.Now}).Verify(context.Background(), wrong); dpop.ReasonOf(err) != dpop.ReasonMethodMismatch {
				t.Errorf("another method: %v", err)
			}
		})
	}
	if verified != 3 {
		t.Fatalf("%d of 3 RFC 9449 proofs verified", verified)
	}
}
