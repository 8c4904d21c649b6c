package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/httpwire"
)

// Server runs the gateway's listeners: the API listener (plain HTTP/1.1,
// or TLS with HTTP/1.1 and HTTP/2) and the admin listener.
//
// It accepts connections itself rather than leaving that to net/http, for
// three reasons: every HTTP/1 connection must pass through the framing
// guard before net/http parses it; TLS connections that negotiate h2 must
// go to the HTTP/2 server directly (net/http only recognises its own
// *tls.Conn); and connection caps must act before a connection costs a
// goroutine and a TLS handshake.
type Server struct {
	gw     *Gateway
	log    *slog.Logger
	cfg    config.Config // the listener settings in force since Start
	guard  *httpwire.Guard
	limit  *connLimiter
	cert   atomic.Pointer[tls.Certificate]
	ready  atomic.Bool
	closed atomic.Bool

	ln      net.Listener
	adminLn net.Listener
	h1      *http.Server
	h1ln    *chanListener
	h2      *http2.Server
	admin   *http.Server

	// conns are the client connections admitted and not yet closed. A
	// shutdown waits for them and closes those that outlive its timeout:
	// net/http tracks only the HTTP/1 connections it serves, not HTTP/2
	// connections (served by s.h2 directly) nor hijacked ones (WebSockets).
	connsMu sync.Mutex
	conns   map[*limitedConn]struct{}
}

// NewServer prepares a server for the config f, which must already be in
// force in gw. Listener settings (addresses, TLS, limits) are read once
// here; a reload that changes them is logged as needing a restart.
func NewServer(gw *Gateway, f *config.File, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg := *f.Config
	l := cfg.Limits
	s := &Server{
		gw:  gw,
		log: logger,
		cfg: cfg,
		guard: httpwire.NewGuard(httpwire.Limits{
			MaxHeaderBytes:      int(l.MaxHeaderBytes),
			MaxRequestLineBytes: int(l.MaxRequestLineBytes),
			MaxHeaderCount:      l.MaxHeaderCount,
		}),
		limit: &connLimiter{max: l.MaxConnections, maxPerIP: l.MaxConnectionsPerIP},
	}
	gw.SetGuard(s.guard)
	if cfg.TLS.Enabled() {
		if err := s.loadCert(cfg.TLS); err != nil {
			return nil, err
		}
	}
	s.h1 = &http.Server{
		Handler:           gw,
		ReadHeaderTimeout: l.ReadHeaderTimeout.D(),
		ReadTimeout:       l.ReadTimeout.D(),
		WriteTimeout:      l.WriteTimeout.D(),
		IdleTimeout:       l.IdleTimeout.D(),
		MaxHeaderBytes:    int(l.MaxHeaderBytes),
		ConnContext:       connContext,
		ConnState:         s.connState,
		ErrorLog:          gw.errorLog,
	}
	s.h2 = &http2.Server{
		MaxConcurrentStreams: 250,
		IdleTimeout:          l.IdleTimeout.D(),
		MaxReadFrameSize:     1 << 20,
	}
	if err := http2.ConfigureServer(s.h1, s.h2); err != nil {
		return nil, err
	}
	s.h1.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	return s, nil
}

func (s *Server) loadCert(t config.TLS) error {
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return fmt.Errorf("tls: loading %s and %s: %w", t.CertFile, t.KeyFile, err)
	}
	s.cert.Store(&cert)
	return nil
}

// Start binds the listeners. After it returns, Addr and AdminAddr are set.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.Listen, err)
	}
	s.ln = ln
	s.h1ln = newChanListener(ln.Addr())
	if s.cfg.Admin.Listen != "" {
		aln, err := net.Listen("tcp", s.cfg.Admin.Listen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("admin listen %s: %w", s.cfg.Admin.Listen, err)
		}
		s.adminLn = aln
		s.admin = &http.Server{Handler: s.adminHandler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: s.gw.errorLog}
	}
	return nil
}

// Addr is the API listener's address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// AdminAddr is the admin listener's address, or nil.
func (s *Server) AdminAddr() net.Addr {
	if s.adminLn == nil {
		return nil
	}
	return s.adminLn.Addr()
}

// Serve serves until ctx is done, then shuts down gracefully: it stops
// accepting (new connections are refused), lets requests in flight finish
// for up to limits.shutdown_timeout, and closes what remains.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 3)
	go func() { errc <- s.h1.Serve(s.h1ln) }()
	if s.admin != nil {
		go func() { errc <- s.admin.Serve(s.adminLn) }()
	}
	acceptDone := make(chan struct{})
	go func() { defer close(acceptDone); s.acceptLoop() }()
	s.ready.Store(true)
	s.log.Info("serving", "listen", s.ln.Addr().String(), "tls", s.cfg.TLS.Enabled(), "admin", addrOrEmpty(s.AdminAddr()))

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.shutdown()
	<-acceptDone
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}

func (s *Server) shutdown() {
	s.ready.Store(false)
	if d := s.cfg.Limits.ShutdownDelay.D(); d > 0 {
		// Still serving, but not ready: load balancers take the node out
		// of rotation, and keep-alive connections close after their next
		// response, so that clients reconnect elsewhere.
		s.log.Info("shutdown: not ready; serving on before closing the listener", "delay", d.String())
		s.h1.SetKeepAlivesEnabled(false)
		time.Sleep(d)
	}
	s.closed.Store(true)
	s.log.Info("shutting down", "timeout", s.cfg.Limits.ShutdownTimeout.D().String())
	_ = s.ln.Close()
	_ = s.h1ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Limits.ShutdownTimeout.D())
	defer cancel()
	if err := s.h1.Shutdown(ctx); err != nil {
		s.log.Warn("shutdown timed out; closing remaining connections", "error", err.Error())
		_ = s.h1.Close()
	}
	// HTTP/2 connections got a GOAWAY from h1.Shutdown and close once
	// their streams are done; upgraded connections end when either side
	// closes. Both get what is left of the timeout, then are closed, so
	// that no request outlives Serve.
	if n := s.drainConns(ctx); n > 0 {
		s.log.Warn("shutdown timed out; closed remaining connections", "connections", n)
	}
	if s.admin != nil {
		if err := s.admin.Shutdown(ctx); err != nil {
			_ = s.admin.Close()
		}
	}
	s.log.Info("stopped")
}

