package httpwire

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzSeeds are valid requests and attack cases; the shared attack
// vectors are added when present.
var fuzzSeeds = []string{
	"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"GET http://example.com:80/a?b HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"OPTIONS * HTTP/1.0\r\n\r\n",
	"\r\nPOST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"b\\\"c\"\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x00",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2;\nxx\r\n0\r\n\r\n",
	"GET /admin HTTP/1.1\nHost: a\n\n",
	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nHTTP2-Settings: AA\r\n\r\n",
}

func addSeeds(f *testing.F, add func(s string)) {
	for _, s := range fuzzSeeds {
		add(s)
	}
	dir := os.Getenv("DRAWBRIDGE_VECTORS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "vectors")
	}
	b, err := os.ReadFile(filepath.Join(dir, "standards", "attacks", "http_attacks.json"))
	if err != nil {
		f.Logf("attack vectors not added to the seed corpus: %v", err)
		return
	}
	var file struct {
		Cases []struct {
			Raw json.RawMessage `json:"raw_request"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		f.Fatal(err)
	}
	for _, c := range file.Cases {
		var one string
		var many []string
		if json.Unmarshal(c.Raw, &one) == nil {
			many = []string{one}
		} else {
			json.Unmarshal(c.Raw, &many)
		}
		for _, s := range many {
			add(s)
		}
	}
}

// FuzzHead: the head parser gives one answer however the head is split,
// and every head it accepts is one net/http parses with the same framing.
func FuzzHead(f *testing.F) {
	addSeeds(f, func(s string) { f.Add([]byte(s), uint16(len(s)/2)) })
	lim := Limits{}.resolve()
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		p := &headParser{lim: &lim}
		n, reason := p.feed(data)

		q := &headParser{lim: &lim}
		k := int(split) % (len(data) + 1)
		n2, reason2 := q.feed(data[:k])
		if n2 == 0 && reason2 == "" {
			n2, reason2 = q.feed(data)
		}
		if n != n2 || reason != reason2 {
			t.Fatalf("whole: (%d, %q); split at %d: (%d, %q)", n, reason, k, n2, reason2)
		}
		if n == 0 {
			return
		}
		req, err := readRequest(data[p.skip:n])
		if err != nil {
			t.Fatalf("accepted head %q, net/http: %v", data[:n], err)
		}
		switch {
		case p.hasTE:
			if len(req.TransferEncoding) != 1 || req.TransferEncoding[0] != "chunked" {
				t.Fatalf("guard: chunked; net/http: %q", req.TransferEncoding)
			}
		case req.ContentLength != p.cl:
			t.Fatalf("guard: length %d; net/http: %d", p.cl, req.ContentLength)
		}
	})
}

// FuzzChunked: the chunked state machine gives one answer however the
// body is split, and every body it accepts net/http decodes to the same
// data, ending at the same byte.
func FuzzChunked(f *testing.F) {
	addSeeds(f, func(s string) {
		if _, body, ok := strings.Cut(s, "\r\n\r\n"); ok {
			f.Add([]byte(body), uint16(len(body)/2))
		}
	})
	lim := Limits{}.resolve()
	f.Fuzz(func(t *testing.T, body []byte, split uint16) {
		p := &chunkParser{lim: &lim}
		n, done, reason := p.feed(body)

		q := &chunkParser{lim: &lim}
		k := int(split) % (len(body) + 1)
		n2, done2, reason2 := q.feed(body[:k])
		if !done2 && reason2 == "" {
			var m int
			m, done2, reason2 = q.feed(body[n2:])
			n2 += m
		}
		if n != n2 || done != done2 || reason != reason2 {
			t.Fatalf("whole: (%d, %v, %q); split at %d: (%d, %v, %q)", n, done, reason, k, n2, done2, reason2)
		}
		if !done {
			return
		}
		raw := append([]byte("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), body[:n]...)
		br := bufio.NewReaderSize(bytes.NewReader(raw), 64<<10) // room for a 16 KiB trailer
		req, err := http.ReadRequest(br)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(req.Body)
		if err != nil {
			if strings.Contains(err.Error(), "too much non-data") {
				return // net/http's own overhead limit, stricter than ours
			}
			t.Fatalf("accepted body %q, net/http: %v", body[:n], err)
		}
		if uint64(len(data)) != p.data || br.Buffered() != 0 {
			t.Fatalf("accepted body %q: guard %d data bytes; net/http %d, %d bytes left", body[:n], p.data, len(data), br.Buffered())
		}
	})
}

// FuzzConn runs whole connections through a Conn, delivered and read in
// fuzzed pieces. Whatever it releases is the input (less empty lines
// before request lines) and parses, with net/http, as whole requests; a
// refused stream ends with the synthetic request.
func FuzzConn(f *testing.F) {
	addSeeds(f, func(s string) {
		f.Add([]byte(s+s), []byte{3, 200, 17})
	})
	g := NewGuard(Limits{})
	f.Fuzz(func(t *testing.T, data, sizes []byte) {
		size := func(i int) int {
			if len(sizes) == 0 {
				return 4096
			}
			return int(sizes[i%len(sizes)]) + 1
		}
		var chunks []string
		for off, i := 0, 0; off < len(data); i++ {
			end := min(off+size(i), len(data))
			chunks = append(chunks, string(data[off:end]))
			off = end
		}
		c := g.Wrap(script(chunks...))
		var out []byte
		var err error
		for i := 1; err == nil; i++ {
			buf := make([]byte, size(i))
			var k int
			k, err = c.Read(buf)
			out = append(out, buf[:k]...)
		}
		released := out
		var fe *Error
		switch {
		case errors.As(err, &fe):
			if _, ok := c.Refused(); !ok {
				t.Fatal("*Error without Refused")
			}
		case err != io.EOF:
			t.Fatalf("Read: %v", err)
		case c.mode == modeDone:
			var found bool
			for _, r := range Reasons {
				if s := g.synthetic[r]; bytes.HasSuffix(out, s) {
					released, found = out[:len(out)-len(s)], true
				}
			}
			if !found {
				t.Fatalf("refused stream does not end with a synthetic request: %q", out)
			}
		}
		if !isInputLessEmptyLines(data, released) {
			t.Fatalf("released %q is not the input %q", released, data)
		}
		checkRequests(t, released, c.complete)
	})
}

// isInputLessEmptyLines reports whether out is a prefix of in with some
// CRLF pairs removed.
func isInputLessEmptyLines(in, out []byte) bool {
	i := 0
	for _, b := range out {
		for i < len(in) && in[i] != b && bytes.HasPrefix(in[i:], []byte("\r\n")) {
			i += 2
		}
		if i == len(in) || in[i] != b {
			return false
		}
		i++
	}
	return true
}

// checkRequests parses out with net/http: its first complete requests
// must be whole, as the guard found them; a request after them may only
// be cut short in its body (by the end of the input or a body violation).
func checkRequests(t *testing.T, out []byte, complete int) {
	br := bufio.NewReaderSize(bytes.NewReader(out), 64<<10)
	for i := 0; ; i++ {
		if _, err := br.Peek(1); err == io.EOF {
			if i < complete {
				t.Fatalf("released bytes %q: net/http found %d requests, the guard %d", out, i, complete)
			}
			return
		}
		if i > complete {
			t.Fatalf("released bytes %q: more than the guard's %d complete requests and a partial one", out, complete)
		}
		req, err := http.ReadRequest(br)
		if err != nil {
			t.Fatalf("released bytes %q: request %d: net/http: %v", out, i, err)
		}
		_, err = io.Copy(io.Discard, req.Body)
		if err != nil {
			if i == complete || strings.Contains(err.Error(), "too much non-data") {
				return // cut short, as expected
			}
			t.Fatalf("released bytes %q: request %d: net/http body: %v", out, i, err)
		}
		if i == complete {
			t.Fatalf("released bytes %q: request %d is whole for net/http, cut short for the guard", out, i)
		}
		if req.Header.Get("Upgrade") != "" && headerHasToken(req.Header, "Connection", "upgrade") {
			return // passed through from here on
		}
	}
}

// headerHasToken reports whether a comma-separated field of h holds token.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h[name] {
		for e := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(e), token) {
				return true
			}
		}
	}
	return false
}
