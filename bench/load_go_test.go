package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestGenerate(t *testing.T) {
	var n, bad atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != "POST" || string(body) != "hello" || r.Header.Get("X-Test") != "yes" {
			bad.Add(1)
		}
		if n.Add(1)%10 == 0 {
			w.WriteHeader(http.StatusForbidden)
		}
		io.WriteString(w, upstreamBody)
	}))
	defer srv.Close()
	r, err := generate(context.Background(), genSpec{
		URL: srv.URL + "/api?q=1", Method: "POST", Headers: []Header{{"X-Test", "yes"}},
		Body: "hello", Conns: 4, Duration: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if bad.Load() != 0 {
		t.Errorf("%d requests arrived malformed", bad.Load())
	}
	if r.Requests == 0 || r.Requests != n.Load() || r.RPS <= 0 || r.P50 <= 0 || r.P99 < r.P50 {
		t.Errorf("result %+v after %d requests served", r, n.Load())
	}
	if want := r.Requests / 10; r.Non2xx < want-4 || r.Non2xx > want+4 {
		t.Errorf("non-2xx = %d, want about %d", r.Non2xx, want)
	}
	if r.SocketErrors != 0 {
		t.Errorf("socket errors = %d (%s)", r.SocketErrors, r.ErrorDetail)
	}
}

func TestGenerateCountsConnectErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	r, err := generate(context.Background(), genSpec{URL: url, Method: "GET", Conns: 2, Duration: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.SocketErrors == 0 || !strings.Contains(r.failed(), "connect:") {
		t.Errorf("result %+v, failed() = %q; want connect errors", r, r.failed())
	}
}
