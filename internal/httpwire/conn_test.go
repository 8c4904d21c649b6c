package httpwire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
)

// scriptConn is a net.Conn whose reads return the scripted chunks in turn
// (an error in place of a chunk is returned as the read's error), then
// io.EOF.
type scriptConn struct {
	net.Conn // nil: only Read and Close are used
	chunks   [][]byte
	errs     map[int]error // chunk index -> error returned instead of it
	reads    int
	lastBuf  []byte // the slice passed to the last Read
	closed   bool
}

func script(chunks ...string) *scriptConn {
	s := &scriptConn{errs: map[int]error{}}
	for _, c := range chunks {
		s.chunks = append(s.chunks, []byte(c))
	}
	return s
}

func (s *scriptConn) Read(b []byte) (int, error) {
	s.lastBuf = b
	if s.closed {
		return 0, net.ErrClosed
	}
	for len(s.chunks) > 0 {
		i := s.reads
		if err, ok := s.errs[i]; ok {
			delete(s.errs, i)
			return 0, err
		}
		n := copy(b, s.chunks[0])
		s.chunks[0] = s.chunks[0][n:]
		if len(s.chunks[0]) == 0 {
			s.chunks = s.chunks[1:]
			s.reads++
		}
		return n, nil
	}
	return 0, io.EOF
}

func (s *scriptConn) Close() error { s.closed = true; return nil }

// readAll reads c to its end with reads of size n.
func readAll(c *Conn, n int) ([]byte, error) {
	var out []byte
	buf := make([]byte, n)
	for {
		k, err := c.Read(buf)
		out = append(out, buf[:k]...)
		if err != nil {
			return out, err
		}
	}
}

func synthetic(g *Guard, reason string) string { return string(g.synthetic[reason]) }

const (
	getReq     = "GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n"
	chunkedReq = "POST /c HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
)

