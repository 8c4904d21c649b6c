package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store/redis"
	"github.com/drawbridge-gw/drawbridge/internal/testenv"
)

const rateLimitRedisYAML = `
listen: ${LISTEN}
admin: {listen: "${ADMIN_LISTEN}"}
trusted_proxies: [127.0.0.1/32]
upstreams:
  app: {url: "${UPSTREAM}"}
routes:
  - name: open
    match: {path_prefix: /open/}
    upstream: app
    policies:
      - ratelimit: {limits: [{name: per-ip, key: ip, rate: 2, per: 1h}], on_store_error: open}
  - name: closed
    match: {path_prefix: /closed/}
    upstream: app
    policies:
      - ratelimit: {limits: [{name: per-ip, key: ip, rate: 100, per: 1h}], on_store_error: closed}
  - name: three
    match: {path_prefix: /three/}
    upstream: app
    policies:
      - ratelimit:
          limits:
            - {name: per-second, key: ip, rate: 100, per: 1s}
            - {name: per-client, key: "header:X-Client", rate: 1000, per: 1m}
            - {name: per-day, key: ip, rate: 10000, per: 24h}
`

// redisEnv starts a gateway whose hot store is srv, with short timeouts
// so that a stopped server fails requests fast.
func redisEnv(t *testing.T, srv *testenv.RedisServer) *env {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := redis.Open(ctx, redis.Options{URL: srv.URL() + "?dial_timeout=200ms&read_timeout=200ms&write_timeout=200ms"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return startEnv(t, rateLimitRedisYAML, func(e *env) { e.gwOpts.Hot = h })
}

// get sends a GET and closes the response at once, so that its
// connection is reused (e.do keeps bodies open until the test ends).
func get(t *testing.T, e *env, path string, h map[string]string) *http.Response {
	t.Helper()
	resp := e.do("GET", path, h, "")
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func wantStatus(t *testing.T, e *env, path string, h map[string]string, status int) {
	t.Helper()
	if resp := get(t, e, path, h); resp.StatusCode != status {
		t.Fatalf("GET %s from %v: status %d, want %d", path, h, resp.StatusCode, status)
	}
}

// Two gateways sharing one Redis share the limit.
func TestRateLimitRedisShared(t *testing.T) {
	srv := testenv.Redis(t)
	a, b := redisEnv(t, srv), redisEnv(t, srv)
	client := from("198.51.100.20")
	wantStatus(t, a, "/open/x", client, 200)
	wantStatus(t, b, "/open/x", client, 200)
	wantStatus(t, a, "/open/x", client, 429)
	wantStatus(t, b, "/open/x", client, 429)
	wantStatus(t, b, "/open/x", from("198.51.100.21"), 200)
}

// One script call per rate-limited request, for a route with three
// limits keyed by two different things.
func TestRateLimitRedisOneScriptCall(t *testing.T) {
	srv := testenv.Redis(t)
	e := redisEnv(t, srv)
	wantStatus(t, e, "/three/x", from("198.51.100.30"), 200) // loads the script
	if _, err := testenv.RedisDo(srv.Addr, "CONFIG", "RESETSTAT"); err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		wantStatus(t, e, "/three/x", from(fmt.Sprintf("198.51.100.%d", 31+i%3), map[string]string{"X-Client": strconv.Itoa(i % 4)}), 200)
	}
	stats, err := testenv.RedisDo(srv.Addr, "INFO", "commandstats")
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]int{}
	for _, line := range strings.Split(stats, "\r\n") {
		if name, rest, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":calls="); ok {
			c, _, _ := strings.Cut(rest, ",")
			calls[name], _ = strconv.Atoi(c)
		}
	}
	scripts := calls["evalsha"] + calls["eval"] + calls["evalsha_ro"] + calls["eval_ro"] + calls["fcall"] + calls["fcall_ro"]
	if scripts != n || calls["evalsha"] != n {
		t.Errorf("%d requests made %d script calls, want %d EVALSHA: %v", n, scripts, n, calls)
	}
}

