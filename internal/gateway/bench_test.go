package gateway_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/gateway"
	transport "github.com/drawbridge-gw/drawbridge/internal/upstream"
)

// The in-process benchmarks below drive the handler directly with a
// recorder, so they measure the gateway's own work per request (plus the
// upstream round trip both share); `make bench` measures whole processes.

func benchUpstream(b *testing.B) *httptest.Server {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"products":[]}`)
	}))
	b.Cleanup(up.Close)
	return up
}

func benchRequest() *http.Request {
	r := httptest.NewRequest("GET", "http://example.com/api/products", nil)
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36")
	r.Header.Set("Accept", "application/json")
	r.RemoteAddr = "192.0.2.10:51000"
	return r
}

func BenchmarkBareProxy(b *testing.B) {
	up := benchUpstream(b)
	u, _ := url.Parse(up.URL)
	rp := &httputil.ReverseProxy{
		Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() },
		Transport:  transport.NewTransport(transport.TransportOptions{}),
		BufferPool: transport.NewBufferPool(),
	}
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, benchRequest())
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

func BenchmarkGatewayBasic(b *testing.B) {
	up := benchUpstream(b)
	yaml := `
upstreams: {app: {url: "` + up.URL + `"}}
routes:
  - name: api
    match: {path_prefix: /api/}
    upstream: app
    policies:
      - useragent:
          deny: ["curl/*", "Wget/*", "python-requests/*", "Go-http-client/*", "sqlmap*", "Nikto*", "*masscan*", "*zgrab*"]
          deny_empty: true
      - headers: {security_headers: true}
`
	f, err := config.Parse("bench.yaml", []byte(yaml), config.Source{})
	if err != nil {
		b.Fatal(err)
	}
	aw := gateway.NewAsyncWriter(io.Discard, 8192, nil)
	defer aw.Close()
	g := gateway.New(gateway.Options{Logger: slog.New(slog.NewJSONHandler(aw, nil))})
	if err := g.Load(f); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, benchRequest())
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}