func TestConnStreams(t *testing.T) {
	g := NewGuard(Limits{})
	tests := []struct {
		name    string
		chunks  []string
		want    string // everything Read returns
		wantErr error  // the error that ends it
	}{
		{"valid requests pass unchanged",
			[]string{getReq + chunkedReq + "5;x=y\r\nhello\r\n0\r\nX-T: 1\r\n\r\n" + getReq},
			getReq + chunkedReq + "5;x=y\r\nhello\r\n0\r\nX-T: 1\r\n\r\n" + getReq, io.EOF},
		{"head and malformed body in one read: refused before release",
			[]string{chunkedReq + "5\r\nhello\r\n0x0\r\n\r\n"},
			synthetic(g, ReasonBadChunk), io.EOF},
		{"pipelined valid request released, then the refusal",
			[]string{getReq + "GET / HTTP/1.1\nHost: a\r\n\r\n"},
			getReq + synthetic(g, ReasonBareLF), io.EOF},
		{"smuggled request after a chunked body",
			[]string{chunkedReq + "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"},
			chunkedReq + "0\r\n\r\n" + synthetic(g, ReasonBadContentLength), io.EOF},
		{"incomplete head is held until EOF",
			[]string{getReq + "GET / HTTP/1.1\r\nHost: a\r\n"},
			getReq, io.EOF},
		{"head split across reads",
			[]string{"GET /a HTT", "P/1.1\r\nHost: exam", "ple.com\r", "\n\r", "\n"},
			getReq, io.EOF},
		{"empty lines before requests are dropped",
			[]string{"\r\n\r\n" + getReq + "\r\n" + getReq, "\r\n", "\r\n" + getReq},
			getReq + getReq + getReq, io.EOF},
		{"body violation after the head was released",
			[]string{chunkedReq + "5\r\nhel", "lo\r\n5\r\nworldX"},
			chunkedReq + "5\r\nhello\r\n5\r\nworld", &Error{Code: ReasonBadChunk}},
		{"content-length body then next request",
			[]string{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234", "56789" + getReq},
			"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789" + getReq, io.EOF},
		{"content-length body may hold anything",
			[]string{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n\n\r\x00\xff\r\n" + getReq},
			"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n\n\r\x00\xff\r\n" + getReq, io.EOF},
		{"upgrade passes the rest through",
			[]string{"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello\nGET / HTTP/1.1\n\n", "\x00\xff"},
			"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello\nGET / HTTP/1.1\n\n\x00\xff", io.EOF},
		{"upgrade with a body passes through after it",
			[]string{"POST /ws HTTP/1.1\r\nHost: a\r\nUpgrade: foo\r\nConnection: upgrade\r\nContent-Length: 2\r\n\r\nab\n\n"},
			"POST /ws HTTP/1.1\r\nHost: a\r\nUpgrade: foo\r\nConnection: upgrade\r\nContent-Length: 2\r\n\r\nab\n\n", io.EOF},
		{"upgrade without the connection option does not end validation",
			[]string{"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\nGET /admin HTTP/1.1\nHost: a\n\n"},
			"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n" + synthetic(g, ReasonBareLF), io.EOF},
		{"h2c upgrade refused",
			[]string{"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n"},
			synthetic(g, ReasonH2CUpgrade), io.EOF},
	}
	for _, tt := range tests {
		for _, size := range []int{1, 7, 4096} {
			c := g.Wrap(script(tt.chunks...))
			got, err := readAll(c, size)
			if string(got) != tt.want {
				t.Errorf("%s, reads of %d:\n got %q\nwant %q", tt.name, size, got, tt.want)
			}
			var ge, we *Error
			if errors.As(tt.wantErr, &we) {
				if !errors.As(err, &ge) || *ge != *we {
					t.Errorf("%s, reads of %d: err = %v, want %v", tt.name, size, err, tt.wantErr)
				}
				if r, ok := c.Refused(); !ok || r != we.Code {
					t.Errorf("%s: Refused() = %q, %v; want %q, true", tt.name, r, ok, we.Code)
				}
			} else {
				if err != tt.wantErr {
					t.Errorf("%s, reads of %d: err = %v, want %v", tt.name, size, err, tt.wantErr)
				}
				if r, ok := c.Refused(); ok {
					t.Errorf("%s: Refused() = %q, true; want false", tt.name, r)
				}
			}
			c.Close()
		}
	}
}

// The same bytes, delivered one at a time, are released identically.
func TestConnByteAtATime(t *testing.T) {
	g := NewGuard(Limits{})
	in := "\r\n" + getReq + chunkedReq + "5;a=\"b\"\r\nhello\r\n0\r\nX: y\r\n\r\n" +
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc" + getReq
	var chunks []string
	for i := range len(in) {
		chunks = append(chunks, in[i:i+1])
	}
	got, err := readAll(g.Wrap(script(chunks...)), 4096)
	if want := in[2:]; string(got) != want || err != io.EOF {
		t.Fatalf("got %q, %v; want %q, EOF", got, err, want)
	}
}

// A Content-Length body with nothing buffered is read straight into the
// caller's buffer, never past its end.
func TestConnContentLengthDirect(t *testing.T) {
	g := NewGuard(Limits{})
	head := "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n"
	body := strings.Repeat("x", 100000)
	s := script(head, body[:60000], body[60000:]+getReq)
	c := g.Wrap(s)
	buf := make([]byte, len(head))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != head {
		t.Fatalf("head: %q, %v", buf, err)
	}
	big := make([]byte, 200000)
	n, err := c.Read(big)
	if err != nil || n != 60000 {
		t.Fatalf("Read = %d, %v; want 60000", n, err)
	}
	if &s.lastBuf[0] != &big[0] {
		t.Fatal("body was not read into the caller's buffer")
	}
	n, err = c.Read(big)
	if err != nil || n != 40000 || len(s.lastBuf) != 40000 {
		t.Fatalf("Read = %d, %v, asked the conn for %d; want 40000 each", n, err, len(s.lastBuf))
	}
	rest, err := readAll(c, 4096)
	if string(rest) != getReq || err != io.EOF {
		t.Fatalf("after the body: %q, %v", rest, err)
	}
}

// A timeout while a head is incomplete leaves the guard's state intact.
func TestConnTimeoutKeepsState(t *testing.T) {
	g := NewGuard(Limits{})
	s := script("GET /a HTTP/1.1\r\n", "Host: example.com\r\n\r\n")
	s.errs[1] = os.ErrDeadlineExceeded
	c := g.Wrap(s)
	buf := make([]byte, 100)
	if n, err := c.Read(buf); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read = %d, %v; want the timeout", n, err)
	}
	got, err := readAll(c, 100)
	if string(got) != getReq || err != io.EOF {
		t.Fatalf("after the timeout: %q, %v", got, err)
	}
}

func TestConnCloseReturnsBuffer(t *testing.T) {
	g := NewGuard(Limits{})
	s := script("GET /a HTTP/1.1\r\n")
	c := g.Wrap(s)
	if _, err := c.Read(make([]byte, 10)); err != io.EOF {
		t.Fatalf("Read: %v", err)
	}
	if c.bufp == nil {
		t.Fatal("no buffer while a head is held")
	}
	c.Close()
	if c.bufp != nil || !s.closed {
		t.Fatal("Close kept the buffer or did not close the conn")
	}
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
}

func TestConnRefusalFreesBuffer(t *testing.T) {
	g := NewGuard(Limits{})
	c := g.Wrap(script("GET / HTTP/3.0\r\n\r\n"))
	got, err := readAll(c, 4096)
	if string(got) != synthetic(g, ReasonBadVersion) || err != io.EOF {
		t.Fatalf("got %q, %v", got, err)
	}
	if c.bufp != nil {
		t.Fatal("buffer kept after the refusal was returned")
	}
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("Read after EOF: %v", err)
	}
}

