package gateway

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/upstream"
)

// upstreamProxy forwards to one upstream.
type upstreamProxy struct {
	name         string
	scheme, host string
	basePath     string // escaped, without trailing slash
	preserveHost bool
	rp           *httputil.ReverseProxy
}

// transportKey identifies transports that can be shared across reloads,
// so a reload keeps warm keep-alive pools.
type transportKey struct {
	scheme, host    string
	opts            upstream.TransportOptions
	caFile          string
	caFileModTimeNS int64
}

// transports caches upstream transports across config loads.
type transports struct {
	mu sync.Mutex
	m  map[transportKey]*http.Transport
}

func (t *transports) get(k transportKey, build func() *http.Transport) *http.Transport {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[transportKey]*http.Transport{}
	}
	if tr, ok := t.m[k]; ok {
		return tr
	}
	tr := build()
	t.m[k] = tr
	return tr
}

// retain closes idle connections of transports the new config no longer
// uses and forgets them; in-flight requests on them finish normally.
func (t *transports) retain(keep map[transportKey]bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, tr := range t.m {
		if !keep[k] {
			tr.CloseIdleConnections()
			delete(t.m, k)
		}
	}
}

func (g *Gateway) buildUpstream(name string, u config.Upstream, used map[transportKey]bool) (*upstreamProxy, []config.Problem) {
	field := "upstreams." + name
	pu, err := url.Parse(u.URL)
	if err != nil {
		return nil, []config.Problem{{Field: field + ".url", Msg: err.Error()}}
	}
	key := transportKey{scheme: pu.Scheme, host: pu.Host, caFile: u.CAFile, opts: upstream.TransportOptions{
		DialTimeout:           u.DialTimeout.D(),
		ResponseHeaderTimeout: u.ResponseHeaderTimeout.D(),
		MaxIdleConns:          u.MaxIdleConns,
		IdleConnTimeout:       u.IdleConnTimeout.D(),
	}}
	var roots *x509.CertPool
	if u.CAFile != "" {
		st, err := os.Stat(u.CAFile)
		if err != nil {
			return nil, []config.Problem{{Field: field + ".ca_file", Msg: "cannot read: " + errors.Unwrap(err).Error()}}
		}
		key.caFileModTimeNS = st.ModTime().UnixNano()
		pem, err := os.ReadFile(u.CAFile)
		if err != nil {
			return nil, []config.Problem{{Field: field + ".ca_file", Msg: "cannot read: " + err.Error()}}
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, []config.Problem{{Field: field + ".ca_file", Msg: "no PEM certificates found"}}
		}
	}
	used[key] = true
	tr := g.transports.get(key, func() *http.Transport {
		o := key.opts
		o.RootCAs = roots
		return upstream.NewTransport(o)
	})
	p := &upstreamProxy{
		name:         name,
		scheme:       pu.Scheme,
		host:         pu.Host,
		basePath:     strings.TrimSuffix(pu.EscapedPath(), "/"),
		preserveHost: u.PreserveHost,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      tr,
		BufferPool:     g.bufferPool,
		FlushInterval:  u.FlushInterval.D(),
		ModifyResponse: modifyResponse,
		ErrorHandler:   g.proxyError,
		ErrorLog:       g.errorLog,
	}
	return p, nil
}

// clientIPHeaders are fields through which a client might try to choose the
// address or scheme the upstream believes. They are removed from every
// forwarded request; the gateway sets its own after.
var clientIPHeaders = map[string]bool{
	"Forwarded": true, "X-Real-Ip": true, "True-Client-Ip": true, "X-Client-Ip": true, "Cf-Connecting-Ip": true,
	"Fastly-Client-Ip": true, "X-Cluster-Client-Ip": true, "X-Original-Forwarded-For": true,
	"X-Forwarded-Port": true, "X-Forwarded-Prefix": true, "X-Forwarded-Server": true,
	"X-Original-Url": true, "X-Rewrite-Url": true, "X-Http-Method-Override": true, "X-Http-Method": true, "X-Method-Override": true,
}

