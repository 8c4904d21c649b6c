package token_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/token"
	"github.com/drawbridge-gw/drawbridge/internal/token/tokentest"
)

// countingServer is a real key server that counts the requests it gets.
type countingServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newCountingServer(t testing.TB, body func() []byte, header http.Header) *countingServer {
	c := &countingServer{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		for k, vs := range header {
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body())
	}))
	t.Cleanup(c.Close)
	return c
}

// TestAttacks runs the attack catalogue through the core: each hostile
// token is refused with its own reason, the acceptable ones pass, every
// case id of jwt_attacks.json is covered, and no injected jku/x5u URL is
// ever fetched.
func TestAttacks(t *testing.T) {
	f := tokentest.New()
	injected := newCountingServer(t, f.PublicJWKS, nil)
	tokentest.SetInjectionURL(injected.URL + "/jwks.json")
	full, err := token.NewVerifier(f.Config(false))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := token.NewVerifier(f.Config(true))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]int{}
	attacks := f.Attacks()
	for _, a := range attacks {
		t.Run(a.ID+"/"+a.Name, func(t *testing.T) {
			v := full
			if a.Plain {
				v = plain
			}
			tok, err := v.Verify(context.Background(), a.Token)
			if a.Reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if tok.Claims.Subject != "user-42" {
					t.Fatalf("sub = %q", tok.Claims.Subject)
				}
			} else {
				wantReason(t, err, a.Reason)
				if len(err.Error()) > 200 {
					t.Errorf("error message is %d bytes long: it must not echo the token", len(err.Error()))
				}
			}
			covered[a.ID]++
		})
	}
	var cat struct {
		Cases []struct {
			ID string `json:"id"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(readVector(t, "standards", "attacks", "jwt_attacks.json"), &cat); err != nil {
		t.Fatal(err)
	}
	if len(cat.Cases) != 32 {
		t.Fatalf("the catalogue has %d cases, want 32", len(cat.Cases))
	}
	for _, c := range cat.Cases {
		if covered[c.ID] == 0 {
			t.Errorf("catalogue case %s is not covered", c.ID)
		}
	}
	if n := injected.hits.Load(); n != 0 {
		t.Errorf("the injected jku/x5u server was fetched %d times", n)
	}
	t.Logf("%d attack tokens over %d catalogue cases", len(attacks), len(cat.Cases))
}
