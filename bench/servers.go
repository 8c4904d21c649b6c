package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/upstream"
)

// upstreamBody is what the upstream answers to every request: a small
// JSON document, so that the benchmark measures per-request work rather
// than copying.
const upstreamBody = `{"products":[{"id":1,"name":"anvil","price":19.99},{"id":2,"name":"rope","price":4.5,"stock":12}]}`

// runUpstream is the "upstream" subcommand: an HTTP/1.1 server that
// answers every request with 200 and upstreamBody.
func runUpstream(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("upstream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "`address` to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body := []byte(upstreamBody)
	length := fmt.Sprint(len(body))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the request body so the connection stays reusable.
		_, _ = io.Copy(io.Discard, r.Body)
		hd := w.Header()
		hd["Content-Type"] = []string{"application/json"}
		hd["Content-Length"] = []string{length}
		_, _ = w.Write(body)
	})
	return serve(ctx, *listen, h, stdout)
}

// runBare is the "bare" subcommand: the baseline every gateway row is
// compared with. It is the smallest correct reverse proxy, built from the
// same upstream transport and buffer pool as the gateway, so that the
// difference between the two is the gateway's own work.
func runBare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "`address` to listen on")
	up := fs.String("upstream", "", "upstream base `URL`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	target, err := url.Parse(*up)
	if err != nil || target.Host == "" {
		return fmt.Errorf("bare: -upstream %q is not an absolute URL", *up)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport:  upstream.NewTransport(upstream.TransportOptions{}),
		BufferPool: upstream.NewBufferPool(),
	}
	return serve(ctx, *listen, rp, stdout)
}

// serve listens, reports "ready addr=... gomaxprocs=..." on stdout, and
// serves until ctx is done or SIGTERM arrives.
//
// The server's limits are drawbridge's defaults, so that the bare proxy
// pays for the same connection deadlines the gateway sets.
func serve(ctx context.Context, addr string, h http.Handler, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
	fmt.Fprintf(stdout, "ready addr=%s gomaxprocs=%d\n", l.Addr(), runtime.GOMAXPROCS(0))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
