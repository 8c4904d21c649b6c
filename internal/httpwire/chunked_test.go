package httpwire

import (
	"strings"
	"testing"
)

func TestChunkParser(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // reason; "" when the body is valid and complete
		data uint64 // chunk-data bytes of a valid body
	}{
		{"empty body", "0\r\n\r\n", "", 0},
		{"one chunk", "5\r\nhello\r\n0\r\n\r\n", "", 5},
		{"hex sizes", "a\r\n0123456789\r\nA\r\n0123456789\r\n000\r\n\r\n", "", 20},
		{"16 digits", "0000000000000001\r\nx\r\n0\r\n\r\n", "", 1},
		{"extensions", "5;a\r\nhello\r\n5;a=b;c=\"q \\\" s\"\r\nworld\r\n0;last\r\n\r\n", "", 10},
		{"extension bws", "5; a = b ;c\r\nhello\r\n0\r\n\r\n", "", 5},
		{"extension obs-text quoted", "5;a=\"caf\xe9\"\r\nhello\r\n0\r\n\r\n", "", 5},
		{"trailers", "5\r\nhello\r\n0\r\nX-Sum: abc\r\nX-Empty:\r\n\r\n", "", 5},

		{"empty size", "\r\nhello\r\n0\r\n\r\n", ReasonBadChunk, 0},
		{"0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", ReasonBadChunk, 0},
		{"leading space", " 5\r\nhello\r\n0\r\n\r\n", ReasonBadChunk, 0},
		{"trailing space", "5 \r\nhello\r\n0\r\n\r\n", ReasonBadChunk, 0},
		{"space before ext", "5 ;a\r\nhello\r\n0\r\n\r\n", ReasonBadChunk, 0},
		{"sign", "+5\r\nhello\r\n0\r\n\r\n", ReasonBadChunk, 0},
		{"17 digits", "00000000000000005\r\nhello\r\n0\r\n\r\n", ReasonBadChunk, 0},
		{"17 f", "FFFFFFFFFFFFFFFFF\r\n", ReasonBadChunk, 0},
		{"above int64", "8000000000000000\r\n", ReasonBadChunk, 0},
		{"bare lf after size", "5\nhello\r\n0\r\n\r\n", ReasonBareLF, 0},
		{"bare lf in extension", "2;\nxx\r\n0\r\n\r\n", ReasonBareLF, 0},
		{"bare lf after data", "5\r\nhello\n0\r\n\r\n", ReasonBareLF, 0},
		{"bare lf ends body", "0\r\n\n", ReasonBareLF, 0},
		{"bare lf in trailer", "0\r\nX-A: 1\n\r\n", ReasonBareLF, 0},
		{"bare cr after size", "5\rhello\r\n0\r\n\r\n", ReasonBadChunk, 0},
		{"cr in extension", "5;a\rb\r\nhello\r\n0\r\n\r\n", ReasonBadChunk, 0},
		{"extension without name", "5;\r\nhello\r\n0\r\n\r\n", ReasonBadChunk, 0},
		{"extension bad char", "5;a@b\r\nhello\r\n0\r\n\r\n", ReasonBadChunk, 0},
		{"extension trailing bws", "5;a \r\nhello\r\n0\r\n\r\n", ReasonBadChunk, 0},
		{"quoted crlf", "5;a=\"x\r\n\"\r\nhello\r\n0\r\n\r\n", ReasonBadChunk, 0},
		{"quoted unterminated", "5;a=\"x\r\nhello\r\n0\r\n\r\n", ReasonBadChunk, 0},
		{"data too long", "5\r\nhello!\r\n0\r\n\r\n", ReasonBadChunk, 0},
		{"data cr only", "5\r\nhello\rX", ReasonBadChunk, 0},
		{"chunk line too long", "5;a=" + strings.Repeat("b", 4096) + "\r\nhello\r\n0\r\n\r\n", ReasonBadChunk, 0},
		{"trailer obs-fold", "0\r\nX-A: 1\r\n 2\r\n\r\n", ReasonBadChunk, 0},
		{"trailer space before colon", "0\r\nX-A : 1\r\n\r\n", ReasonBadChunk, 0},
		{"trailer underscore", "0\r\nX_A: 1\r\n\r\n", ReasonBadChunk, 0},
		{"trailer no colon", "0\r\nX-A\r\n\r\n", ReasonBadChunk, 0},
		{"trailer control", "0\r\nX-A: \x01\r\n\r\n", ReasonBadChunk, 0},
		{"trailer content-length", "0\r\nContent-Length: 5\r\n\r\n", ReasonBadChunk, 0},
		{"trailer transfer-encoding", "0\r\ntransfer-encoding: chunked\r\n\r\n", ReasonBadChunk, 0},
		{"trailer host", "0\r\nHOST: evil\r\n\r\n", ReasonBadChunk, 0},
		{"trailer refusal", "0\r\nDrawbridge-Refusal: x\r\n\r\n", ReasonBadChunk, 0},
		{"trailer too large", "0\r\nX-A: " + strings.Repeat("a", 16<<10) + "\r\n\r\n", ReasonBadChunk, 0},
		{"final crlf broken", "0\r\n\rX", ReasonBadChunk, 0},
	}
	lim := Limits{}.resolve()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &chunkParser{lim: &lim}
			n, done, got := p.feed([]byte(tt.body))
			if got != tt.want {
				t.Fatalf("reason = %q at %d, want %q", got, n, tt.want)
			}
			if tt.want == "" && (!done || n != len(tt.body) || p.data != tt.data) {
				t.Fatalf("feed = (%d, %v), data %d; want (%d, true), data %d", n, done, p.data, len(tt.body), tt.data)
			}
			// Byte at a time gives the same answer at the same offset.
			q := &chunkParser{lim: &lim}
			off := 0
			var d bool
			var r string
			for off < len(tt.body) && !d && r == "" {
				var k int
				k, d, r = q.feed([]byte(tt.body[off : off+1]))
				off += k
			}
			if r != got || d != done || off != n {
				t.Fatalf("byte at a time: (%d, %v, %q), whole: (%d, %v, %q)", off, d, r, n, done, got)
			}
		})
	}
}

// The body ends exactly after its final CRLF: what follows is the next
// request.
func TestChunkParserStopsAtEnd(t *testing.T) {
	lim := Limits{}.resolve()
	p := &chunkParser{lim: &lim}
	body := "3\r\nabc\r\n0\r\n\r\n"
	n, done, r := p.feed([]byte(body + "GET / HTTP/1.1\r\n"))
	if r != "" || !done || n != len(body) {
		t.Fatalf("feed = (%d, %v, %q), want (%d, true, \"\")", n, done, r, len(body))
	}
}
