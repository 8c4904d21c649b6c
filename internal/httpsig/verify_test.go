package httpsig_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
)

var (
	testNow  = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	testSeed = []byte("drawbridge httpsig test key seed")
	testEd   = ed25519.NewKeyFromSeed(testSeed)
	testHMAC = []byte("a shared secret of at least 32 bytes, for tests")
)

func testKeys() httpsig.StaticKeys {
	return httpsig.StaticKeys{
		"ed":   {Algorithm: httpsig.Ed25519, Public: testEd.Public()},
		"mac":  {Algorithm: httpsig.HMACSHA256, Secret: testHMAC},
		"v15":  {Algorithm: httpsig.RSAV15SHA256},
		"weak": {Algorithm: httpsig.HMACSHA256, Secret: []byte("short")},
	}
}

// typicalRequest is a JSON POST as a mobile app sends it.
func typicalRequest() *httpsig.Request {
	body := []byte(`{"item":"book","qty":2}`)
	digest, _ := httpsig.ContentDigest(httpsig.DigestSHA256, body)
	return &httpsig.Request{
		Method: "POST", Target: "/v1/orders?id=7&lang=en", Scheme: "https", Authority: "api.example.com",
		Fields: []httpsig.Field{
			{Name: "Host", Value: "api.example.com"},
			{Name: "Content-Type", Value: "application/json"},
			{Name: "Content-Length", Value: fmt.Sprint(len(body))},
			{Name: "Content-Digest", Value: digest},
			{Name: "Accept", Value: "application/json"},
			{Name: "Accept", Value: "*/*"},
			{Name: "X-Dict", Value: "a=1, b=2;x"},
			{Name: "Priority", Value: "u=1,   i"},
			{Name: "Authorization", Value: "Bearer abc"},
		},
		Body: body,
	}
}

// edSigner signs with the ed25519 test key.
func edSigner(components ...string) *httpsig.Signer {
	s := &httpsig.Signer{Key: httpsig.SigningKey{Algorithm: httpsig.Ed25519, Private: testEd}, KeyID: "ed", Now: at(testNow)}
	if components != nil {
		s.Components = components
	}
	return s
}

func mustSign(t testing.TB, s *httpsig.Signer, msg httpsig.Message, p *httpsig.Params) httpsig.Message {
	t.Helper()
	var signed httpsig.Signed
	var err error
	if p != nil {
		signed, err = s.SignParams(msg, *p)
	} else {
		signed, err = s.Sign(msg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return withSignature(msg, signed)
}

// memGuard is an in-memory ReplayGuard with expiry on an injected clock.
type memGuard struct {
	mu   sync.Mutex
	now  func() time.Time
	seen map[string]time.Time
	ttls []time.Duration
	err  error
}

func (g *memGuard) Claim(_ context.Context, key string, ttl time.Duration) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return false, g.err
	}
	if g.seen == nil {
		g.seen = map[string]time.Time{}
	}
	g.ttls = append(g.ttls, ttl)
	if exp, ok := g.seen[key]; ok && g.now().Before(exp) {
		return false, nil
	}
	g.seen[key] = g.now().Add(ttl)
	return true, nil
}

var _ httpsig.ReplayGuard = (*memGuard)(nil)

func TestVerifyDefaults(t *testing.T) {
	msg := mustSign(t, edSigner(), httpsig.Message{Request: typicalRequest()}, nil)
	ver := &httpsig.Verifier{Keys: testKeys(), Now: at(testNow.Add(time.Minute))}
	res, err := ver.Verify(t.Context(), msg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`"@method"`, `"@authority"`, `"@path"`, `"@query"`, `"content-digest"`}
	if !slices.Equal(res.Covered, want) || res.Digest != "sha-256" || res.Algorithm != httpsig.Ed25519 || res.Label != "sig1" {
		t.Fatalf("result %+v", res)
	}
}

