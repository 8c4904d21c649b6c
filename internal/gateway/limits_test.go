package gateway_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const limitsYAML = `
listen: ${LISTEN}
admin:
  listen: ${ADMIN_LISTEN}
limits:
  max_header_bytes: 4KiB
  max_request_line_bytes: 1KiB
  max_header_count: 100
  read_header_timeout: ${READ_HEADER_TIMEOUT:-10s}
  read_timeout: ${READ_TIMEOUT:-10s}
  idle_timeout: 10s
  max_connections: ${MAX_CONNECTIONS:-10000}
  max_connections_per_ip: ${MAX_CONNECTIONS_PER_IP:-0}
upstreams:
  app:
    url: ${UPSTREAM}
routes:
  - name: small
    match: {path_prefix: /small/}
    max_body_bytes: 1KiB
    upstream: app
  - name: api
    match: {path_prefix: /api/}
    upstream: app
`

// TestHeadLimits covers HTTP-07 and HTTP-08 of the attack catalogue: a
// request head over a configured limit is refused by the framing guard
// with the limit's status, and never forwarded.
func TestHeadLimits(t *testing.T) {
	e := startEnv(t, limitsYAML)
	fields := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "X-H%d: a\r\n", i)
		}
		return b.String()
	}
	tests := []struct {
		name   string
		req    string
		status int
		reason string // "" for a forwarded request
	}{
		{
			name:   "field section over max_header_bytes",
			req:    "GET /api/x HTTP/1.1\r\nHost: gw.test\r\nX-Big: " + strings.Repeat("a", 8<<10) + "\r\n\r\n",
			status: 431, reason: "framing.headers_too_large",
		},
		{
			name:   "200 fields over max_header_count 100",
			req:    "GET /api/x HTTP/1.1\r\nHost: gw.test\r\n" + fields(199) + "\r\n",
			status: 431, reason: "framing.headers_too_large",
		},
		{
			name:   "request line over max_request_line_bytes",
			req:    "GET /api/" + strings.Repeat("a", 2<<10) + " HTTP/1.1\r\nHost: gw.test\r\n\r\n",
			status: 414, reason: "framing.uri_too_long",
		},
		{
			name:   "100 fields (Host included) is within max_header_count",
			req:    "GET /api/x HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n" + fields(98) + "\r\n",
			status: 200,
		},
		{
			name:   "request line just under max_request_line_bytes",
			req:    "GET /api/" + strings.Repeat("a", 1000) + " HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n",
			status: 200,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.up.hits.Load()
			resp := rawResponse(t, raw(t, e.addr, []byte(tt.req), 5*time.Second))
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			hits := e.up.hits.Load() - before
			if tt.reason == "" {
				if hits != 1 {
					t.Errorf("upstream hits = %d, want 1", hits)
				}
				return
			}
			if p := readProblem(t, resp); p.Reason != tt.reason {
				t.Errorf("reason = %q, want %q", p.Reason, tt.reason)
			}
			if hits != 0 {
				t.Errorf("upstream hits = %d, want 0 for a refused request", hits)
			}
		})
	}
}

// bodyUpstream is an upstream that counts requests and remembers the
// largest body it read whole or in part.
type bodyUpstream struct {
	*httptest.Server
	hits    atomic.Int64
	maxBody atomic.Int64
}

func newBodyUpstream(t *testing.T) *bodyUpstream {
	u := &bodyUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		n, _ := io.Copy(io.Discard, r.Body)
		for {
			cur := u.maxBody.Load()
			if n <= cur || u.maxBody.CompareAndSwap(cur, n) {
				break
			}
		}
	}))
	t.Cleanup(u.Close)
	return u
}

