package httpsig_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
)

// base builds the signature base of msg for the components, with params
// `;created=1` so only the component lines matter.
func base(t *testing.T, msg httpsig.Message, components string) (string, error) {
	t.Helper()
	b, err := httpsig.Base(msg, "s=("+components+");created=1", "s")
	if err != nil {
		return "", err
	}
	s := string(b)
	return s[:strings.LastIndex(s, `"@signature-params"`)], nil
}

// The examples of RFC 9421 §2.1 (fields) and §2.2 (derived components).
func TestComponentValues(t *testing.T) {
	req := &httpsig.Request{Method: "POST", Target: "/path?param=value", Scheme: "https", Authority: "www.example.com",
		Fields: []httpsig.Field{
			{Name: "Host", Value: "www.example.com"},
			{Name: "X-OWS-Header", Value: "   Leading and trailing whitespace.   "},
			{Name: "Cache-Control", Value: "max-age=60"},
			{Name: "Cache-Control", Value: "   must-revalidate"},
			{Name: "Example-Dict", Value: " a=1,    b=2;x=1;y=2,   c=(a   b   c)"},
			{Name: "Example-Header", Value: "value, with, lots"},
			{Name: "Example-Header", Value: "of, commas"},
			{Name: "X-Empty-Header", Value: ""},
		}}
	msg := httpsig.Message{Request: req}
	tests := []struct{ components, want string }{
		{`"@method" "@target-uri" "@authority" "@scheme" "@request-target" "@path" "@query"`,
			"\"@method\": POST\n\"@target-uri\": https://www.example.com/path?param=value\n\"@authority\": www.example.com\n\"@scheme\": https\n\"@request-target\": /path?param=value\n\"@path\": /path\n\"@query\": ?param=value\n"},
		{`"host" "x-ows-header" "cache-control" "x-empty-header"`,
			"\"host\": www.example.com\n\"x-ows-header\": Leading and trailing whitespace.\n\"cache-control\": max-age=60, must-revalidate\n\"x-empty-header\": \n"},
		{`"example-dict" "example-dict";sf "example-dict";key="a" "example-dict";key="b" "example-dict";key="c"`,
			"\"example-dict\": a=1,    b=2;x=1;y=2,   c=(a   b   c)\n\"example-dict\";sf: a=1, b=2;x=1;y=2, c=(a b c)\n\"example-dict\";key=\"a\": 1\n\"example-dict\";key=\"b\": 2;x=1;y=2\n\"example-dict\";key=\"c\": (a b c)\n"},
		{`"example-header" "example-header";bs`,
			"\"example-header\": value, with, lots, of, commas\n\"example-header\";bs: :dmFsdWUsIHdpdGgsIGxvdHM=:, :b2YsIGNvbW1hcw==:\n"},
	}
	for _, tt := range tests {
		got, err := base(t, msg, tt.components)
		if err != nil {
			t.Fatalf("%s: %v", tt.components, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.components, diff)
		}
	}
}

// RFC 9421 §2.2.7 and §2.2.8: @query and @query-param.
func TestQuery(t *testing.T) {
	tests := []struct{ target, components, want string }{
		{"/path?param=value&foo=bar&baz=batman", `"@query"`, "\"@query\": ?param=value&foo=bar&baz=batman\n"},
		{"/path?queryString", `"@query"`, "\"@query\": ?queryString\n"},
		{"/path", `"@query"`, "\"@query\": ?\n"},
		{"/path?", `"@query" "@path"`, "\"@query\": ?\n\"@path\": /path\n"},
		{"/path?param=value&foo=bar&baz=batman&qux=", `"@query-param";name="baz" "@query-param";name="qux" "@query-param";name="param"`,
			"\"@query-param\";name=\"baz\": batman\n\"@query-param\";name=\"qux\": \n\"@query-param\";name=\"param\": value\n"},
		{"/parameters?var=this%20is%20a%20big%0Amultiline%20value&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something",
			`"@query-param";name="var" "@query-param";name="bar" "@query-param";name="fa%C3%A7ade%22%3A%20"`,
			"\"@query-param\";name=\"var\": this%20is%20a%20big%0Amultiline%20value\n\"@query-param\";name=\"bar\": with%20plus%20whitespace\n\"@query-param\";name=\"fa%C3%A7ade%22%3A%20\": something\n"},
		{"/p?id=1&x=2&id=3", `"@query-param";name="id"`, "\"@query-param\";name=\"id\": 1\n\"@query-param\";name=\"id\": 3\n"},
		{"https://example.com/a/b?c=d", `"@path" "@query" "@target-uri"`, "\"@path\": /a/b\n\"@query\": ?c=d\n\"@target-uri\": https://example.com/a/b?c=d\n"},
		{"https://example.com", `"@path"`, "\"@path\": /\n"},
	}
	for _, tt := range tests {
		msg := httpsig.Message{Request: &httpsig.Request{Method: "GET", Target: tt.target, Scheme: "https", Authority: "example.com"}}
		got, err := base(t, msg, tt.components)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.target, tt.components, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", tt.target, tt.components, diff)
		}
	}
	for _, tt := range []struct{ target, components string }{
		{"/p?a=1", `"@query-param";name="b"`},
		{"*", `"@path"`},
		{"example.com:443", `"@query"`},
	} {
		msg := httpsig.Message{Request: &httpsig.Request{Method: "OPTIONS", Target: tt.target, Scheme: "https", Authority: "example.com"}}
		if _, err := base(t, msg, tt.components); httpsig.ReasonOf(err) != httpsig.ReasonComponentUnavailable {
			t.Errorf("%s %s: %v, want %s", tt.target, tt.components, err, httpsig.ReasonComponentUnavailable)
		}
	}
}