// rewrite builds the outbound request. httputil.ReverseProxy has already
// removed hop-by-hop fields (including those the client named in
// Connection) and X-Forwarded-*; what the gateway vouches for is added
// only now, so that no client field can remove or pre-empt it.
func (p *upstreamProxy) rewrite(pr *httputil.ProxyRequest) {
	s := ScopeFrom(pr.In.Context())
	out := pr.Out
	path := s.Path
	if s.route.stripPrefix != "" {
		path = stripPathPrefix(path, s.route.stripPrefix, s.route.caseSensitive)
	}
	escaped := p.basePath + path
	out.URL.Scheme = p.scheme
	out.URL.Host = p.host
	out.URL.RawQuery = pr.In.URL.RawQuery
	if s.upstreamQuery != nil {
		out.URL.RawQuery = *s.upstreamQuery
	}
	out.URL.Fragment, out.URL.RawFragment = "", ""
	if strings.IndexByte(escaped, '%') < 0 {
		out.URL.Path, out.URL.RawPath = escaped, ""
	} else {
		dec, err := url.PathUnescape(escaped)
		if err != nil { // unreachable: urlpath produced valid escapes
			dec = escaped
		}
		out.URL.Path, out.URL.RawPath = dec, escaped
	}
	if p.preserveHost {
		out.Host = pr.In.Host
	} else {
		out.Host = ""
	}
	h := out.Header
	// A request carries a handful of fields: looking each up in the set
	// is cheaper than deleting every name of the set.
	for name := range h {
		if clientIPHeaders[name] {
			delete(h, name)
		}
	}
	// One allocation for the five values the gateway vouches for; each
	// slice is capped so that an append elsewhere copies.
	v := new([5]string)
	v[0] = s.clientIP()
	if prior := pr.In.Header["X-Forwarded-For"]; s.peerTrusted && len(prior) > 0 {
		v[1] = strings.Join(prior, ", ") + ", " + peerAddr(pr.In)
	} else {
		v[1] = v[0]
	}
	v[2] = "http"
	if s.Secure {
		v[2] = "https"
	}
	v[3], v[4] = pr.In.Host, s.RequestID
	h["X-Real-Ip"] = v[0:1:1]
	h["X-Forwarded-For"] = v[1:2:2]
	h["X-Forwarded-Proto"] = v[2:3:3]
	h["X-Forwarded-Host"] = v[3:4:4]
	h["X-Request-Id"] = v[4:5:5]
	s.requestIDValue = v[4:5:5]
	for _, name := range s.upstreamStrip {
		delete(h, name)
	}
	for k, vs := range s.upstreamHeader {
		h[k] = vs
	}
}

func stripPathPrefix(path, prefix string, caseSensitive bool) string {
	prefix = strings.TrimSuffix(prefix, "/")
	if len(path) >= len(prefix) && equalPath(path[:len(prefix)], prefix, caseSensitive) {
		path = path[len(prefix):]
	}
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	return path
}

func peerAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func modifyResponse(resp *http.Response) error {
	s := ScopeFrom(resp.Request.Context())
	if s == nil {
		return nil
	}
	// The fields the gateway sets go straight into the client response's
	// header, whose values ReverseProxy would otherwise copy one by one;
	// the upstream's own copies are dropped, so that ours replace them.
	// This runs after any 1xx response, whose fields ReverseProxy clears.
	wh := s.w.Header()
	for k, vs := range s.responseHeader {
		delete(resp.Header, k)
		wh[k] = vs
	}
	delete(resp.Header, "X-Request-Id")
	wh["X-Request-Id"] = s.requestIDValue
	if s.upgrade && resp.StatusCode != http.StatusSwitchingProtocols {
		// The connection guard stops parsing after an upgrade request;
		// when the upgrade does not happen the connection must end.
		resp.Header["Connection"] = []string{"close"}
		resp.Close = true
	}
	return nil
}

// proxyError renders transport failures: unreachable or slow upstreams,
// oversized bodies and framing refusals found mid-body.
func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	s := ScopeFrom(r.Context())
	var d *Denial
	var ne net.Error
	switch reason := s.body.reason(); {
	case reason == "client.aborted":
		// The client stopped sending its body; the upstream is not to blame.
		s.layer, s.reason, s.cause = "client", "request.body_incomplete", err
		w.Header().Set("Connection", "close")
		writeProblem(w, &Denial{Reason: s.reason}, s.RequestID, s.responseHeader)
		return
	case reason != "":
		// Connection: close, since the rest of the body was not read.
		w.Header().Set("Connection", "close")
		d = &Denial{Reason: reason, Cause: err}
	case g.bodyRefusal(r) != "":
		d = &Denial{Reason: g.bodyRefusal(r), Cause: err}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; there is no one to answer.
		s.layer, s.reason = "client", "client.canceled"
		return
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		d = &Denial{Reason: "upstream.timeout", Cause: err}
	default:
		d = &Denial{Reason: "upstream.unavailable", Cause: err}
	}
	s.layer, s.reason, s.cause = "proxy", d.Reason, d.Cause
	if s.upgrade {
		w.Header().Set("Connection", "close")
	}
	writeProblem(w, d, s.RequestID, s.responseHeader)
}

// bodyRefusal reports a framing refusal the connection guard found in the
// request body after its head was forwarded.
func (g *Gateway) bodyRefusal(r *http.Request) string {
	if c := connFrom(r.Context()); c != nil {
		if reason, ok := c.Refused(); ok {
			return reason
		}
	}
	return ""
}

func (p *upstreamProxy) String() string { return fmt.Sprintf("%s (%s://%s)", p.name, p.scheme, p.host) }