// TestBodyLimit checks the route's max_body_bytes (1 KiB here) for both
// kinds of body framing.
func TestBodyLimit(t *testing.T) {
	up := newBodyUpstream(t)
	e := startEnv(t, limitsYAML, func(e *env) { e.vars["UPSTREAM"] = up.URL })

	t.Run("Content-Length at the cap is forwarded", func(t *testing.T) {
		before := up.hits.Load()
		req := "POST /small/at-cap HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 1024\r\nConnection: close\r\n\r\n" + strings.Repeat("b", 1024)
		resp := rawResponse(t, raw(t, e.addr, []byte(req), 5*time.Second))
		if resp.StatusCode != 200 {
			t.Fatalf("status = %d, want 200", resp.StatusCode)
		}
		if n := up.hits.Load() - before; n != 1 {
			t.Errorf("upstream hits = %d, want 1", n)
		}
	})

	t.Run("Content-Length over the cap is refused before forwarding", func(t *testing.T) {
		before := up.hits.Load()
		req := "POST /small/x HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 2000\r\n\r\n" + strings.Repeat("b", 2000)
		resp := rawResponse(t, raw(t, e.addr, []byte(req), 5*time.Second))
		if resp.StatusCode != 413 {
			t.Fatalf("status = %d, want 413", resp.StatusCode)
		}
		if p := readProblem(t, resp); p.Reason != "request.body_too_large" {
			t.Errorf("reason = %q, want request.body_too_large", p.Reason)
		}
		if n := up.hits.Load() - before; n != 0 {
			t.Errorf("upstream hits = %d, want 0", n)
		}
	})

	t.Run("chunked body over the cap", func(t *testing.T) {
		// The length of a chunked body is known only once it has been
		// read, so the request head is forwarded and the body is cut at
		// the cap: the upstream may see the head and a truncated body,
		// never the whole, and the client gets 413.
		const total = 64 << 10
		before := up.hits.Load()
		up.maxBody.Store(0)
		var b strings.Builder
		b.WriteString("POST /small/x HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\n\r\n")
		for range total / 512 {
			b.WriteString("200\r\n" + strings.Repeat("c", 512) + "\r\n")
		}
		b.WriteString("0\r\n\r\n")
		resp := rawResponse(t, raw(t, e.addr, []byte(b.String()), 5*time.Second))
		if resp.StatusCode != 413 {
			t.Fatalf("status = %d, want 413", resp.StatusCode)
		}
		if p := readProblem(t, resp); p.Reason != "request.body_too_large" {
			t.Errorf("reason = %q, want request.body_too_large", p.Reason)
		}
		if !resp.Close {
			t.Error("413 without Connection: close; the rest of the body is unread")
		}
		// The upstream's handler may still be reading what it got.
		time.Sleep(100 * time.Millisecond)
		if n := up.maxBody.Load(); n > 1024 {
			t.Errorf("upstream read %d body bytes, want at most the 1024-byte cap", n)
		}
		t.Logf("upstream hits %d, largest body read %d bytes", up.hits.Load()-before, up.maxBody.Load())
	})
}

// dripResult is when and how the gateway ended a connection that was fed
// one byte at a time.
type dripResult struct {
	elapsed time.Duration // from the first byte dripped
	reply   string        // what the gateway wrote, if anything
	closed  bool          // false if the gateway never closed within the limit
}

// drip writes prefix at once, then the bytes of slow one every interval
// (repeating slow if it runs out), until the gateway closes the connection
// or limit passes.
func drip(t *testing.T, addr, prefix, slow string, interval, limit time.Duration) dripResult {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if prefix != "" {
		if _, err := io.WriteString(c, prefix); err != nil {
			t.Fatal(err)
		}
	}
	// The reader notices the close; the writer stops once it does, or
	// once a write fails (the peer closed).
	done := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(c)
		done <- string(b)
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	deadline := time.After(limit)
	for i := 0; ; i++ {
		select {
		case reply := <-done:
			return dripResult{elapsed: time.Since(start), reply: reply, closed: true}
		case <-deadline:
			return dripResult{elapsed: time.Since(start)}
		case <-tick.C:
			_, _ = c.Write([]byte{slow[i%len(slow)]})
		}
	}
}

