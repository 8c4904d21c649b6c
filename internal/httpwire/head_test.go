package httpwire

import (
	"strings"
	"testing"
)

// parseHead runs a complete head through a fresh headParser in one piece.
func parseHead(lim limits, head string) (n int, reason string, p *headParser) {
	p = &headParser{lim: &lim}
	n, reason = p.feed([]byte(head))
	return n, reason, p
}

func TestHeadParser(t *testing.T) {
	const host = "Host: example.com\r\n"
	tests := []struct {
		name string
		head string
		want string // reason; "" when valid
	}{
		// Valid heads.
		{"get", "GET / HTTP/1.1\r\n" + host + "\r\n", ""},
		{"http10 without host", "GET / HTTP/1.0\r\n\r\n", ""},
		{"query and escapes", "GET /a%2Fb?q=%zz&x=1 HTTP/1.1\r\n" + host + "\r\n", ""},
		{"absolute-form", "GET http://example.com:8080/x?y HTTP/1.1\r\n" + host + "\r\n", ""},
		{"absolute-form https no path", "GET HTTPS://example.com HTTP/1.1\r\n" + host + "\r\n", ""},
		{"options asterisk", "OPTIONS * HTTP/1.1\r\n" + host + "\r\n", ""},
		{"extension method", "PURGE /x HTTP/1.1\r\n" + host + "\r\n", ""},
		{"ows around value", "GET / HTTP/1.1\r\nHost: \t example.com \t\r\n\r\n", ""},
		{"empty value", "GET / HTTP/1.1\r\n" + host + "X-Empty:\r\n\r\n", ""},
		{"empty host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", ""},
		{"host ipv6 port", "GET / HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n", ""},
		{"host ipv4 empty port", "GET / HTTP/1.1\r\nHost: 192.0.2.1:\r\n\r\n", ""},
		{"obs-text in other value", "GET / HTTP/1.1\r\n" + host + "X-Name: caf\xe9\r\n\r\n", ""},
		{"cl", "POST / HTTP/1.1\r\n" + host + "Content-Length: 000123\r\n\r\n", ""},
		{"cl 18 digits", "POST / HTTP/1.1\r\n" + host + "Content-Length: 999999999999999999\r\n\r\n", ""},
		{"te upper", "POST / HTTP/1.1\r\n" + host + "TRANSFER-ENCODING: CHUNKED\r\n\r\n", ""},
		{"connection list", "GET / HTTP/1.1\r\n" + host + "Connection: keep-alive, , X-Foo\r\n\r\n", ""},
		{"websocket upgrade", "GET / HTTP/1.1\r\n" + host + "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n", ""},
		{"leading empty lines", "\r\n\r\nGET / HTTP/1.1\r\n" + host + "\r\n", ""},

		// Request line.
		{"no target", "GET HTTP/1.1\r\n" + host + "\r\n", ReasonBadRequestLine},
		{"double space", "GET  / HTTP/1.1\r\n" + host + "\r\n", ReasonBadRequestLine},
		{"trailing space", "GET / HTTP/1.1 \r\n" + host + "\r\n", ReasonBadRequestLine},
		{"space in target", "GET /a b HTTP/1.1\r\n" + host + "\r\n", ReasonBadRequestLine},
		{"tab separator", "GET\t/ HTTP/1.1\r\n" + host + "\r\n", ReasonBadRequestLine},
		{"leading space", " GET / HTTP/1.1\r\n" + host + "\r\n", ReasonBadRequestLine},
		{"fragment", "GET /admin#x HTTP/1.1\r\n" + host + "\r\n", ReasonBadRequestLine},
		{"non-ascii target", "GET /caf\xc3\xa9 HTTP/1.1\r\n" + host + "\r\n", ReasonBadRequestLine},
		{"nul in target", "GET /a\x00 HTTP/1.1\r\n" + host + "\r\n", ReasonBadRequestLine},
		{"del in target", "GET /a\x7f HTTP/1.1\r\n" + host + "\r\n", ReasonBadRequestLine},
		{"bad escape", "GET /a%zz HTTP/1.1\r\n" + host + "\r\n", ReasonBadRequestLine},
		{"short escape", "GET /a%2 HTTP/1.1\r\n" + host + "\r\n", ReasonBadRequestLine},
		{"relative target", "GET admin HTTP/1.1\r\n" + host + "\r\n", ReasonBadRequestLine},
		{"asterisk with get", "GET * HTTP/1.1\r\n" + host + "\r\n", ReasonBadRequestLine},
		{"ftp scheme", "GET ftp://example.com/ HTTP/1.1\r\n" + host + "\r\n", ReasonBadRequestLine},
		{"bare cr in request line", "GET /\r HTTP/1.1\r\n" + host + "\r\n", ReasonBadRequestLine},
		{"absolute userinfo", "GET http://a@example.com/ HTTP/1.1\r\n" + host + "\r\n", ReasonBadHost},
		{"absolute empty authority", "GET http:///x HTTP/1.1\r\n" + host + "\r\n", ReasonBadHost},
		{"absolute bad port", "GET http://example.com:99999/ HTTP/1.1\r\n" + host + "\r\n", ReasonBadHost},
		{"uri too long", "GET /" + strings.Repeat("a", 8<<10) + " HTTP/1.1\r\n" + host + "\r\n", ReasonURITooLong},
		{"connect", "CONNECT example.com:443 HTTP/1.1\r\n" + host + "\r\n", ReasonMethodNotAllowed},
		{"connect lower", "connect /x HTTP/1.1\r\n" + host + "\r\n", ReasonMethodNotAllowed},
		{"method not token", "G(T / HTTP/1.1\r\n" + host + "\r\n", ReasonMethodNotAllowed},
		{"http 1.2", "GET / HTTP/1.2\r\n" + host + "\r\n", ReasonBadVersion},
		{"http 2 get", "GET / HTTP/2.0\r\n" + host + "\r\n", ReasonBadVersion},
		{"lower-case version", "GET / http/1.1\r\n" + host + "\r\n", ReasonBadVersion},
		{"http 0.9 style", "GET / HTTP/0.9\r\n\r\n", ReasonBadVersion},
		{"prior knowledge preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ReasonH2CUpgrade},

		// Field lines.
		{"space before colon", "GET / HTTP/1.1\r\n" + host + "X-A : 1\r\n\r\n", ReasonBadHeader},
		{"tab before colon", "GET / HTTP/1.1\r\n" + host + "X-A\t: 1\r\n\r\n", ReasonBadHeader},
		{"underscore", "GET / HTTP/1.1\r\n" + host + "X_A: 1\r\n\r\n", ReasonBadHeader},
		{"no colon", "GET / HTTP/1.1\r\n" + host + "X-A\r\n\r\n", ReasonBadHeader},
		{"empty name", "GET / HTTP/1.1\r\n" + host + ": 1\r\n\r\n", ReasonBadHeader},
		{"obs-fold", "GET / HTTP/1.1\r\n" + host + "X-A: 1\r\n 2\r\n\r\n", ReasonBadHeader},
		{"first field indented", "GET / HTTP/1.1\r\n " + host + "\r\n", ReasonBadHeader},
		{"nul in value", "GET / HTTP/1.1\r\n" + host + "X-A: a\x00b\r\n\r\n", ReasonBadHeader},
		{"del in value", "GET / HTTP/1.1\r\n" + host + "X-A: a\x7fb\r\n\r\n", ReasonBadHeader},
		{"bare cr in value", "GET / HTTP/1.1\r\n" + host + "X-A: a\rb\r\n\r\n", ReasonBadHeader},
		{"non-token name", "GET / HTTP/1.1\r\n" + host + "X(A): 1\r\n\r\n", ReasonBadHeader},
		{"forged refusal", "GET / HTTP/1.1\r\n" + host + "drawbridge-refusal: x\r\n\r\n", ReasonBadHeader},
		{"bare lf ends request line", "GET / HTTP/1.1\n" + host + "\r\n", ReasonBareLF},
		{"bare lf ends field", "GET / HTTP/1.1\r\nHost: a\n\r\n", ReasonBareLF},
		{"bare lf ends head", "GET / HTTP/1.1\r\n" + host + "\n", ReasonBareLF},
		{"bare lf before request line", "\nGET / HTTP/1.1\r\n" + host + "\r\n", ReasonBareLF},
		{"too many fields", "GET / HTTP/1.1\r\n" + host + strings.Repeat("X-A: 1\r\n", 100) + "\r\n", ReasonHeadersTooLarge},
		{"head too large", "GET / HTTP/1.1\r\n" + host + "X-A: " + strings.Repeat("a", 32<<10) + "\r\n\r\n", ReasonHeadersTooLarge},

		// Host.
		{"missing host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", ReasonBadHost},
		{"missing host absolute", "GET http://example.com/ HTTP/1.1\r\n\r\n", ReasonBadHost},
		{"two hosts", "GET / HTTP/1.1\r\n" + host + host + "\r\n", ReasonBadHost},
		{"two hosts http10", "GET / HTTP/1.0\r\n" + host + host + "\r\n", ReasonBadHost},
		{"userinfo", "GET / HTTP/1.1\r\nHost: a@example.com\r\n\r\n", ReasonBadHost},
		{"port letters", "GET / HTTP/1.1\r\nHost: example.com:abc\r\n\r\n", ReasonBadHost},
		{"port too long", "GET / HTTP/1.1\r\nHost: example.com:000080\r\n\r\n", ReasonBadHost},
		{"port too big", "GET / HTTP/1.1\r\nHost: example.com:65536\r\n\r\n", ReasonBadHost},
		{"two colons", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", ReasonBadHost},
		{"host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", ReasonBadHost},
		{"host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", ReasonBadHost},
		{"host obs-text", "GET / HTTP/1.1\r\nHost: caf\xe9\r\n\r\n", ReasonBadHost},
		{"host percent", "GET / HTTP/1.1\r\nHost: %61\r\n\r\n", ReasonBadHost},
		{"ipv6 zone", "GET / HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\n\r\n", ReasonBadHost},
		{"ipv6 junk", "GET / HTTP/1.1\r\nHost: [1:2:3]\r\n\r\n", ReasonBadHost},
		{"ipv4 in brackets", "GET / HTTP/1.1\r\nHost: [192.0.2.1]\r\n\r\n", ReasonBadHost},
		{"bracket unclosed", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", ReasonBadHost},
		{"port only", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", ReasonBadHost},
		{"host too long", "GET / HTTP/1.1\r\nHost: " + strings.Repeat("a", 300) + "\r\n\r\n", ReasonBadHost},

		// Framing fields.
		{"cl and te", "POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", ReasonCLTE},
		{"te and cl", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", ReasonCLTE},
		{"cl empty", "POST / HTTP/1.1\r\n" + host + "Content-Length:\r\n\r\n", ReasonBadContentLength},
		{"cl 19 digits", "POST / HTTP/1.1\r\n" + host + "Content-Length: 0000000000000000001\r\n\r\n", ReasonBadContentLength},
		{"cl inner space", "POST / HTTP/1.1\r\n" + host + "Content-Length: 1 2\r\n\r\n", ReasonBadContentLength},
		{"cl twice", "POST / HTTP/1.1\r\n" + host + "Content-Length: 1\r\ncontent-length: 1\r\n\r\n", ReasonBadContentLength},
		{"te identity", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: identity\r\n\r\n", ReasonBadTransferEncoding},
		{"te gzip chunked", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, chunked\r\n\r\n", ReasonBadTransferEncoding},
		{"te chunked chunked", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked, chunked\r\n\r\n", ReasonBadTransferEncoding},
		{"te twice", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", ReasonBadTransferEncoding},
		{"te empty", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding:\r\n\r\n", ReasonBadTransferEncoding},
		{"te http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", ReasonBadTransferEncoding},
		{"te with param", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked;q=1\r\n\r\n", ReasonBadTransferEncoding},
		{"upgrade h2c", "GET / HTTP/1.1\r\n" + host + "Upgrade: h2c\r\nConnection: Upgrade\r\n\r\n", ReasonH2CUpgrade},
		{"upgrade list h2c", "GET / HTTP/1.1\r\n" + host + "Upgrade: websocket, H2C\r\n\r\n", ReasonH2CUpgrade},
		{"upgrade http/2", "GET / HTTP/1.1\r\n" + host + "Upgrade: HTTP/2.0\r\n\r\n", ReasonH2CUpgrade},
		{"http2-settings alone", "GET / HTTP/1.1\r\n" + host + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", ReasonH2CUpgrade},
		{"connection content-length", "GET / HTTP/1.1\r\n" + host + "Connection: close, Content-Length\r\n\r\n", ReasonBadConnection},
		{"connection te", "GET / HTTP/1.1\r\n" + host + "Connection: transfer-encoding\r\n\r\n", ReasonBadConnection},
		{"connection host", "GET / HTTP/1.1\r\n" + host + "Connection:HOST ,close\r\n\r\n", ReasonBadConnection},
	}
	lim := Limits{}.resolve()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, got, _ := parseHead(lim, tt.head)
			if got != tt.want {
				t.Fatalf("reason = %q, want %q", got, tt.want)
			}
			if tt.want == "" && n != len(tt.head) {
				t.Fatalf("head length = %d, want %d", n, len(tt.head))
			}
			// The result must not depend on how the bytes arrive.
			for split := 1; split < len(tt.head) && split < 600; split++ {
				p := &headParser{lim: &lim}
				n1, r1 := p.feed([]byte(tt.head[:split]))
				if r1 == "" && n1 == 0 {
					n1, r1 = p.feed([]byte(tt.head))
				}
				if r1 != got || (got == "" && n1 != n) {
					t.Fatalf("split at %d: (%d, %q), whole: (%d, %q)", split, n1, r1, n, got)
				}
			}
		})
	}
}

func TestHeadParserFacts(t *testing.T) {
	lim := Limits{}.resolve()
	_, r, p := parseHead(lim, "\r\nPOST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n")
	if r != "" || !p.hasCL || p.cl != 42 || p.hasTE || !p.upgrades() || p.skip != 2 {
		t.Fatalf("reason %q, facts %+v", r, *p)
	}
	_, r, p = parseHead(lim, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nUpgrade: websocket\r\n\r\n")
	if r != "" || p.hasCL || !p.hasTE || p.upgrades() {
		t.Fatalf("reason %q, facts %+v", r, *p)
	}
}

// An oversized head is refused as soon as the bytes read cross the limit,
// without waiting for the end of the line or of the head.
func TestHeadParserRefusesPartialHeads(t *testing.T) {
	lim := Limits{}.resolve()
	tests := []struct {
		name string
		head string
		want string
	}{
		{"long request line", "GET /" + strings.Repeat("a", 8<<10), ReasonURITooLong},
		{"long field", "GET / HTTP/1.1\r\nX-Big: " + strings.Repeat("a", 32<<10), ReasonHeadersTooLarge},
		{"empty line flood", strings.Repeat("\r\n", 16<<10+1), ReasonHeadersTooLarge},
		{"incomplete but fine", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, got, _ := parseHead(lim, tt.head)
			if n != 0 || got != tt.want {
				t.Fatalf("feed = (%d, %q), want (0, %q)", n, got, tt.want)
			}
		})
	}
}
