package playintegrity_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity"
)

// Native fuzz tests of the two paths attacker-controlled bytes take: the
// token string (JWE, then the JWS inside it), and the signed payload
// (minted with the app's keys, as if Google had signed anything: the
// payload parser and the verdict checks must still hold).

// checkResult fails on a result that breaks the package's promises:
// Valid exactly when no reason, Reason the first of Reasons, Reasons
// declared, distinct and in check order.
func checkResult(t *testing.T, r attest.Result) {
	t.Helper()
	if r.Valid != (len(r.Reasons) == 0) || r.Valid != (r.Reason == "") || !r.Valid && r.Reason != r.Reasons[0] {
		t.Fatalf("inconsistent result %+v", r)
	}
	last := -1
	for _, code := range r.Reasons {
		i := slices.Index(playintegrity.Reasons, code)
		if i <= last {
			t.Fatalf("reasons out of order or undeclared: %v", r.Reasons)
		}
		last = i
	}
	if r.Facts.Platform != playintegrity.Platform {
		t.Fatalf("platform %q", r.Facts.Platform)
	}
}

func FuzzVerifyToken(f *testing.F) {
	k := keys(f)
	payload := mustJSON(f, synthVerdict())
	valid := mint(f, k.app, payload)
	f.Add(valid)
	f.Add(mint(f, k.other, payload))
	f.Add(nested(f, payload, k.p384, "ES384", k.app.Decryption, "A256KW", "A256GCM"))
	f.Add(nested(f, payload, nil, "none", k.app.Decryption, "A256KW", "A256GCM"))
	for i := range 5 {
		f.Add(flip(valid, i))
	}
	f.Add(strings.Join(strings.Split(valid, ".")[:3], "."))
	f.Add("....")
	f.Add("")
	v, err := playintegrity.New(synthPolicy(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		r := v.Verify(tok, synthExpect(), synthNow)
		checkResult(t, r)
		if r.Valid && tok != valid {
			t.Fatalf("a token other than the minted one verified: %q", tok)
		}
	})
}

func FuzzVerifyPayload(f *testing.F) {
	k := keys(f)
	f.Add(mustJSON(f, synthVerdict()))
	for _, c := range reasonCases() {
		if c.token != nil || c.policy != nil || c.exp != nil {
			continue
		}
		v := synthVerdict()
		if c.verdict != nil {
			c.verdict(v)
		}
		b := mustJSON(f, v)
		if c.payload != nil {
			b = c.payload(b)
		}
		if len(b) < 4<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"requestDetails":{},"appIntegrity":{},"deviceIntegrity":{}}`))
	f.Add([]byte(`{"a":{"a":{"a":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}}}`))
	v, err := playintegrity.New(synthPolicy(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		if len(payload) > 8<<10 {
			return // the token cap refuses it before any parsing
		}
		tok, err := k.app.Mint(payload)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, v.Verify(tok, synthExpect(), synthNow))
	})
}