// An oversized head is refused without reading further.
func TestConnRefusesOversizedHeadEarly(t *testing.T) {
	g := NewGuard(Limits{})
	line := "GET /" + strings.Repeat("a", 9<<10)
	s := script(line, " HTTP/1.1\r\nHost: a\r\n\r\n")
	got, err := readAll(g.Wrap(s), 4096)
	if string(got) != synthetic(g, ReasonURITooLong) || err != io.EOF {
		t.Fatalf("got %q, %v", got, err)
	}
	if len(s.chunks) != 1 {
		t.Fatal("the guard read past the limit")
	}
}

func TestRefusal(t *testing.T) {
	g := NewGuard(Limits{})
	other := NewGuard(Limits{MaxHeaderBytes: 1 << 10})
	for _, reason := range Reasons {
		c := g.Wrap(script())
		c.refuse(0, reason)
		raw, _ := readAll(c, 4096)
		r, err := readRequest(raw)
		if err != nil {
			t.Fatalf("%s: synthetic request does not parse: %v", reason, err)
		}
		if got, ok := g.Refusal(r); !ok || got != reason {
			t.Errorf("Refusal = %q, %v; want %q, true", got, ok, reason)
		}
		if got, ok := other.Refusal(r); !ok || got != reason {
			t.Errorf("another guard: Refusal = %q, %v; want %q, true", got, ok, reason)
		}
		if r.Host != refusedHost || !r.Close {
			t.Errorf("synthetic request: Host %q, Close %v", r.Host, r.Close)
		}
	}
	forged := []string{
		"",
		"00 " + ReasonBadHost,
		strings.Repeat("0", 64) + " " + ReasonBadHost,
		g.secret + " framing.unknown",
		g.secret + ReasonBadHost,
		g.secret + " ",
	}
	for _, v := range forged {
		r, err := readRequest([]byte("GET / HTTP/1.1\r\nHost: a\r\n" + RefusalHeader + ": " + v + "\r\n\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := g.Refusal(r); ok {
			t.Errorf("forged %q: Refusal = %q, true", v, got)
		}
	}
	r, _ := readRequest([]byte(getReq))
	if _, ok := g.Refusal(r); ok {
		t.Error("plain request reported as refused")
	}
	two, _ := readRequest(g.synthetic[ReasonBadHost])
	two.Header.Add(RefusalHeader, two.Header.Get(RefusalHeader))
	if _, ok := g.Refusal(two); ok {
		t.Error("two refusal fields accepted")
	}
}

func TestReasonsAreComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Reasons {
		if !strings.HasPrefix(r, "framing.") || seen[r] {
			t.Errorf("bad or duplicate reason %q", r)
		}
		seen[r] = true
	}
	if len(seen) != 14 {
		t.Errorf("%d reasons, want 14", len(seen))
	}
}

// readRequest parses raw with net/http's own request parser.
func readRequest(raw []byte) (*http.Request, error) {
	return http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
}
