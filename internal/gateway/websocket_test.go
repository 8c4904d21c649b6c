package gateway_test

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const wsYAML = `
listen: ${LISTEN}
limits:
  read_timeout: ${TIMEOUT:-300ms}
  write_timeout: ${TIMEOUT:-300ms}
  idle_timeout: ${TIMEOUT:-300ms}
  shutdown_timeout: 300ms
upstreams:
  app:
    url: ${UPSTREAM}
  ws:
    url: ${WS}
routes:
  - name: ws
    match: {path_prefix: /ws/}
    websocket: true
    upstream: ws
  - name: api
    match: {path_prefix: /api/}
    upstream: app
`

// wsAccept is Sec-WebSocket-Accept for key (RFC 6455 §4.2.2).
func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// wsUpstream answers a WebSocket handshake with 101 and then echoes
// every byte until the client closes; /ws/refuse answers 403 instead.
type wsUpstream struct {
	*httptest.Server
	hits     atomic.Int64
	upgrades atomic.Int64
}

func newWSUpstream(t *testing.T) *wsUpstream {
	u := &wsUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		key := r.Header.Get("Sec-WebSocket-Key")
		if r.URL.Path == "/ws/refuse" || !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || key == "" {
			http.Error(w, "no upgrade here", http.StatusForbidden)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		u.upgrades.Add(1)
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", wsAccept(key))
		if brw.Flush() != nil {
			return
		}
		// Echo, draining what the hijack left buffered first.
		_, _ = io.Copy(c, brw.Reader)
	}))
	t.Cleanup(u.Close)
	return u
}

const wsKey = "dGhlIHNhbXBsZSBub25jZQ=="

func wsHandshake(path, upgrade string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: gw.test\r\nUpgrade: " + upgrade + "\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + wsKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
}

// TestWebSocket: on a route with websocket: true an upgrade passes, and
// the upgraded connection outlives the read and write timeouts (300ms).
func TestWebSocket(t *testing.T) {
	ws := newWSUpstream(t)
	e := startEnv(t, wsYAML, func(e *env) { e.vars["WS"] = ws.URL })

	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, wsHandshake("/ws/chat", "websocket")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status = %d, want 101", resp.StatusCode)
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), wsAccept(wsKey); got != want {
		t.Errorf("Sec-WebSocket-Accept = %q, want %q", got, want)
	}

	// Exchange bytes for over a second: three times the read and write
	// timeouts, with a pause longer than either in the middle.
	start := time.Now()
	for i := 0; time.Since(start) < 1200*time.Millisecond; i++ {
		msg := fmt.Sprintf("message %d from the client", i)
		if _, err := io.WriteString(c, msg); err != nil {
			t.Fatalf("after %v: write: %v", time.Since(start), err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(br, got); err != nil {
			t.Fatalf("after %v: read: %v", time.Since(start), err)
		}
		if string(got) != msg {
			t.Fatalf("echo %q, want %q", got, msg)
		}
		pause := 100 * time.Millisecond
		if i == 2 {
			pause = 450 * time.Millisecond
		}
		time.Sleep(pause)
	}
	if n := ws.upgrades.Load(); n != 1 {
		t.Errorf("upstream upgrades = %d, want 1", n)
	}
}

// TestWebSocketShutdown: an upgraded connection is not net/http's to
// drain; a shutdown gives it shutdown_timeout and then closes it.
func TestWebSocketShutdown(t *testing.T) {
	ws := newWSUpstream(t)
	e := startEnv(t, wsYAML, func(e *env) { e.vars["WS"] = ws.URL })
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, wsHandshake("/ws/chat", "websocket"))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	_, _ = io.WriteString(c, "hello")
	got := make([]byte, 5)
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "hello" {
		t.Fatalf("echo %q (%v), want hello", got, err)
	}

	start := time.Now()
	stopped := stopAsync(e)
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("upgraded connection sent data during shutdown")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("upgraded connection still open %v after shutdown began (shutdown_timeout 300ms)", time.Since(start))
	}
	t.Logf("upgraded connection closed %v after shutdown began", time.Since(start))
	select {
	case <-stopped:
	case <-time.After(3 * time.Second):
		t.Fatal("Serve did not return")
	}
}

// TestUpgradeRefused: an upgrade the route does not allow is refused
// before the upstream sees it, and the connection is closed.
func TestUpgradeRefused(t *testing.T) {
	ws := newWSUpstream(t)
	e := startEnv(t, wsYAML, func(e *env) {
		e.vars["WS"] = ws.URL
		e.vars["TIMEOUT"] = "10s" // not what this test is about
	})
	tests := []struct {
		name   string
		req    string
		status int
		reason string
	}{
		{"websocket on a route without websocket: true", wsHandshake("/api/chat", "websocket"), 400, "request.upgrade_not_allowed"},
		{"another protocol on a websocket route", wsHandshake("/ws/chat", "irc/6.9"), 400, "request.upgrade_not_allowed"},
		{"h2c on a websocket route", wsHandshake("/ws/chat", "h2c"), 400, "framing.h2c_upgrade"},
		{"h2c on a plain route", "GET /api/x HTTP/1.1\r\nHost: gw.test\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n", 400, "framing.h2c_upgrade"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, wsBefore := e.up.hits.Load(), ws.hits.Load()
			out := raw(t, e.addr, []byte(tt.req), 5*time.Second)
			resp := rawResponse(t, out)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if p := readProblem(t, resp); p.Reason != tt.reason {
				t.Errorf("reason = %q, want %q", p.Reason, tt.reason)
			}
			if !resp.Close {
				t.Error("refused upgrade without Connection: close")
			}
			if n := e.up.hits.Load() - before + ws.hits.Load() - wsBefore; n != 0 {
				t.Errorf("upstream hits = %d, want 0", n)
			}
		})
	}

	t.Run("upstream declines the upgrade: the connection ends", func(t *testing.T) {
		// The guard stops parsing after an upgrade request; if the
		// upstream does not switch protocols, the gateway must close the
		// connection, or the bytes that follow would be read as a request
		// nobody checked.
		before := e.up.hits.Load()
		smuggled := "GET /api/smuggled HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
		out := raw(t, e.addr, []byte(wsHandshake("/ws/refuse", "websocket")+smuggled), 5*time.Second)
		resp := rawResponse(t, out)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status = %d, want the upstream's 403", resp.StatusCode)
		}
		if !resp.Close {
			t.Error("declined upgrade without Connection: close")
		}
		if n := strings.Count(out, "HTTP/1.1 "); n != 1 {
			t.Errorf("%d responses on the connection, want 1:\n%s", n, out)
		}
		if n := e.up.hits.Load() - before; n != 0 {
			t.Errorf("the bytes after the declined upgrade reached the upstream (%d hits)", n)
		}
	})
}
