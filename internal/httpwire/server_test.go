package httpwire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// event is what the test handler saw of one request.
type event struct {
	Refused string // the refusal reason, for a synthetic request
	Method  string
	Target  string
	Host    string
	Body    string
	Trailer string // the X-Checksum trailer
	BodyErr string // the *Error reason, or the error text, of reading the body
}

// guardListener wraps every accepted connection, as the gateway does.
type guardListener struct {
	net.Listener
	g *Guard
}

func (l guardListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.g.Wrap(c), nil
}

type connKey struct{}

// testServer is a real net/http server on 127.0.0.1:0 behind a guard. Its
// handler records what it sees; a refusal is answered 400, as the gateway
// would.
type testServer struct {
	t      *testing.T
	addr   string
	guard  *Guard
	closed chan struct{} // a value per connection closed or hijacked

	// hook, if set, handles non-refused requests instead of the recorder.
	hook func(w http.ResponseWriter, r *http.Request)

	mu     sync.Mutex
	events []event
}

func newTestServer(t *testing.T, lim Limits) *testServer {
	t.Helper()
	return newTestServerWith(t, lim, nil)
}

// newTestServerWith lets configure adjust the server before it starts.
func newTestServerWith(t *testing.T, lim Limits, configure func(*http.Server)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, addr: ln.Addr().String(), guard: NewGuard(lim), closed: make(chan struct{}, 64)}
	srv := &http.Server{
		Handler:           http.HandlerFunc(ts.serve),
		ReadHeaderTimeout: 10 * time.Second,
		// Let "OPTIONS *" reach the handler.
		DisableGeneralOptionsHandler: true,
		ErrorLog:                     log.New(io.Discard, "", 0),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c.(*Conn))
		},
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateClosed || s == http.StateHijacked {
				ts.closed <- struct{}{}
			}
		},
	}
	if configure != nil {
		configure(srv)
	}
	go srv.Serve(guardListener{ln, ts.guard})
	t.Cleanup(func() { srv.Close() })
	return ts
}

