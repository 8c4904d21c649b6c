package httpsig

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Field is one header field line as received: its name in any case and its
// value.
type Field struct {
	Name, Value string
}

// Request is an HTTP request as its client sent it. The signature covers
// what the client sent, so every component is computed from these fields,
// never from a URL a server library has parsed and normalized.
type Request struct {
	// Method is the method as received; case-sensitive.
	Method string
	// Target is the request-target exactly as received on the request line
	// (origin-form "/p?q", absolute-form, authority-form or "*"). It is
	// @request-target, and @path, @query and @query-param are read from it.
	Target string
	// Scheme and Authority are the scheme and authority the client
	// addressed: the public origin, which behind a TLS-terminating load
	// balancer is not what the gateway's listener saw. They give
	// @scheme, @authority and @target-uri.
	Scheme, Authority string
	// Fields are the header field lines in the order received, repeats
	// kept. Lines of one name are combined in this order (RFC 9421 §2.1).
	Fields []Field
	// Body is the content, for Content-Digest. Nil means no content.
	Body []byte
}

// Response is an HTTP response as its server sent it.
type Response struct {
	// Status is the status code: @status.
	Status int
	// Fields are the header field lines in the order received.
	Fields []Field
	// Body is the content, for Content-Digest.
	Body []byte
}

// Message is what is signed or verified: a request, or a response with the
// request it answers.
type Message struct {
	// Request is the request. When Response is set, it is the request that
	// the response answers, which components with the req parameter read;
	// it may then be nil, and such components are unavailable.
	Request *Request
	// Response, if set, is the message; otherwise Request is.
	Response *Response
}

func (m Message) isResponse() bool { return m.Response != nil }

// fields are the header fields of the message itself.
func (m Message) fields() []Field {
	switch {
	case m.Response != nil:
		return m.Response.Fields
	case m.Request != nil:
		return m.Request.Fields
	}
	return nil
}

func (m Message) body() []byte {
	switch {
	case m.Response != nil:
		return m.Response.Body
	case m.Request != nil:
		return m.Request.Body
	}
	return nil
}

// hasBody reports whether the message has content, or says it has: a body,
// a Content-Length other than 0 or a Transfer-Encoding. A caller that
// forgot to set Body still gets the digest policy of a message with one.
func (m Message) hasBody() bool {
	if len(m.body()) > 0 {
		return true
	}
	for _, f := range m.fields() {
		switch strings.ToLower(f.Name) {
		case "transfer-encoding":
			return true
		case "content-length":
			if strings.TrimSpace(f.Value) != "0" {
				return true
			}
		}
	}
	return false
}

// values returns the values of the field name (lowercase) in fs, each
// stripped of leading and trailing whitespace (RFC 9421 §2.1).
func values(fs []Field, name string) []string {
	var vs []string
	for _, f := range fs {
		if len(f.Name) == len(name) && strings.EqualFold(f.Name, name) {
			vs = append(vs, strings.Trim(f.Value, " \t"))
		}
	}
	return vs
}

// Origin is the scheme and authority clients use to reach the gateway:
// "https" and "api.example.com" behind a load balancer that terminates TLS
// on port 443 and forwards plain HTTP to a listener on port 8080.
type Origin struct {
	Scheme, Authority string
}

// ParseOrigin reads an origin such as "https://api.example.com" or
// "http://localhost:8080".
func ParseOrigin(s string) (Origin, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return Origin{}, fmt.Errorf("httpsig: origin %q is not scheme://authority (http or https)", s)
	}
	return Origin{Scheme: u.Scheme, Authority: u.Host}, nil
}

