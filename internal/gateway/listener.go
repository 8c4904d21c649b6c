package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/httpwire"
)

// connInfo is what the handler may know about a request's connection.
type connInfo struct {
	tls   bool
	guard *httpwire.Conn // nil for HTTP/2
}

// Refused reports a framing refusal found in a request body after its
// head was handed to net/http.
func (ci *connInfo) Refused() (string, bool) {
	if ci == nil || ci.guard == nil {
		return "", false
	}
	return ci.guard.Refused()
}

type connKey struct{}

func connFrom(ctx context.Context) *connInfo {
	ci, _ := ctx.Value(connKey{}).(*connInfo)
	return ci
}

// connContext is http.Server.ConnContext for HTTP/1 connections.
func connContext(ctx context.Context, c net.Conn) context.Context {
	ci := &connInfo{}
	if gc, ok := c.(*httpwire.Conn); ok {
		ci.guard = gc
		_, ci.tls = gc.NetConn().(*tls.Conn)
	}
	return context.WithValue(ctx, connKey{}, ci)
}

// connLimiter caps concurrent connections, in total and per client
// address.
type connLimiter struct {
	max, maxPerIP int
	mu            sync.Mutex
	total         int
	perIP         map[netip.Addr]int
}

func (l *connLimiter) acquire(ip netip.Addr) (ok bool, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.max {
		return false, "max_connections"
	}
	if l.maxPerIP > 0 {
		if l.perIP[ip] >= l.maxPerIP {
			return false, "max_connections_per_ip"
		}
		if l.perIP == nil {
			l.perIP = map[netip.Addr]int{}
		}
		l.perIP[ip]++
	}
	l.total++
	return true, ""
}

func (l *connLimiter) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.maxPerIP > 0 {
		if n := l.perIP[ip] - 1; n > 0 {
			l.perIP[ip] = n
		} else {
			delete(l.perIP, ip)
		}
	}
}

// limitedConn releases its limiter slot once, on the first Close.
//
// It also bounds how long the head of a keep-alive request may take. Between
// requests net/http waits with the idle deadline for the first bytes of the
// next head and arms read_header_timeout only once it can peek at them. The
// framing guard holds a head back until it is complete, so that peek returns
// only when the whole head is in: a slowloris client on a keep-alive
// connection would be bounded by idle_timeout instead. The guard reports a
// held, incomplete head (httpwire.Conn.OnHeadPending); if the connection is
// idle between requests, headPending arms read_header_timeout then, once per
// head. A head that arrives whole costs nothing: net/http arms its own
// deadline as it reads it.
type limitedConn struct {
	net.Conn
	closed  atomic.Bool
	release func()
	// headTimeout, when not zero, is the read_header_timeout to arm when
	// the guard holds an incomplete head: the connection is idle, waiting
	// for a request head. It is set when the connection goes idle and
	// cleared when a request becomes active, so that it never replaces the
	// deadlines net/http sets while a request is handled.
	headTimeout atomic.Int64
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.release()
	}
	return err
}

// headPending arms the head deadline if the connection is idle between
// requests (see awaitHead).
func (c *limitedConn) headPending() {
	if d := time.Duration(c.headTimeout.Swap(0)); d > 0 {
		_ = c.Conn.SetReadDeadline(time.Now().Add(d))
	}
}

// awaitHead makes an incomplete head held by the guard start a read
// deadline of d (0: no longer idle). net/http replaces the deadline once
// the head is complete.
func (c *limitedConn) awaitHead(d time.Duration) { c.headTimeout.Store(int64(d)) }

// limitedConnOf finds the *limitedConn under a connection net/http serves:
// the guard's *httpwire.Conn, over a *tls.Conn or not.
func limitedConnOf(c net.Conn) *limitedConn {
	for {
		switch v := c.(type) {
		case *limitedConn:
			return v
		case interface{ NetConn() net.Conn }: // *httpwire.Conn, *tls.Conn
			c = v.NetConn()
		default:
			return nil
		}
	}
}

// chanListener hands connections accepted and prepared elsewhere to
// http.Server.Serve.
type chanListener struct {
	addr   net.Addr
	ch     chan net.Conn
	done   chan struct{}
	closed sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// push hands c to Serve; it reports false (and closes c) once closed.
func (l *chanListener) push(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		_ = c.Close()
		return false
	}
}

func (l *chanListener) Close() error {
	l.closed.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }

var errListenerClosed = errors.New("listener closed")