// drainConns waits until every client connection is closed or ctx is
// done, then closes those that remain and returns how many it closed.
func (s *Server) drainConns(ctx context.Context) int {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s.connsMu.Lock()
		n := len(s.conns)
		s.connsMu.Unlock()
		if n == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			s.connsMu.Lock()
			left := make([]*limitedConn, 0, len(s.conns))
			for c := range s.conns {
				left = append(left, c)
			}
			s.connsMu.Unlock()
			for _, c := range left {
				_ = c.Close() // removes c from s.conns
			}
			return len(left)
		case <-tick.C:
		}
	}
}

func (s *Server) acceptLoop() {
	var backoff time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait, do not spin.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed", "error", err.Error(), "retry_in", backoff.String())
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		s.admit(c)
	}
}

// admit applies connection caps and hands the connection on.
func (s *Server) admit(c net.Conn) {
	ip := netip.Addr{}
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		ip = ap.Addr().Unmap()
	}
	if ok, reason := s.limit.acquire(ip); !ok {
		s.gw.metrics.connsRefused.WithLabelValues(reason).Inc()
		_ = c.Close()
		return
	}
	s.gw.metrics.connsActive.Inc()
	lc := &limitedConn{Conn: c}
	lc.release = func() {
		s.limit.release(ip)
		s.gw.metrics.connsActive.Dec()
		s.connsMu.Lock()
		delete(s.conns, lc)
		s.connsMu.Unlock()
	}
	s.connsMu.Lock()
	if s.conns == nil {
		s.conns = map[*limitedConn]struct{}{}
	}
	s.conns[lc] = struct{}{}
	s.connsMu.Unlock()
	if s.cert.Load() == nil {
		s.h1ln.push(s.wrap(lc, lc))
		return
	}
	go s.handshake(lc)
}

// wrap puts the framing guard over c (lc itself, or the TLS connection
// over it).
func (s *Server) wrap(c net.Conn, lc *limitedConn) *httpwire.Conn {
	gc := s.guard.Wrap(c)
	gc.OnHeadPending = lc.headPending
	return gc
}

// connState is http.Server.ConnState for HTTP/1 connections. A connection
// that goes idle between requests gets read_header_timeout for its next
// head if the guard has to hold that head back (limitedConn.awaitHead);
// an active one never does.
func (s *Server) connState(c net.Conn, st http.ConnState) {
	var d time.Duration
	switch st {
	case http.StateIdle:
		d = s.cfg.Limits.ReadHeaderTimeout.D()
	case http.StateActive:
	default:
		return
	}
	if lc := limitedConnOf(c); lc != nil {
		lc.awaitHead(d)
	}
}

func (s *Server) tlsConfig() *tls.Config {
	min := uint16(tls.VersionTLS12)
	if s.cfg.TLS.MinVersion == "1.3" {
		min = tls.VersionTLS13
	}
	protos := []string{"h2", "http/1.1"}
	if s.cfg.TLS.DisableHTTP2 {
		protos = []string{"http/1.1"}
	}
	return &tls.Config{
		MinVersion: min,
		NextProtos: protos,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.cert.Load(), nil
		},
	}
}

func (s *Server) handshake(lc *limitedConn) {
	tc := tls.Server(lc, s.tlsConfig())
	_ = tc.SetDeadline(time.Now().Add(s.cfg.Limits.ReadHeaderTimeout.D()))
	if err := tc.Handshake(); err != nil {
		s.gw.metrics.connsRefused.WithLabelValues("tls_handshake").Inc()
		_ = tc.Close()
		return
	}
	_ = tc.SetDeadline(time.Time{})
	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		if s.closed.Load() {
			_ = tc.Close()
			return
		}
		ctx := context.WithValue(context.Background(), connKey{}, &connInfo{tls: true})
		s.h2.ServeConn(tc, &http2.ServeConnOpts{Context: ctx, BaseConfig: s.h1, Handler: s.gw})
		_ = tc.Close()
		return
	}
	s.h1ln.push(s.wrap(tc, lc))
}

// Reload puts f in force: routes and policies at once, the TLS certificate
// re-read from its files. Listener settings need a restart; a change to
// them is logged and otherwise ignored.
func (s *Server) Reload(f *config.File) error {
	if err := s.gw.Load(f); err != nil {
		return err
	}
	nc := f.Config
	if nc.TLS.Enabled() && s.cfg.TLS.Enabled() {
		if err := s.loadCert(nc.TLS); err != nil {
			s.log.Error("TLS certificate reload failed; keeping the old certificate", "error", err.Error())
		}
	}
	if nc.Listen != s.cfg.Listen || nc.Admin != s.cfg.Admin || nc.Limits != s.cfg.Limits || nc.TLS.Enabled() != s.cfg.TLS.Enabled() {
		s.log.Warn("listener settings changed; they take effect after a restart", "fields", "listen, admin, tls, limits")
	}
	return nil
}

// Ready reports whether the server is serving and not shutting down.
func (s *Server) Ready() bool { return s.ready.Load() && s.gw.cur.Load() != nil }

func addrOrEmpty(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