// Changing any covered component breaks the signature.
func TestTamperedComponents(t *testing.T) {
	components := []string{"@method", "@target-uri", "@authority", "@scheme", "@request-target", "@path", "@query",
		`@query-param;name="id"`, "content-type", "content-digest", "accept", `x-dict;key="b"`, "priority;sf", "authorization;bs"}
	base := httpsig.Message{Request: typicalRequest()}
	signed := mustSign(t, edSigner(components...), base, nil)
	ver := &httpsig.Verifier{Keys: testKeys(), Now: at(testNow)}
	if _, err := ver.Verify(t.Context(), signed); err != nil {
		t.Fatalf("untouched: %v", err)
	}
	setField := func(name, value string) func(*httpsig.Request) {
		return func(r *httpsig.Request) {
			for i, f := range r.Fields {
				if strings.EqualFold(f.Name, name) {
					r.Fields[i].Value = value
					return
				}
			}
		}
	}
	tests := []struct {
		name   string
		change func(*httpsig.Request)
		reason string
	}{
		{"method", func(r *httpsig.Request) { r.Method = "PUT" }, httpsig.ReasonInvalid},
		{"method case", func(r *httpsig.Request) { r.Method = "post" }, httpsig.ReasonInvalid},
		{"path", func(r *httpsig.Request) { r.Target = "/v1/Orders?id=7&lang=en" }, httpsig.ReasonInvalid},
		{"encoded path", func(r *httpsig.Request) { r.Target = "/v1/%6frders?id=7&lang=en" }, httpsig.ReasonInvalid},
		{"query param", func(r *httpsig.Request) { r.Target = "/v1/orders?id=8&lang=en" }, httpsig.ReasonInvalid},
		{"query param repeated", func(r *httpsig.Request) { r.Target = "/v1/orders?id=7&lang=en&id=8" }, httpsig.ReasonInvalid},
		{"other query param", func(r *httpsig.Request) { r.Target = "/v1/orders?id=7&lang=fr" }, httpsig.ReasonInvalid},
		{"authority", func(r *httpsig.Request) { r.Authority = "api.example.net" }, httpsig.ReasonInvalid},
		{"scheme", func(r *httpsig.Request) { r.Scheme = "http" }, httpsig.ReasonInvalid},
		{"content-type", setField("Content-Type", "text/plain"), httpsig.ReasonInvalid},
		{"accept order", func(r *httpsig.Request) {
			r.Fields[4].Value, r.Fields[5].Value = r.Fields[5].Value, r.Fields[4].Value
		}, httpsig.ReasonInvalid},
		{"dictionary member", setField("X-Dict", "a=1, b=3;x"), httpsig.ReasonInvalid},
		{"structured field", setField("Priority", "u=2, i"), httpsig.ReasonInvalid},
		{"byte sequence field", setField("Authorization", "Bearer abd"), httpsig.ReasonInvalid},
		{"digest", setField("Content-Digest", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"), httpsig.ReasonInvalid},
		{"body", func(r *httpsig.Request) { r.Body = []byte(`{"item":"book","qty":9}`) }, httpsig.ReasonDigestMismatch},
		{"field removed", func(r *httpsig.Request) { r.Fields = slices.Delete(r.Fields, 1, 2) }, httpsig.ReasonComponentUnavailable},
		// Not covered: still valid.
		{"uncovered dictionary member", setField("X-Dict", "a=9, b=2;x"), ""},
		{"structured field whitespace", setField("Priority", "u=1, i"), ""},
		{"default port", func(r *httpsig.Request) { r.Authority = "API.example.com:443" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := *signed.Request
			r.Fields = slices.Clone(r.Fields)
			tt.change(&r)
			_, err := ver.Verify(t.Context(), httpsig.Message{Request: &r})
			if got := httpsig.ReasonOf(err); got != tt.reason {
				t.Fatalf("got %v, want reason %q", err, tt.reason)
			}
		})
	}
}

func TestReplayGuard(t *testing.T) {
	now := testNow
	guard := &memGuard{now: func() time.Time { return now }}
	ver := &httpsig.Verifier{Keys: testKeys(), Now: func() time.Time { return now }, ReplayGuard: guard}
	s := edSigner()
	s.Nonce = true
	msg := mustSign(t, s, httpsig.Message{Request: typicalRequest()}, nil)
	res, err := ver.Verify(t.Context(), msg)
	if err != nil || res.Nonce == "" {
		t.Fatalf("first use: %+v, %v", res, err)
	}
	if _, err := ver.Verify(t.Context(), msg); httpsig.ReasonOf(err) != httpsig.ReasonReplayedNonce {
		t.Fatalf("replay: %v, want %s", err, httpsig.ReasonReplayedNonce)
	}
	// The nonce is held as long as the signature could be accepted:
	// created + max age + skew.
	if want := httpsig.DefaultMaxAge + httpsig.DefaultSkew; guard.ttls[0] != want {
		t.Errorf("ttl %v, want %v", guard.ttls[0], want)
	}
	// Past that, the signature is too old before the guard is asked.
	now = now.Add(httpsig.DefaultMaxAge + httpsig.DefaultSkew + time.Second)
	if _, err := ver.Verify(t.Context(), msg); httpsig.ReasonOf(err) != httpsig.ReasonTooOld {
		t.Fatalf("late replay: %v, want %s", err, httpsig.ReasonTooOld)
	}
	// A signature without a nonce cannot pass a verifier with a guard.
	now = testNow
	if _, err := ver.Verify(t.Context(), mustSign(t, edSigner(), httpsig.Message{Request: typicalRequest()}, nil)); httpsig.ReasonOf(err) != httpsig.ReasonMissingNonce {
		t.Fatalf("no nonce: %v, want %s", err, httpsig.ReasonMissingNonce)
	}
	// A refused signature does not burn its nonce.
	s.Now = at(testNow.Add(time.Second))
	fresh := mustSign(t, s, httpsig.Message{Request: typicalRequest()}, nil)
	tampered := *fresh.Request
	tampered.Method = "DELETE"
	if _, err := ver.Verify(t.Context(), httpsig.Message{Request: &tampered}); httpsig.ReasonOf(err) != httpsig.ReasonInvalid {
		t.Fatalf("tampered: %v", err)
	}
	if _, err := ver.Verify(t.Context(), fresh); err != nil {
		t.Fatalf("after a refused copy: %v", err)
	}
}

// TestEveryReason produces each declared reason code, and fails if one is
// declared but never produced.
func TestEveryReason(t *testing.T) {
	req := func() httpsig.Message { return httpsig.Message{Request: typicalRequest()} }
	sign := func(s *httpsig.Signer, p *httpsig.Params) httpsig.Message { return mustSign(t, s, req(), p) }
	raw := func(input, sig string) httpsig.Message {
		m := req()
		m.Request.Fields = append(m.Request.Fields, httpsig.Field{Name: "Signature-Input", Value: input}, httpsig.Field{Name: "Signature", Value: sig})
		return m
	}
	const okSig = "sig1=:AAAA:"
	const created = ";created=1795780800;keyid=\"ed\""
	params := func(f func(*httpsig.Params)) *httpsig.Params {
		p := &httpsig.Params{Created: testNow, KeyID: "ed"}
		f(p)
		return p
	}
	def := httpsig.Verifier{Keys: testKeys(), Now: at(testNow)}
	with := func(f func(*httpsig.Verifier)) *httpsig.Verifier { v := def; f(&v); return &v }
	noRequired := with(func(v *httpsig.Verifier) { v.Required = []string{} })
	erroring := httpsig.KeyResolverFunc(func(context.Context, string) (httpsig.Key, error) {
		return httpsig.Key{}, errors.New("registry down")
	})
	nonce := edSigner()
	nonce.Nonce = true

	tests := []struct {
		name   string
		v      *httpsig.Verifier
		msg    httpsig.Message
		reason string
	}{
		{"no fields", &def, req(), httpsig.ReasonMissing},
		{"no signature", &def, func() httpsig.Message {
			m := raw(`sig1=("@method")`+created, "")
			m.Request.Fields = m.Request.Fields[:len(m.Request.Fields)-1]
			return m
		}(), httpsig.ReasonMissing},
		{"empty input", &def, raw("", okSig), httpsig.ReasonMissing},
		{"input too long", &def, raw(`sig1=("`+strings.Repeat("a", 9000)+`")`, okSig), httpsig.ReasonTooLarge},
		{"too many labels", &def, raw("a=(), b=(), c=(), d=(), e=(), f=(), g=(), h=(), i=()", okSig), httpsig.ReasonTooLarge},
		{"too many components", &def, raw("sig1=("+strings.Repeat(`"a" `, 33)+")", okSig), httpsig.ReasonTooLarge},
		{"input not a dictionary", &def, raw(`sig1=("@method"`, okSig), httpsig.ReasonMalformedInput},
		{"input member an item", &def, raw(`sig1="@method"`, okSig), httpsig.ReasonMalformedInput},
		{"component not a string", &def, raw(`sig1=(@method)`, okSig), httpsig.ReasonMalformedInput},
		{"uppercase component", &def, raw(`sig1=("@Method")`, okSig), httpsig.ReasonMalformedInput},
		{"covered twice", &def, raw(`sig1=("@method" "@method")`, okSig), httpsig.ReasonMalformedInput},
		{"unknown component parameter", &def, raw(`sig1=("accept";x)`, okSig), httpsig.ReasonMalformedInput},
		{"created not an integer", &def, raw(`sig1=("@method");created="now"`, okSig), httpsig.ReasonMalformedInput},
		{"signature not a dictionary", &def, raw(`sig1=("@method")`+created, "sig1=:AA"), httpsig.ReasonMalformedSignature},
		{"signature a string", &def, raw(`sig1=("@method")`+created, `sig1="AAAA"`), httpsig.ReasonMalformedSignature},
		{"label asked for", with(func(v *httpsig.Verifier) { v.Label = "other" }), sign(edSigner(), nil), httpsig.ReasonLabelNotFound},
		{"label without signature", &def, raw(`sig1=("@method")`+created, "sig2=:AAAA:"), httpsig.ReasonLabelNotFound},
		{"covers nothing", &def, sign(edSigner([]string{}...), nil), httpsig.ReasonCoversNothing},
		{"misses content-digest", &def, sign(edSigner("@method", "@authority", "@path"), nil), httpsig.ReasonMissingComponent},
		{"misses a required param", with(func(v *httpsig.Verifier) { v.Required = []string{`@query-param;name="id"`} }), sign(edSigner(`@query-param;name="lang"`), nil), httpsig.ReasonMissingComponent},
		{"tag", with(func(v *httpsig.Verifier) { v.Tag = "app" }), sign(edSigner(), params(func(p *httpsig.Params) { p.Tag = "web" })), httpsig.ReasonTagMismatch},
		{"no created", &def, sign(edSigner(), params(func(p *httpsig.Params) { p.Created = time.Time{} })), httpsig.ReasonMissingCreated},
		{"created in future", &def, sign(edSigner(), params(func(p *httpsig.Params) { p.Created = testNow.Add(time.Minute) })), httpsig.ReasonCreatedInFuture},
		{"expired", &def, sign(edSigner(), params(func(p *httpsig.Params) { p.Expires = testNow.Add(-time.Minute) })), httpsig.ReasonExpired},
		{"too old", &def, sign(edSigner(), params(func(p *httpsig.Params) { p.Created = testNow.Add(-time.Hour) })), httpsig.ReasonTooOld},
		{"nonce required", with(func(v *httpsig.Verifier) { v.RequireNonce = true }), sign(edSigner(), nil), httpsig.ReasonMissingNonce},
		{"unknown keyid", &def, sign(edSigner(), params(func(p *httpsig.Params) { p.KeyID = "nope" })), httpsig.ReasonUnknownKey},
		{"no keyid", &def, sign(edSigner(), params(func(p *httpsig.Params) { p.KeyID = "" })), httpsig.ReasonUnknownKey},
		{"unusable key", &def, sign(edSigner(), params(func(p *httpsig.Params) { p.KeyID = "weak" })), httpsig.ReasonUnknownKey},
		{"rsa-v1_5 not listed", &def, sign(edSigner(), params(func(p *httpsig.Params) { p.KeyID = "v15" })), httpsig.ReasonAlgNotAllowed},
		{"hmac not allowed", with(func(v *httpsig.Verifier) { v.Algorithms = []httpsig.Algorithm{httpsig.Ed25519} }), sign(edSigner(), params(func(p *httpsig.Params) { p.KeyID = "mac" })), httpsig.ReasonAlgNotAllowed},
		{"alg says hmac", &def, sign(&httpsig.Signer{Key: httpsig.SigningKey{Algorithm: httpsig.HMACSHA256, Secret: testHMAC}}, params(func(p *httpsig.Params) { p.Alg = httpsig.HMACSHA256 })), httpsig.ReasonAlgMismatch},
		{"absent component", noRequired, func() httpsig.Message {
			m := sign(edSigner("@method", "accept"), nil)
			m.Request.Fields = slices.DeleteFunc(m.Request.Fields, func(f httpsig.Field) bool { return f.Name == "Accept" })
			return m
		}(), httpsig.ReasonComponentUnavailable},
		{"@status of a request", noRequired, raw(`sig1=("@status")`+created, okSig), httpsig.ReasonComponentUnavailable},
		{"wrong key", &def, sign(&httpsig.Signer{Key: httpsig.SigningKey{Algorithm: httpsig.Ed25519, Private: ed25519.NewKeyFromSeed(make([]byte, 32))}}, params(func(*httpsig.Params) {})), httpsig.ReasonInvalid},
		{"hmac wrong secret", &def, sign(&httpsig.Signer{Key: httpsig.SigningKey{Algorithm: httpsig.HMACSHA256, Secret: []byte(strings.Repeat("x", 32))}}, params(func(p *httpsig.Params) { p.KeyID = "mac" })), httpsig.ReasonInvalid},
		{"body too large", with(func(v *httpsig.Verifier) { v.Limits.MaxBodyBytes = 4 }), sign(edSigner(), nil), httpsig.ReasonBodyTooLarge},
		{"malformed digest", &def, func() httpsig.Message {
			m := req()
			m.Request.Fields[3].Value = "sha-256=abc"
			return mustSign(t, edSigner(), m, nil)
		}(), httpsig.ReasonMalformedDigest},
		{"digest missing", noRequired, func() httpsig.Message {
			m := req()
			m.Request.Fields = slices.Delete(m.Request.Fields, 3, 4)
			return mustSign(t, edSigner("@method"), m, nil)
		}(), httpsig.ReasonDigestMissing},
		{"digest of unknown algorithm only", noRequired, func() httpsig.Message {
			m := req()
			m.Request.Fields[3].Value = "md5=:AAAAAAAAAAAAAAAAAAAAAA==:"
			return mustSign(t, edSigner("@method"), m, nil)
		}(), httpsig.ReasonDigestMissing},
		{"digest mismatch", &def, func() httpsig.Message {
			m := sign(edSigner(), nil)
			m.Request.Body = []byte(`{"item":"car","qty":2}`)
			return m
		}(), httpsig.ReasonDigestMismatch},
		{"replayed", with(func(v *httpsig.Verifier) { v.ReplayGuard = &memGuard{now: at(testNow), seen: map[string]time.Time{}} }), sign(nonce, params(func(p *httpsig.Params) { p.Nonce = "n1" })), ""},
		{"resolver down", with(func(v *httpsig.Verifier) { v.Keys = erroring }), sign(edSigner(), nil), httpsig.ReasonUnavailable},
		{"guard down", with(func(v *httpsig.Verifier) { v.ReplayGuard = &memGuard{now: at(testNow), err: errors.New("redis down")} }), sign(nonce, nil), httpsig.ReasonUnavailable},
	}
	produced := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.v.Verify(t.Context(), tt.msg)
			if tt.name == "replayed" {
				if err != nil {
					t.Fatalf("first use: %v", err)
				}
				_, err = tt.v.Verify(t.Context(), tt.msg)
				tt.reason = httpsig.ReasonReplayedNonce
			}
			got := httpsig.ReasonOf(err)
			if got != tt.reason {
				t.Fatalf("got %v, want reason %q", err, tt.reason)
			}
			produced[got] = true
			if err != nil && strings.Contains(err.Error(), string(testHMAC)) {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
	for _, r := range httpsig.Reasons {
		if !produced[r] {
			t.Errorf("reason %s is declared but never produced", r)
		}
		if !strings.HasPrefix(r, "signature.") {
			t.Errorf("reason %s is not signature.<reason>", r)
		}
	}
	if len(httpsig.Reasons) != len(slices.Compact(slices.Sorted(slices.Values(httpsig.Reasons)))) {
		t.Error("Reasons has duplicates")
	}
}

// Several signatures: Verify checks the first or the labelled one,
// VerifyAll every one.
func TestSeveralSignatures(t *testing.T) {
	msg := httpsig.Message{Request: typicalRequest()}
	msg = mustSign(t, edSigner(), msg, nil)
	mac := &httpsig.Signer{Key: httpsig.SigningKey{Algorithm: httpsig.HMACSHA256, Secret: testHMAC}, KeyID: "mac", Label: "proxy", Now: at(testNow),
		Components: []string{"@method", "@authority", "@path", "content-digest", "signature;key=\"sig1\""}}
	msg = mustSign(t, mac, msg, nil)
	ver := &httpsig.Verifier{Keys: testKeys(), Now: at(testNow)}
	if res, err := ver.Verify(t.Context(), msg); err != nil || res.Label != "sig1" {
		t.Fatalf("first: %+v, %v", res, err)
	}
	ver.Label = "proxy"
	if res, err := ver.Verify(t.Context(), msg); err != nil || res.KeyID != "mac" {
		t.Fatalf("labelled: %+v, %v", res, err)
	}
	rs, err := ver.VerifyAll(t.Context(), msg)
	if err != nil || len(rs) != 2 || rs[0].Label != "sig1" || rs[1].Label != "proxy" {
		t.Fatalf("all: %+v, %v", rs, err)
	}
	// The proxy's signature covers the client's: replacing it breaks both.
	other := mustSign(t, edSigner("@method", "@authority", "@path", "@query", "content-digest", "accept"), httpsig.Message{Request: typicalRequest()}, nil)
	r := *msg.Request
	r.Fields = slices.Clone(r.Fields)
	for i, f := range r.Fields {
		if f.Name == "Signature" && strings.HasPrefix(f.Value, "sig1=") {
			r.Fields[i].Value = fieldOf(other.Request.Fields, "Signature")
		}
		if f.Name == "Signature-Input" && strings.HasPrefix(f.Value, "sig1=") {
			r.Fields[i].Value = fieldOf(other.Request.Fields, "Signature-Input")
		}
	}
	ver.Label = ""
	if _, err := ver.Verify(t.Context(), httpsig.Message{Request: &r}); err != nil {
		t.Fatalf("the replaced client signature alone is valid: %v", err)
	}
	_, err = ver.VerifyAll(t.Context(), httpsig.Message{Request: &r})
	var e *httpsig.Error
	if !errors.As(err, &e) || e.Reason != httpsig.ReasonInvalid || e.Label != "proxy" {
		t.Fatalf("all after replacing: %v", err)
	}
}

func TestValidate(t *testing.T) {
	if err := (&httpsig.Verifier{Keys: testKeys(), Algorithms: []httpsig.Algorithm{httpsig.Ed25519, httpsig.RSAV15SHA256}, Required: []string{"@method", `@query-param;name="id"`}}).Validate(); err != nil {
		t.Fatal(err)
	}
	err := (&httpsig.Verifier{Algorithms: []httpsig.Algorithm{"hs2019"}, Required: []string{"@Method;x", "@nope"}}).Validate()
	for _, want := range []string{"no key resolver", `"hs2019"`, `"@Method;x"`, `"@nope"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want it to mention %s", err, want)
		}
	}
}
