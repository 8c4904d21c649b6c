// Package upstream holds the connection settings the gateway uses to reach
// API servers: a keep-alive pool sized for a proxy (net/http's default of
// two idle connections per host makes a busy proxy open and close
// connections constantly) and a shared buffer pool for copying bodies.
//
// The benchmark's bare httputil.ReverseProxy uses the same two pieces, so
// that its comparison with the gateway measures the gateway's own work.
package upstream

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"sync"
	"time"
)

// TransportOptions tune the upstream transport. Zero values mean the
// documented defaults.
type TransportOptions struct {
	// DialTimeout bounds TCP connect. If zero, 5s.
	DialTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for a response head. If zero,
	// no bound.
	ResponseHeaderTimeout time.Duration
	// MaxIdleConns is the keep-alive pool size (per upstream host, and in
	// total). If zero, 512.
	MaxIdleConns int
	// IdleConnTimeout closes pooled connections idle this long. If zero, 90s.
	IdleConnTimeout time.Duration
	// RootCAs verifies https upstreams. If nil, the system roots.
	RootCAs *x509.CertPool
}

// NewTransport returns a transport tuned for proxying.
func NewTransport(o TransportOptions) *http.Transport {
	if o.DialTimeout == 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.MaxIdleConns == 0 {
		o.MaxIdleConns = 512
	}
	if o.IdleConnTimeout == 0 {
		o.IdleConnTimeout = 90 * time.Second
	}
	d := &net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil, // never route upstream traffic through $HTTP_PROXY
		DialContext:           d.DialContext,
		MaxIdleConns:          o.MaxIdleConns,
		MaxIdleConnsPerHost:   o.MaxIdleConns,
		IdleConnTimeout:       o.IdleConnTimeout,
		ResponseHeaderTimeout: o.ResponseHeaderTimeout,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
		// Upstream responses are passed through as they are; decompressing
		// them here would only cost CPU.
		DisableCompression: true,
		WriteBufferSize:    32 << 10,
		ReadBufferSize:     32 << 10,
	}
}

// BufferPool is an httputil.BufferPool of 32 KiB buffers.
type BufferPool struct{ p sync.Pool }

// NewBufferPool returns an empty pool.
func NewBufferPool() *BufferPool {
	return &BufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

// Get returns a buffer.
func (b *BufferPool) Get() []byte { return *(b.p.Get().(*[]byte)) }

// Put returns a buffer to the pool.
func (b *BufferPool) Put(buf []byte) {
	if cap(buf) != 32<<10 {
		return
	}
	buf = buf[:cap(buf)]
	b.p.Put(&buf)
}