func (ts *testServer) serve(w http.ResponseWriter, r *http.Request) {
	if reason, ok := ts.guard.Refusal(r); ok {
		ts.record(event{Refused: reason})
		http.Error(w, reason, http.StatusBadRequest)
		return
	}
	if ts.hook != nil {
		ts.hook(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	e := event{Method: r.Method, Target: r.RequestURI, Host: r.Host, Body: string(body), Trailer: r.Trailer.Get("X-Checksum")}
	if err != nil {
		e.BodyErr = errorReason(err)
	}
	ts.record(e)
	if r.Header.Get("Upgrade") != "" {
		w.Header().Set("Connection", "close") // the upgrade did not happen
	}
	fmt.Fprintf(w, "ok %d", len(body))
}

func errorReason(err error) string {
	if fe, ok := errors.AsType[*Error](err); ok {
		return fe.Reason()
	}
	return err.Error()
}

func (ts *testServer) record(e event) {
	ts.mu.Lock()
	ts.events = append(ts.events, e)
	ts.mu.Unlock()
}

// waitClosed waits until the server has finished with one connection.
func (ts *testServer) waitClosed() {
	ts.t.Helper()
	select {
	case <-ts.closed:
	case <-time.After(10 * time.Second):
		ts.t.Fatal("server did not close the connection")
	}
}

func (ts *testServer) takeEvents() []event {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	e := ts.events
	ts.events = nil
	return e
}

// send writes each of writes on one new connection, reading one response
// after every write but the last, then half-closes, reads until the
// server closes, and returns the handler's events.
func (ts *testServer) send(writes ...string) []event {
	ts.t.Helper()
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for i, w := range writes {
		if i < len(writes)-1 {
			if _, err := io.WriteString(c, w); err != nil {
				ts.t.Fatal(err)
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				ts.t.Fatalf("response to write %d: %v", i, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			continue
		}
		// The server may stop reading (a refused oversized head): write
		// from a goroutine and ignore the error.
		done := make(chan struct{})
		go func() {
			defer close(done)
			io.WriteString(c, w)
			c.(*net.TCPConn).CloseWrite()
		}()
		io.Copy(io.Discard, br) // until the server closes (or resets)
		c.Close()
		<-done
	}
	ts.waitClosed()
	return ts.takeEvents()
}

func refused(reason string) []event { return []event{{Refused: reason}} }

func TestServerValidRequests(t *testing.T) {
	const host = "Host: example.com\r\n"
	get := func(path string) event { return event{Method: "GET", Target: path, Host: "example.com"} }
	tests := []struct {
		name   string
		writes []string
		want   []event
	}{
		{"get",
			[]string{"GET /a?b=c HTTP/1.1\r\n" + host + "User-Agent: test\r\n\r\n"},
			[]event{get("/a?b=c")}},
		{"post with content-length",
			[]string{"POST /p HTTP/1.1\r\n" + host + "Content-Length: 11\r\n\r\nhello world"},
			[]event{{Method: "POST", Target: "/p", Host: "example.com", Body: "hello world"}}},
		{"chunked with extensions and trailers",
			[]string{"POST /c HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n" +
				"5;name=value\r\nhello\r\n6;a;b=\"q s\"\r\n world\r\n0;end\r\nX-Checksum: abc\r\n\r\n"},
			[]event{{Method: "POST", Target: "/c", Host: "example.com", Body: "hello world", Trailer: "abc"}}},
		{"keep-alive, three requests",
			[]string{"GET /1 HTTP/1.1\r\n" + host + "\r\n",
				"POST /2 HTTP/1.1\r\n" + host + "Content-Length: 3\r\n\r\nabc",
				"POST /3 HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"},
			[]event{get("/1"),
				{Method: "POST", Target: "/2", Host: "example.com", Body: "abc"},
				{Method: "POST", Target: "/3", Host: "example.com", Body: "xyz"}}},
		{"pipelined in one write",
			[]string{"GET /1 HTTP/1.1\r\n" + host + "\r\n" +
				"POST /2 HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n" +
				"POST /3 HTTP/1.1\r\n" + host + "Content-Length: 3\r\n\r\nabc" +
				"GET /4 HTTP/1.1\r\n" + host + "\r\n"},
			[]event{get("/1"),
				{Method: "POST", Target: "/2", Host: "example.com", Body: "xyz"},
				{Method: "POST", Target: "/3", Host: "example.com", Body: "abc"},
				get("/4")}},
		{"content-length with trailing OWS",
			[]string{"POST / HTTP/1.1\r\n" + host + "Content-Length: 6 \r\n\r\nabcdef"},
			[]event{{Method: "POST", Target: "/", Host: "example.com", Body: "abcdef"}}},
		{"transfer-encoding after HTAB",
			[]string{"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding:\tchunked\r\n\r\n6\r\nabcdef\r\n0\r\n\r\n"},
			[]event{{Method: "POST", Target: "/", Host: "example.com", Body: "abcdef"}}},
		{"empty lines before request lines",
			[]string{"\r\n\r\nPOST /1 HTTP/1.1\r\n" + host + "Content-Length: 1\r\n\r\nx\r\n\r\nGET /2 HTTP/1.1\r\n" + host + "\r\n"},
			[]event{{Method: "POST", Target: "/1", Host: "example.com", Body: "x"}, get("/2")}},
		{"absolute-form target sets the host",
			[]string{"GET http://api.example/x HTTP/1.1\r\n" + host + "\r\n"},
			[]event{{Method: "GET", Target: "http://api.example/x", Host: "api.example"}}},
		{"options asterisk",
			[]string{"OPTIONS * HTTP/1.1\r\n" + host + "\r\n"},
			[]event{{Method: "OPTIONS", Target: "*", Host: "example.com"}}},
		{"http/1.0 without host",
			[]string{"GET /old HTTP/1.0\r\n\r\n"},
			[]event{{Method: "GET", Target: "/old"}}},
		{"obs-text in an ordinary value",
			[]string{"GET / HTTP/1.1\r\n" + host + "X-Name: caf\xe9\r\n\r\n"},
			[]event{get("/")}},
		{"large content-length body",
			[]string{"POST /big HTTP/1.1\r\n" + host + "Content-Length: 300000\r\n\r\n" + strings.Repeat("b", 300000) + "GET /after HTTP/1.1\r\n" + host + "\r\n"},
			[]event{{Method: "POST", Target: "/big", Host: "example.com", Body: strings.Repeat("b", 300000)}, get("/after")}},
		{"large chunked body",
			[]string{"POST /big HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n" +
				strings.Repeat("4000\r\n"+strings.Repeat("c", 0x4000)+"\r\n", 20) + "0\r\n\r\n" + "GET /after HTTP/1.1\r\n" + host + "\r\n"},
			[]event{{Method: "POST", Target: "/big", Host: "example.com", Body: strings.Repeat("c", 20*0x4000)}, get("/after")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, Limits{})
			got := ts.send(tt.writes...)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("handler saw\n%s\nwant\n%s", fmtEvents(got), fmtEvents(tt.want))
			}
		})
	}
}

func TestServerRefusedRequests(t *testing.T) {
	const host = "Host: example.com\r\n"
	tests := []struct {
		name   string
		writes []string
		want   []event
	}{
		{"look-ahead: head and malformed chunked body in one write",
			[]string{"POST /admin HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5 \r\nworld\r\n0\r\n\r\n"},
			refused(ReasonBadChunk)},
		{"pipelined: the valid request is served, the next refused",
			[]string{"GET /ok HTTP/1.1\r\n" + host + "\r\nGET /bad HTTP/1.1\r\n" + host + "Content-Length: 1\r\nContent-Length: 1\r\n\r\nx"},
			[]event{{Method: "GET", Target: "/ok", Host: "example.com"}, {Refused: ReasonBadContentLength}}},
		{"keep-alive: the second request is refused",
			[]string{"GET /ok HTTP/1.1\r\n" + host + "\r\n", "GET /bad HTTP/1.1\r\n" + host + "X_Forwarded_For: 1\r\n\r\n"},
			[]event{{Method: "GET", Target: "/ok", Host: "example.com"}, {Refused: ReasonBadHeader}}},
		{"forged refusal header", []string{"GET / HTTP/1.1\r\n" + host + "Drawbridge-Refusal: x framing.bad_host\r\n\r\n"}, refused(ReasonBadHeader)},
		{"fragment", []string{"GET /admin# HTTP/1.1\r\n" + host + "\r\n"}, refused(ReasonBadRequestLine)},
		{"too many fields", []string{"GET / HTTP/1.1\r\n" + host + strings.Repeat("X-A: 1\r\n", 100) + "\r\n"}, refused(ReasonHeadersTooLarge)},
		{"connect", []string{"CONNECT example.com:443 HTTP/1.1\r\n" + host + "\r\n"}, refused(ReasonMethodNotAllowed)},
		{"http/2.0 get", []string{"GET / HTTP/2.0\r\n" + host + "\r\n"}, refused(ReasonBadVersion)},
		{"prior knowledge", []string{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"}, refused(ReasonH2CUpgrade)},
		{"chunk size 0x", []string{"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n"}, refused(ReasonBadChunk)},
		{"chunk size overflow", []string{"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n"}, refused(ReasonBadChunk)},
		{"trailer content-length", []string{"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\n"}, refused(ReasonBadChunk)},
		{"te in http/1.0", []string{"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"}, refused(ReasonBadTransferEncoding)},
		{"connection: host", []string{"GET / HTTP/1.1\r\n" + host + "Connection: Host\r\n\r\n"}, refused(ReasonBadConnection)},
		{"slow head then refused", []string{"GET / HTTP/1.1\r\n" + host + "X: 1\r\n\r\nGET /", "x HTTP/1.1\n\n"},
			[]event{{Method: "GET", Target: "/", Host: "example.com"}, {Refused: ReasonBareLF}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, Limits{})
			got := ts.send(tt.writes...)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("handler saw\n%s\nwant\n%s", fmtEvents(got), fmtEvents(tt.want))
			}
		})
	}
}

// The client sees the gateway's answer to a refusal.
func TestServerRefusalResponse(t *testing.T) {
	ts := newTestServer(t, Limits{})
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || strings.TrimSpace(string(body)) != ReasonBadHost || !resp.Close {
		t.Fatalf("response: %d %q, close %v", resp.StatusCode, body, resp.Close)
	}
	ts.waitClosed()
}

// A chunked body that turns bad after its head was released fails the
// handler's body read with an *Error, and Conn.Refused reports it.
func TestServerBodyViolationAfterRelease(t *testing.T) {
	ts := newTestServer(t, Limits{})
	reading := make(chan struct{})
	type result struct {
		body            string
		err             error
		connReason      string
		connOK, refusal bool
	}
	results := make(chan result, 1)
	ts.hook = func(w http.ResponseWriter, r *http.Request) {
		close(reading)
		body, err := io.ReadAll(r.Body)
		reason, ok := r.Context().Value(connKey{}).(*Conn).Refused()
		_, refusal := ts.guard.Refusal(r)
		results <- result{string(body), err, reason, ok, refusal}
		if ok {
			http.Error(w, reason, http.StatusBadRequest)
		}
	}
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
	select {
	case <-reading:
	case <-time.After(10 * time.Second):
		t.Fatal("head was not released")
	}
	time.Sleep(20 * time.Millisecond)
	io.WriteString(c, "5\r\nworld\r\n0x5\r\nsmugg\r\n0\r\n\r\n")
	res := <-results
	if fe, ok := errors.AsType[*Error](res.err); !ok || fe.Reason() != ReasonBadChunk {
		t.Errorf("body read error = %v, want *Error %s", res.err, ReasonBadChunk)
	}
	if !res.connOK || res.connReason != ReasonBadChunk {
		t.Errorf("Conn.Refused() = %q, %v", res.connReason, res.connOK)
	}
	if res.refusal {
		t.Error("Guard.Refusal reported the real request")
	}
	if res.body != "helloworld" {
		t.Errorf("body before the violation = %q", res.body)
	}
	ts.waitClosed()
}

// A WebSocket-style upgrade passes, and the bytes after it, sent in the
// same packet as the head and later, reach the hijacker verbatim.
func TestServerUpgradePassthrough(t *testing.T) {
	ts := newTestServer(t, Limits{})
	// Not HTTP at all: bare LFs, NULs, a request line with a bad version.
	frames := "\x81\x05hello\nGET / HTTP/9.9\n\n\x00\xff\r\r"
	later := "\x88\x02\x03\xe8 and a second packet\n"
	got := make(chan string, 1)
	ts.hook = func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		if _, ok := conn.(*Conn); !ok {
			t.Errorf("hijacked %T, want *Conn", conn)
		}
		io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		buf := make([]byte, len(frames)+len(later))
		_, err = io.ReadFull(brw, buf)
		if err != nil {
			t.Error(err)
		}
		got <- string(buf)
	}
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"+frames)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("response: %v, %v", resp, err)
	}
	io.WriteString(c, later)
	if s := <-got; s != frames+later {
		t.Fatalf("hijacker read %q, want %q", s, frames+later)
	}
	ts.waitClosed()
}

// A head that never completes is held by the guard and cut by net/http's
// ReadHeaderTimeout, which the guard's reads honour.
func TestServerSlowHeadTimesOut(t *testing.T) {
	ts := newTestServerWith(t, Limits{}, func(s *http.Server) { s.ReadHeaderTimeout = 200 * time.Millisecond })
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nX-a: 1\r\n")
	go func() { // one more header byte now and then, never the end
		for range 20 {
			time.Sleep(50 * time.Millisecond)
			if _, err := io.WriteString(c, "X"); err != nil {
				return
			}
		}
	}()
	ts.waitClosed()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("closed after %v", d)
	}
	if e := ts.takeEvents(); len(e) != 0 {
		t.Errorf("handler saw\n%s", fmtEvents(e))
	}
}

func fmtEvents(es []event) string {
	var b strings.Builder
	for _, e := range es {
		if len(e.Body) > 40 {
			e.Body = fmt.Sprintf("%.20s... (%d bytes)", e.Body, len(e.Body))
		}
		fmt.Fprintf(&b, "  %+v\n", e)
	}
	if len(es) == 0 {
		b.WriteString("  (nothing)\n")
	}
	return b.String()
}
