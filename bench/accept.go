package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// serveJWKS serves jwks at rawURL (a loopback address) until the harness
// exits. envVar names the variable that moves it when the port is taken.
func serveJWKS(rawURL, envVar string, jwks []byte) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", u.Host)
	if err != nil {
		return fmt.Errorf("%w (set %s to a free loopback address)", err, envVar)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(jwks)
	})}
	go func() { _ = srv.Serve(l) }() // serves until the harness exits
	return nil
}

// awaitAccepted sends GET /api/products with a browser's headers and
// those headers returns, afresh for each attempt, until the gateway
// answers 200, for at most 10 seconds: a row's first request may have to
// fetch an issuer's keys. what names the credential in the error.
func awaitAccepted(ctx context.Context, t Target, what string, headers func() []Header) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL+"/api/products", nil)
		if err != nil {
			return err
		}
		for _, h := range append(append([]Header{}, browser...), headers()...) {
			req.Header.Set(h.Name, h.Value)
		}
		resp, err := t.Client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the gateway did not accept %s within 10s: %w", what, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