// TestSlowClients: a client that sends its head or body too slowly is cut
// off by the read timeouts even though it never stops sending. The bounds
// leave room for a busy machine; idle_timeout (10s) is far beyond them.
func TestSlowClients(t *testing.T) {
	e := startEnv(t, limitsYAML, func(e *env) {
		e.vars["READ_HEADER_TIMEOUT"] = "500ms"
		e.vars["READ_TIMEOUT"] = "1s"
	})
	slowHeader := "X-Slow-" + strings.Repeat("a", 100) // never ends its line

	t.Run("slowloris on a new connection: read_header_timeout", func(t *testing.T) {
		r := drip(t, e.addr, "GET /api/x HTTP/1.1\r\nHost: gw.test\r\n", slowHeader, 100*time.Millisecond, 6*time.Second)
		if !r.closed {
			t.Fatalf("connection still open after %v; read_header_timeout is 500ms", r.elapsed)
		}
		if r.elapsed > 4*time.Second {
			t.Errorf("cut off after %v, want about read_header_timeout (500ms)", r.elapsed)
		}
		t.Logf("cut off after %v, reply %q", r.elapsed, firstLine(r.reply))
	})

	t.Run("slowloris on a keep-alive connection: read_header_timeout", func(t *testing.T) {
		// The second request's head is dripped after a first, complete
		// request: the head deadline must run from its first byte, not
		// from idle_timeout (10s here).
		first := "GET /api/x HTTP/1.1\r\nHost: gw.test\r\n\r\n"
		r := drip(t, e.addr, first, "GET /api/y HTTP/1.1\r\nHost: gw.test\r\n"+slowHeader, 100*time.Millisecond, 6*time.Second)
		if !r.closed {
			t.Fatalf("connection still open after %v; read_header_timeout is 500ms", r.elapsed)
		}
		if r.elapsed > 4*time.Second {
			t.Errorf("cut off after %v, want about read_header_timeout (500ms)", r.elapsed)
		}
		if !strings.HasPrefix(r.reply, "HTTP/1.1 200 ") {
			t.Errorf("first request: reply %q, want 200", firstLine(r.reply))
		}
	})

	t.Run("slow body (R.U.D.Y.): read_timeout", func(t *testing.T) {
		before := e.up.hits.Load()
		r := drip(t, e.addr, "POST /api/x HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 1000000\r\n\r\n", "d", 100*time.Millisecond, 6*time.Second)
		if !r.closed {
			t.Fatalf("connection still open after %v; read_timeout is 1s", r.elapsed)
		}
		if r.elapsed > 4*time.Second {
			t.Errorf("cut off after %v, want about read_timeout (1s)", r.elapsed)
		}
		t.Logf("cut off after %v, reply %q, upstream hits %d", r.elapsed, firstLine(r.reply), e.up.hits.Load()-before)
	})
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

// scrape returns the value of one sample of the admin listener's
// /metrics, such as `drawbridge_config_reloads_total{result="ok"}`, or 0
// when the sample is absent.
func scrape(t *testing.T, e *env, sample string) float64 {
	t.Helper()
	resp, err := http.Get(e.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", sample, err)
			}
			return f
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return 0
}

// TestConnectionCaps: connections beyond max_connections (or
// max_connections_per_ip) are closed at accept and counted; a slot is
// freed when a connection closes.
func TestConnectionCaps(t *testing.T) {
	t.Run("max_connections", func(t *testing.T) {
		e := startEnv(t, limitsYAML, func(e *env) { e.vars["MAX_CONNECTIONS"] = "3" })
		held := holdConns(t, e.addr, nil, 3)
		assertRefusedAtAccept(t, e.addr, nil)
		if got := scrape(t, e, `drawbridge_connections_refused_total{reason="max_connections"}`); got != 1 {
			t.Errorf("connections refused (max_connections) = %v, want 1", got)
		}
		// Every held connection still works.
		for i, c := range held {
			if status := getOnConn(t, c, "/api/held"); status != 200 {
				t.Errorf("held connection %d: status %d, want 200", i, status)
			}
		}
		held[0].Close()
		waitServed(t, e.addr, nil)
	})

	t.Run("max_connections_per_ip", func(t *testing.T) {
		e := startEnv(t, limitsYAML, func(e *env) { e.vars["MAX_CONNECTIONS_PER_IP"] = "2" })
		held := holdConns(t, e.addr, nil, 2)
		assertRefusedAtAccept(t, e.addr, nil)
		if got := scrape(t, e, `drawbridge_connections_refused_total{reason="max_connections_per_ip"}`); got != 1 {
			t.Errorf("connections refused (max_connections_per_ip) = %v, want 1", got)
		}
		// Another client address still gets in: the cap is per address.
		other := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}
		oc := holdConns(t, e.addr, other, 1)[0]
		if status := getOnConn(t, oc, "/api/other"); status != 200 {
			t.Errorf("second address: status %d, want 200", status)
		}
		held[1].Close()
		waitServed(t, e.addr, nil)
	})
}

// holdConns opens n connections from local (nil: any) and makes sure
// the gateway has admitted each by serving a request on it.
func holdConns(t *testing.T, addr string, local net.Addr, n int) []net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: local, Timeout: 2 * time.Second}
	var out []net.Conn
	for i := range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if status := getOnConn(t, c, "/api/hold"); status != 200 {
			t.Fatalf("connection %d: status %d, want 200", i, status)
		}
		out = append(out, c)
	}
	return out
}

// getOnConn sends one keep-alive GET on c and returns the status.
func getOnConn(t *testing.T, c net.Conn, path string) int {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: gw.test\r\n\r\n", path); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The JSON echo is small and read whole by the bufio.Reader, which
	// is then discarded: the next request starts on a clean connection.
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// assertRefusedAtAccept dials and checks that the gateway closes the
// connection without reading a request.
func assertRefusedAtAccept(t *testing.T, addr string, local net.Addr) {
	t.Helper()
	d := net.Dialer{LocalAddr: local, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err) // the kernel completes the handshake; the gateway closes
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := c.Read(make([]byte, 1))
	var ne net.Error
	switch {
	case n > 0:
		t.Fatal("connection over the cap was answered")
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatal("connection over the cap is still open after 2s")
	case errors.Is(err, io.EOF), errors.Is(err, os.ErrClosed), err != nil:
		// closed (EOF, or reset): refused
	}
}

// waitServed dials until a request is answered with 200: a slot freed
// by a client's close is released once the gateway sees the close.
func waitServed(t *testing.T, addr string, local net.Addr) {
	t.Helper()
	d := net.Dialer{LocalAddr: local, Timeout: 2 * time.Second}
	deadline := time.Now().Add(3 * time.Second)
	for {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		_, _ = io.WriteString(c, "GET /api/again HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err == nil && resp.StatusCode == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection admitted 3s after a slot was freed (last error %v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
