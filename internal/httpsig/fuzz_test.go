package httpsig_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dunglas/httpsfv"

	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
)

// Native fuzz tests for every parser of attacker-controlled bytes:
// Signature-Input, Signature, Content-Digest, component identifiers, and
// the RFC 8941 dictionary, list, inner list and parameter parsing under
// them. Run each with, e.g., go test -fuzz='^FuzzSignatureInput$'.

var inputSeeds = []string{
	`sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"`,
	`sig-b22=("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;keyid="test-key-rsa-pss";tag="header-example"`,
	`sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"`,
	`sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`,
	`sig1=("@target-uri" "@scheme" "@request-target" "x-dict";key="a" "x-dict";sf "accept";bs "@status" "@method";req), sig2=("@query")`,
	`sig1=("@query-param";name="fa%C3%A7ade%22%3A%20" "@query-param";name="var");alg="ed25519";expires=1618884773`,
	`sig1=( "@method"  "@path" );created=-1`,
	`sig1=("a";tr "b";sf;bs);created=1.5;keyid=?1`,
	"sig1=(\"@method\"\n)",
}

// fuzzMessage has something for most components.
func fuzzMessage() httpsig.Message {
	req := &httpsig.Request{
		Method: "POST", Target: "/foo?param=Value&Pet=dog&var&fa%C3%A7ade%22%3A%20=x&a+b=%zz", Scheme: "https", Authority: "Example.com:443",
		Fields: []httpsig.Field{
			{Name: "Host", Value: "example.com"},
			{Name: "Date", Value: "Tue, 20 Apr 2021 02:07:55 GMT"},
			{Name: "X-Dict", Value: " a=1,  b=2;x=?1;y=\"z\", c=(a b);p"},
			{Name: "Accept", Value: "application/json"},
			{Name: "Accept", Value: "*/*"},
			{Name: "Content-Digest", Value: "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"},
		},
		Body: []byte(`{"hello": "world"}`),
	}
	return httpsig.Message{Request: req}
}

func FuzzSignatureInput(f *testing.F) {
	for _, s := range inputSeeds {
		f.Add(s, "")
	}
	f.Add(inputSeeds[4], "sig2")
	msg := fuzzMessage()
	ver := &httpsig.Verifier{Keys: httpsig.StaticKeys{"test-key-rsa-pss": {Algorithm: httpsig.HMACSHA256, Secret: testHMAC}}, Required: []string{}, AllowEmpty: true, AllowMissingCreated: true, MaxAge: -1}
	f.Fuzz(func(t *testing.T, input, label string) {
		base, err := httpsig.Base(msg, input, label)
		if err != nil {
			if httpsig.ReasonOf(err) == "" {
				t.Fatalf("untyped error %v", err)
			}
		} else {
			lines := bytes.Split(base, []byte("\n"))
			last := lines[len(lines)-1]
			params, ok := bytes.CutPrefix(last, []byte(`"@signature-params": `))
			if !ok {
				t.Fatalf("last line %q", last)
			}
			for _, l := range lines[:len(lines)-1] {
				if !bytes.HasPrefix(l, []byte(`"`)) || bytes.HasPrefix(l, []byte(`"@signature-params"`)) || bytes.ContainsAny(l, "\r") {
					t.Fatalf("bad base line %q in\n%s", l, base)
				}
			}
			// Serialization is strict: re-reading @signature-params gives
			// the same base.
			again, err := httpsig.Base(msg, "x="+string(params), "x")
			if err != nil || !bytes.Equal(again, base) {
				t.Fatalf("re-read: %v\n%s\nwant\n%s", err, again, base)
			}
		}
		m := withSignature(msg, httpsig.Signed{Input: input, Signature: "sig1=:AAAA:, sig-b21=:AAAA:"})
		if _, err := ver.Verify(t.Context(), m); err == nil {
			t.Fatal("a made-up signature verified")
		}
	})
}

