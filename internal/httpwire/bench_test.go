package httpwire

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// browserGET is a typical browser request head (~400 bytes).
const browserGET = "GET /api/v1/items?page=2&sort=desc HTTP/1.1\r\n" +
	"Host: app.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: application/json, text/plain, */*\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Referer: https://app.example.com/items\r\n" +
	"Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2lnbmF0dXJl\r\n" +
	"Connection: keep-alive\r\n" +
	"Sec-Fetch-Mode: cors\r\n" +
	"\r\n"

// repeatConn returns msg over and over, each Read stopping at the end of a
// copy, as if each request arrived on its own.
type repeatConn struct {
	net.Conn
	msg []byte
	off int
}

func (r *repeatConn) Read(b []byte) (int, error) {
	n := copy(b, r.msg[r.off:])
	r.off = (r.off + n) % len(r.msg)
	return n, nil
}

// benchRead reads one copy of msg from c per iteration with reads of size
// bufSize.
func benchRead(b *testing.B, c net.Conn, msg string, bufSize int) {
	buf := make([]byte, bufSize)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		for n := 0; n < len(msg); {
			k, err := c.Read(buf)
			if err != nil {
				b.Fatal(err)
			}
			n += k
		}
	}
}

func BenchmarkGuardGET(b *testing.B) {
	g := NewGuard(Limits{})
	benchRead(b, g.Wrap(&repeatConn{msg: []byte(browserGET)}), browserGET, 4096)
}

// BenchmarkBaselineGET reads the same bytes without the guard.
func BenchmarkBaselineGET(b *testing.B) {
	benchRead(b, &repeatConn{msg: []byte(browserGET)}, browserGET, 4096)
}

const post64K = "POST /upload HTTP/1.1\r\nHost: app.example.com\r\nContent-Type: application/octet-stream\r\nContent-Length: 65536\r\n\r\n"

func BenchmarkGuardContentLength64K(b *testing.B) {
	msg := post64K + strings.Repeat("x", 64<<10)
	g := NewGuard(Limits{})
	benchRead(b, g.Wrap(&repeatConn{msg: []byte(msg)}), msg, 32<<10)
}

func BenchmarkBaselineContentLength64K(b *testing.B) {
	msg := post64K + strings.Repeat("x", 64<<10)
	benchRead(b, &repeatConn{msg: []byte(msg)}, msg, 32<<10)
}

func BenchmarkGuardChunked64K(b *testing.B) {
	msg := "POST /upload HTTP/1.1\r\nHost: app.example.com\r\nTransfer-Encoding: chunked\r\n\r\n" +
		strings.Repeat("2000\r\n"+strings.Repeat("x", 0x2000)+"\r\n", 8) + "0\r\n\r\n"
	g := NewGuard(Limits{})
	benchRead(b, g.Wrap(&repeatConn{msg: []byte(msg)}), msg, 32<<10)
}

// BenchmarkServeGET measures a keep-alive GET over loopback TCP through
// net/http, with and without the guard.
func BenchmarkServeGET(b *testing.B) {
	for _, guarded := range []bool{false, true} {
		name := "direct"
		if guarded {
			name = "guarded"
		}
		b.Run(name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			g := NewGuard(Limits{})
			if guarded {
				ln = guardListener{ln, g}
			}
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, ok := g.Refusal(r); ok {
					b.Error("refused")
				}
				io.WriteString(w, "ok")
			})}
			go srv.Serve(ln)
			defer srv.Close()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := io.WriteString(c, browserGET); err != nil {
					b.Fatal(err)
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