func TestAuthorityNormalized(t *testing.T) {
	for _, tt := range []struct{ scheme, authority, want string }{
		{"https", "Example.COM:443", "example.com"},
		{"http", "example.com:80", "example.com"},
		{"https", "example.com:80", "example.com:80"},
		{"https", "[::1]:443", "[::1]"},
		{"https", "[::1]", "[::1]"},
		{"http", "[::1]:8080", "[::1]:8080"},
	} {
		msg := httpsig.Message{Request: &httpsig.Request{Method: "GET", Target: "/", Scheme: tt.scheme, Authority: tt.authority}}
		got, err := base(t, msg, `"@authority"`)
		if err != nil || got != "\"@authority\": "+tt.want+"\n" {
			t.Errorf("%s %s: %q, %v; want %s", tt.scheme, tt.authority, got, err, tt.want)
		}
	}
}

// A response signature binds the request it answers with req (RFC 9421
// §2.4).
func TestResponseWithRequest(t *testing.T) {
	req := typicalRequest()
	resp := &httpsig.Response{Status: 201, Fields: []httpsig.Field{{Name: "Content-Type", Value: "application/json"}}, Body: []byte(`{"id":1}`)}
	s := edSigner(`"@status"`, `"content-digest"`, `"@method";req`, `"@path";req`, `"content-digest";req`, `"@query-param";req;name="id"`)
	signed := mustSign(t, s, httpsig.Message{Request: req, Response: resp}, nil)
	ver := &httpsig.Verifier{Keys: testKeys(), Now: at(testNow), Required: []string{"@status", "@method;req", "content-digest;req"}}
	res, err := ver.Verify(t.Context(), signed)
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest != "sha-256" {
		t.Errorf("digest %q", res.Digest)
	}
	// Answering another request, it fails.
	other := *req
	other.Method = "DELETE"
	if _, err := ver.Verify(t.Context(), httpsig.Message{Request: &other, Response: signed.Response}); httpsig.ReasonOf(err) != httpsig.ReasonInvalid {
		t.Errorf("with another request: %v", err)
	}
	// Without the request, req components cannot be computed.
	if _, err := ver.Verify(t.Context(), httpsig.Message{Response: signed.Response}); httpsig.ReasonOf(err) != httpsig.ReasonComponentUnavailable {
		t.Errorf("without the request: %v", err)
	}
	// A response's own @method makes no sense.
	if _, err := base(t, httpsig.Message{Request: req, Response: resp}, `"@method"`); httpsig.ReasonOf(err) != httpsig.ReasonComponentUnavailable {
		t.Errorf("@method of a response: %v", err)
	}
}

// A newline smuggled into a value would forge a base line.
func TestBaseRefusesControlBytes(t *testing.T) {
	msg := httpsig.Message{Request: &httpsig.Request{Method: "GET", Target: "/", Scheme: "https", Authority: "example.com",
		Fields: []httpsig.Field{{Name: "X-A", Value: "1\n\"@method\": POST"}, {Name: "X-B", Value: "caf\xc3\xa9"}}}}
	for _, c := range []string{`"x-a"`, `"x-b"`} {
		if _, err := base(t, msg, c); httpsig.ReasonOf(err) != httpsig.ReasonComponentUnavailable {
			t.Errorf("%s: %v", c, err)
		}
	}
	// bs carries any bytes.
	if got, err := base(t, msg, `"x-b";bs`); err != nil || got != "\"x-b\";bs: :Y2Fmw6k=:\n" {
		t.Errorf("bs: %q, %v", got, err)
	}
}

// Behind a TLS-terminating load balancer, the gateway sees plain HTTP on
// its own port; the signature covers the public origin and the target as
// the client sent it, which NewRequest keeps.
func TestNewRequestThroughAServer(t *testing.T) {
	origin, err := httpsig.ParseOrigin("https://api.example.com")
	if err != nil {
		t.Fatal(err)
	}
	ver := &httpsig.Verifier{Keys: testKeys(), Now: at(testNow),
		Required: []string{"@method", "@target-uri", "@path", "@query", "accept", "content-digest"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := httpsig.NewRequest(r, r.RequestURI, origin)
		req.Body, _ = io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if _, err := ver.Verify(r.Context(), httpsig.Message{Request: req}); err != nil {
			http.Error(w, httpsig.ReasonOf(err), http.StatusUnauthorized)
			return
		}
		// The decoded URL is not what was signed.
		if _, err := ver.Verify(r.Context(), httpsig.Message{Request: httpsig.NewRequest(r, r.URL.String(), origin)}); err == nil {
			http.Error(w, "the decoded URL verified too", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	body := []byte(`{"n":1}`)
	target := "/v1/files/a%2Fb?q=x+y&r=%C3%A9"
	signed, err := edSigner("@method", "@target-uri", "@path", "@query", "accept", "content-digest").Sign(httpsig.Message{Request: &httpsig.Request{
		Method: "PUT", Target: target, Scheme: "https", Authority: "api.example.com",
		Fields: []httpsig.Field{{Name: "Accept", Value: "application/json"}, {Name: "Accept", Value: "*/*"}}, Body: body,
	}})
	if err != nil {
		t.Fatal(err)
	}
	hreq, err := http.NewRequestWithContext(t.Context(), "PUT", srv.URL+target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hreq.Header.Add("Accept", "application/json")
	hreq.Header.Add("Accept", "*/*")
	hreq.Header.Set("Content-Digest", signed.ContentDigest)
	hreq.Header.Set("Signature-Input", signed.Input)
	hreq.Header.Set("Signature", signed.Signature)
	resp, err := srv.Client().Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d: %s", resp.StatusCode, msg)
	}
}