func FuzzSignatureField(f *testing.F) {
	msg := fuzzMessage()
	s := &httpsig.Signer{Key: httpsig.SigningKey{Algorithm: httpsig.HMACSHA256, Secret: testHMAC}, KeyID: "mac", Now: at(testNow), Components: []string{"@method", "@path"}}
	signed, err := s.Sign(msg)
	if err != nil {
		f.Fatal(err)
	}
	_, genuine, _ := strings.Cut(signed.Signature, "=")
	genuine = strings.Trim(genuine, ":")
	for _, seed := range []string{signed.Signature, "sig1=:AAAA:", "sig1=:" + genuine, "sig1=(:AAAA:)", "sig1=:" + genuine + ":;x=1, sig2=?0", `sig1="` + genuine + `"`, "sig1=::"} {
		f.Add(seed)
	}
	ver := &httpsig.Verifier{Keys: testKeys(), Now: at(testNow), Required: []string{}}
	f.Fuzz(func(t *testing.T, sig string) {
		m := withSignature(msg, httpsig.Signed{Input: signed.Input, Signature: sig})
		_, err := ver.Verify(t.Context(), m)
		if err == nil && !strings.Contains(sig, genuine) {
			t.Fatalf("Signature %q verified", sig)
		}
		if err != nil && httpsig.ReasonOf(err) == "" {
			t.Fatalf("untyped error %v", err)
		}
	})
}

func FuzzContentDigest(f *testing.F) {
	body := []byte(`{"hello": "world"}`)
	for _, seed := range []string{
		"sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
		"sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:, md5=:AAAA:",
		"sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:;p=1, unixsum=?1",
		"sha-256=abc", "sha-256", "sha-256=:AAAA:", "", "=", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:, sha-256=:AA==:",
	} {
		f.Add(seed, body)
	}
	f.Fuzz(func(t *testing.T, field string, body []byte) {
		var lim httpsig.Limits
		alg, err := httpsig.CheckContentDigest([]string{field}, body, true, lim)
		if err != nil {
			if httpsig.ReasonOf(err) == "" {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if alg != httpsig.DigestSHA256 && alg != httpsig.DigestSHA512 {
			t.Fatalf("accepted with algorithm %q", alg)
		}
		// The digest binds the body.
		if _, err := httpsig.CheckContentDigest([]string{field}, append(body, 'x'), true, lim); httpsig.ReasonOf(err) != httpsig.ReasonDigestMismatch {
			t.Fatalf("%q also matches a longer body: %v", field, err)
		}
	})
}

// FuzzStructuredField checks the RFC 8941 parsing and strict
// serialization the sf and key parameters and @signature-params rely on:
// serializing what was parsed is a fixed point.
func FuzzStructuredField(f *testing.F) {
	for _, s := range append(inputSeeds,
		`a=1, b=2;x=?1;y="z", c=(a b);p`, `u=1, i`, `"str";p=-1.5, :AAA=:`, `(1 2);a, ?0`, `tok/en;k=*x`,
		`a=@1659578233`, `a=%"f%c3%bc"`, `x=1.2345`, `x=1234567890123456`) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		in := []string{s}
		if d, err := httpsfv.UnmarshalDictionary(in); err == nil {
			fixedPoint(t, "dictionary", d, func(v string) (httpsfv.StructuredFieldValue, error) { return httpsfv.UnmarshalDictionary([]string{v}) })
		}
		if l, err := httpsfv.UnmarshalList(in); err == nil {
			fixedPoint(t, "list", l, func(v string) (httpsfv.StructuredFieldValue, error) { return httpsfv.UnmarshalList([]string{v}) })
		}
		if it, err := httpsfv.UnmarshalItem(in); err == nil {
			fixedPoint(t, "item", it, func(v string) (httpsfv.StructuredFieldValue, error) { return httpsfv.UnmarshalItem([]string{v}) })
		}
	})
}

func fixedPoint(t *testing.T, kind string, v httpsfv.StructuredFieldValue, parse func(string) (httpsfv.StructuredFieldValue, error)) {
	t.Helper()
	s1, err := httpsfv.Marshal(v)
	if err != nil {
		return // a parsed value the serializer refuses (out-of-range decimal): never used in a base
	}
	v2, err := parse(s1)
	if err != nil {
		t.Fatalf("%s serialized as %q does not parse: %v", kind, s1, err)
	}
	s2, err := httpsfv.Marshal(v2)
	if err != nil || s1 != s2 {
		t.Fatalf("%s: %q re-serializes as %q (%v)", kind, s1, s2, err)
	}
}

func FuzzComponent(f *testing.F) {
	for _, s := range []string{`"@method"`, `@query-param;name="id"`, `content-digest`, `"x";key="a";sf`, `"x";bs;req`, `"@status";req`, `x;tr`, `"@Path"`, `"a";name="b"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := httpsig.ParseComponent(s)
		if err != nil {
			return
		}
		again, err := httpsig.ParseComponent(c)
		if err != nil || again != c {
			t.Fatalf("%q canonical %q re-parses as %q, %v", s, c, again, err)
		}
	})
}