// on_store_error: open. With Redis stopped mid-test, requests are counted
// in the node's memory (the limit still holds), the fallback is counted
// and logged once, nothing leaks, and Redis is used again once it is
// back.
func TestRateLimitRedisFailOpen(t *testing.T) {
	srv := testenv.Redis(t)
	e := redisEnv(t, srv)
	client := from("198.51.100.40")
	wantStatus(t, e, "/open/x", client, 200)
	goroutines := runtime.NumGoroutine()
	srv.Stop()
	start := time.Now()
	// A fresh bucket in memory: two more, then the limit.
	wantStatus(t, e, "/open/x", client, 200)
	wantStatus(t, e, "/open/x", client, 200)
	wantStatus(t, e, "/open/x", client, 429)
	for i := range 100 {
		get(t, e, "/open/x", from(fmt.Sprintf("198.51.101.%d", i)))
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("103 requests with Redis down took %v", d)
	}
	if got := scrape(t, e, `drawbridge_ratelimit_fallbacks_total{policy="routes[0].policies[0]"}`); got != 103 {
		t.Errorf("fallbacks counted: %v, want 103", got)
	}
	if got := scrape(t, e, `drawbridge_ratelimit_store_errors_total{policy="routes[0].policies[0]"}`); got < 1 || got > 10 {
		t.Errorf("store errors counted: %v, want a few (the store is rested between tries)", got)
	}
	if n := strings.Count(e.logs.String(), "ratelimit: shared store unavailable"); n != 1 {
		t.Errorf("the outage was logged %d times, want once", n)
	}
	time.Sleep(100 * time.Millisecond)
	if n := runtime.NumGoroutine(); n > goroutines+10 {
		t.Errorf("%d goroutines after the outage, %d before", n, goroutines)
	}
	srv.Start(t)
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		wantStatus(t, e, "/open/x", from(fmt.Sprintf("198.51.102.%d", i%250)), 200)
		if n, _ := testenv.RedisDo(srv.Addr, "DBSIZE"); n != "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Redis was not used again after its restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(e.logs.String(), "ratelimit: shared store available again") {
		t.Error("the recovery was not logged")
	}
}

// on_store_error: closed. With Redis stopped, requests are refused with
// 503 ratelimit.unavailable at once; after the restart they pass again.
func TestRateLimitRedisFailClosed(t *testing.T) {
	srv := testenv.Redis(t)
	e := redisEnv(t, srv)
	client := from("198.51.100.50")
	wantStatus(t, e, "/closed/x", client, 200)
	srv.Stop()
	start := time.Now()
	for range 20 {
		resp := e.do("GET", "/closed/x", client, "")
		if p := readProblem(t, resp); resp.StatusCode != 503 || p.Reason != "ratelimit.unavailable" {
			t.Fatalf("with Redis down: %d %s, want 503 ratelimit.unavailable", resp.StatusCode, p.Reason)
		}
		if resp.Header.Get("RateLimit") != "" {
			t.Error("a 503 carries a RateLimit field: nothing is known about the limit")
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("20 refusals took %v", d)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"layer":"ratelimit","reason":"ratelimit.unavailable"`) || !strings.Contains(logs, `"cause":"redis: ratelimit: store: unavailable`) {
		t.Errorf("decision log lacks the refusal or its cause:\n%s", logs)
	}
	if got := scrape(t, e, `drawbridge_ratelimit_fallbacks_total{policy="routes[1].policies[0]"}`); got != 0 {
		t.Errorf("a closed layer fell back %v times", got)
	}
	srv.Start(t)
	deadline := time.Now().Add(10 * time.Second)
	for get(t, e, "/closed/x", client).StatusCode != 200 {
		if time.Now().After(deadline) {
			t.Fatal("still refused 10s after Redis came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