// NewRequest returns r as its client sent it. target is the request-target
// exactly as received (a server's r.RequestURI, which net/http keeps
// unmodified; the gateway's strict framing guard has vetted it). origin's
// fields, when set, give the scheme and authority the client addressed;
// otherwise they come from r.TLS and r.Host. The body is not read: set Body
// to the bytes read under a size limit before verifying a digest.
//
// Header fields come from r.Header, whose map loses the order between
// different names but keeps the order of each name's lines, which is all a
// signature base depends on. net/http moves Host and Transfer-Encoding out
// of the header; they are put back.
func NewRequest(r *http.Request, target string, origin Origin) *Request {
	req := &Request{Method: r.Method, Target: target, Scheme: origin.Scheme, Authority: origin.Authority}
	if req.Scheme == "" {
		req.Scheme = "http"
		if r.TLS != nil {
			req.Scheme = "https"
		}
	}
	if req.Authority == "" {
		req.Authority = r.Host
	}
	if r.Host != "" && r.Header.Get("Host") == "" {
		req.Fields = append(req.Fields, Field{"Host", r.Host})
	}
	req.Fields = append(req.Fields, headerFields(r.Header)...)
	if len(r.TransferEncoding) > 0 && r.Header.Get("Transfer-Encoding") == "" {
		req.Fields = append(req.Fields, Field{"Transfer-Encoding", strings.Join(r.TransferEncoding, ", ")})
	}
	return req
}

// headerFields lists h's lines, names sorted, each name's lines in order.
func headerFields(h http.Header) []Field {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	var fs []Field
	for _, name := range names {
		for _, v := range h[name] {
			fs = append(fs, Field{name, v})
		}
	}
	return fs
}

// ReadMessage reads one HTTP/1.x request or response in wire form (CRLF or
// bare LF line ends) with its body, for tools and tests: the gateway builds
// requests with NewRequest. A request's scheme and authority come from
// origin when set, else from an absolute-form target, else "https" and its
// Host field.
func ReadMessage(data []byte, origin Origin) (Message, error) {
	br := bufio.NewReader(bytes.NewReader(data))
	if bytes.HasPrefix(data, []byte("HTTP/")) {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return Message{}, fmt.Errorf("httpsig: reading response: %w", err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return Message{}, fmt.Errorf("httpsig: reading response body: %w", err)
		}
		out := &Response{Status: resp.StatusCode, Fields: headerFields(resp.Header), Body: body}
		if len(resp.TransferEncoding) > 0 {
			out.Fields = append(out.Fields, Field{"Transfer-Encoding", strings.Join(resp.TransferEncoding, ", ")})
		}
		return Message{Response: out}, nil
	}
	r, err := http.ReadRequest(br)
	if err != nil {
		return Message{}, fmt.Errorf("httpsig: reading request: %w", err)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return Message{}, fmt.Errorf("httpsig: reading request body: %w", err)
	}
	if origin.Scheme == "" {
		origin.Scheme = "https"
		if r.URL.Scheme != "" {
			origin.Scheme = r.URL.Scheme
		}
	}
	req := NewRequest(r, r.RequestURI, origin)
	if len(body) > 0 {
		req.Body = body
	}
	return Message{Request: req}, nil
}

// errNoPath: the target has no path (authority-form or asterisk-form).
var errNoPath = errors.New("the request-target has no path")

// splitTarget returns the path and query of a request-target. hasQuery
// tells "/p?" from "/p".
func splitTarget(target string) (path, query string, hasQuery bool, err error) {
	switch {
	case strings.HasPrefix(target, "/"):
	case strings.Contains(target, "://"):
		_, rest, _ := strings.Cut(target, "://")
		i := strings.IndexAny(rest, "/?#")
		if i < 0 {
			return "/", "", false, nil
		}
		target = rest[i:]
	default:
		return "", "", false, errNoPath
	}
	target, _, _ = strings.Cut(target, "#")
	path, query, hasQuery = strings.Cut(target, "?")
	if path == "" {
		path = "/"
	}
	return path, query, hasQuery, nil
}

// normalizeAuthority lowercases the host and drops the scheme's default
// port (RFC 9421 §2.2.3, RFC 9110 §4.2.3).
func normalizeAuthority(scheme, authority string) string {
	a := strings.ToLower(authority)
	host, port := a, ""
	if i := strings.LastIndexByte(a, ':'); i >= 0 && !strings.Contains(a[i:], "]") {
		host, port = a[:i], a[i+1:]
	}
	if port == "" || (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		return host
	}
	return a
}
