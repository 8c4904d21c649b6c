package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/ratelimit"
	"github.com/drawbridge-gw/drawbridge/internal/ratelimit/ratelimittest"
	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/redis"
	"github.com/drawbridge-gw/drawbridge/internal/testenv"
)

// limiters opens a RateLimiter per test on url, each under its own
// prefix, driven by the suite's clock.
func limiters(url string) ratelimittest.Opener {
	return func(t *testing.T, now func() time.Time) ratelimit.Store {
		return redis.NewRateLimiter(openHot(t, url, ""), redis.RateLimiterOptions{Now: now})
	}
}

func TestRateLimitConformance(t *testing.T) {
	ratelimittest.TestStore(t, limiters(testenv.Redis(t).URL()))
}

// On a three-master Cluster: every Take touches several keys in one
// script, which Cluster refuses (CROSSSLOT) unless they share a slot.
// The suite's keys would land in different slots without the group's
// hash tag; the groups below land on every master.
func TestRateLimitClusterConformance(t *testing.T) {
	c := testenv.RedisCluster(t, 3)
	ratelimittest.TestStore(t, limiters(c.URL()))
	t.Run("GroupsSpreadOverMasters", func(t *testing.T) {
		rl := redis.NewRateLimiter(openHot(t, c.URL(), "spread:"), redis.RateLimiterOptions{})
		limit := ratelimit.Limit{Name: "l", Count: 10, Period: time.Minute}
		for g := range 30 {
			checks := []ratelimit.Check{{Limit: limit, Key: "a"}, {Limit: limit, Key: "b"}, {Limit: limit, Key: "c"}}
			ok, err := rl.Take(context.Background(), fmt.Sprintf("ip:%d", g), checks, make([]ratelimit.Result, 3))
			if !ok || err != nil {
				t.Fatalf("group %d: %v, %v", g, ok, err)
			}
		}
		// Where each group's keys live (they expire in 6s).
		masterOf := map[string]map[string]bool{} // group tag -> masters
		used := map[string]bool{}
		for _, a := range c.Addrs {
			keys, err := testenv.RedisDo(a, "KEYS", "spread:*")
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range strings.Fields(keys) {
				tag, _, _ := strings.Cut(strings.TrimPrefix(k, "spread:{"), "}")
				if masterOf[tag] == nil {
					masterOf[tag] = map[string]bool{}
				}
				masterOf[tag][a] = true
				used[a] = true
			}
		}
		if len(masterOf) != 30 {
			t.Fatalf("found the keys of %d groups, want 30", len(masterOf))
		}
		for tag, ms := range masterOf {
			if len(ms) != 1 {
				t.Errorf("group %s: keys on %d masters, want one", tag, len(ms))
			}
		}
		if len(used) != len(c.Addrs) {
			t.Errorf("30 groups used %d of %d masters", len(used), len(c.Addrs))
		}
	})
}

// The default clock is the server's (TIME), in real time.
func TestRateLimitServerClock(t *testing.T) {
	srv := testenv.Redis(t)
	h := openHot(t, srv.URL(), "rl:")
	rl := h.RateLimits()
	checks := []ratelimit.Check{{Limit: ratelimit.Limit{Name: "l", Count: 10, Period: time.Second, Burst: 2}, Key: "k"}}
	out := make([]ratelimit.Result, 1)
	take := func() bool {
		ok, err := rl.Take(context.Background(), "g", checks, out)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !take() || !take() {
		t.Fatal("the burst of 2 was refused")
	}
	if take() {
		t.Fatal("a third request within the burst window was allowed")
	}
	if out[0].RetryAfter <= 0 || out[0].RetryAfter > 100*time.Millisecond {
		t.Fatalf("RetryAfter = %v, want (0, 100ms]", out[0].RetryAfter)
	}
	// The bucket expires once its TAT has passed (PX), and a TAT is a
	// plain integer of microseconds.
	key := h.Keys("g", "k")[0]
	raw, err := testenv.RedisDo(srv.Addr, "GET", key)
	if _, perr := strconv.ParseInt(raw, 10, 64); err != nil || perr != nil {
		t.Fatalf("stored TAT %q, %v: want an integer", raw, err)
	}
	if ttl, _ := testenv.RedisDo(srv.Addr, "PTTL", key); ttl == "-1" || ttl == "-2" {
		t.Fatalf("PTTL %s: the bucket has no expiry", ttl)
	}
	time.Sleep(out[0].RetryAfter + 10*time.Millisecond)
	if !take() {
		t.Fatal("refused after Retry-After")
	}
	time.Sleep(out[0].Reset + 20*time.Millisecond)
	if n, _ := testenv.RedisDo(srv.Addr, "EXISTS", key); n != "0" {
		t.Errorf("the bucket outlived its TAT (EXISTS %s)", n)
	}
}

// One script call per request whatever the number of limits: a route
// with three limits costs one EVALSHA and nothing else.
func TestRateLimitOneScriptCallPerRequest(t *testing.T) {
	srv := testenv.Redis(t)
	rl := openHot(t, srv.URL(), "").RateLimits()
	checks := []ratelimit.Check{
		{Limit: ratelimit.Limit{Name: "per-sec", Count: 10, Period: time.Second}, Key: "api/per-sec/x"},
		{Limit: ratelimit.Limit{Name: "per-min", Count: 100, Period: time.Minute}, Key: "api/per-min/x"},
		{Limit: ratelimit.Limit{Name: "per-day", Count: 1000, Period: 24 * time.Hour}, Key: "api/per-day/x"},
	}
	out := make([]ratelimit.Result, 3)
	// The first call loads the script (NOSCRIPT, then EVAL).
	if _, err := rl.Take(context.Background(), "x", checks, out); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.RedisDo(srv.Addr, "CONFIG", "RESETSTAT"); err != nil {
		t.Fatal(err)
	}
	const n = 25
	for range n {
		if _, err := rl.Take(context.Background(), "x", checks, out); err != nil {
			t.Fatal(err)
		}
	}
	stats, err := testenv.RedisDo(srv.Addr, "INFO", "commandstats")
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]int{}
	for _, line := range strings.Split(stats, "\r\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":calls=")
		if !ok {
			continue
		}
		c, _, _ := strings.Cut(rest, ",")
		calls[name], _ = strconv.Atoi(c)
	}
	scripts := calls["evalsha"] + calls["eval"] + calls["evalsha_ro"] + calls["eval_ro"] + calls["fcall"] + calls["fcall_ro"]
	if scripts != n || calls["evalsha"] != n {
		t.Errorf("%d requests made %d script calls (%v), want one EVALSHA each", n, scripts, calls)
	}
	// Inside the script: a GET per limit and a SET per limit per allowed
	// request, and the clock.
	if calls["get"] != 3*n || calls["time"] != n {
		t.Errorf("commands run by the script: %v", calls)
	}
}

// A server that stops fails Take at once with ErrUnavailable, and the
// limiter works again once it is back (its script cache empty).
func TestRateLimitServerDown(t *testing.T) {
	srv := testenv.Redis(t)
	rl := openHot(t, srv.URL()+"?dial_timeout=200ms&read_timeout=200ms", "").RateLimits()
	checks := []ratelimit.Check{{Limit: ratelimit.Limit{Name: "l", Count: 5, Period: time.Minute}, Key: "k"}}
	out := make([]ratelimit.Result, 1)
	if ok, err := rl.Take(context.Background(), "g", checks, out); !ok || err != nil {
		t.Fatalf("Take: %v, %v", ok, err)
	}
	srv.Stop()
	start := time.Now()
	if ok, err := rl.Take(context.Background(), "g", checks, out); ok || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Take with the server down: %v, %v; want false, ErrUnavailable", ok, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("failing took %v", d)
	}
	srv.Start(t)
	if ok, err := rl.Take(context.Background(), "g", checks, out); !ok || err != nil || out[0].Remaining != 4 {
		t.Fatalf("Take after the restart (empty server): %v, %v, %+v", ok, err, out[0])
	}
}

func BenchmarkRateLimiter(b *testing.B) {
	for _, limits := range []int{1, 3} {
		b.Run(fmt.Sprintf("limits=%d", limits), func(b *testing.B) {
			benchRateLimiter(b, openHot(b, testenv.Redis(b).URL(), "bench:").RateLimits(), limits)
		})
	}
}

func BenchmarkClusterRateLimiter(b *testing.B) {
	benchRateLimiter(b, openHot(b, testenv.RedisCluster(b, 3).URL(), "bench:").RateLimits(), 3)
}

// benchRateLimiter sends requests of 10,000 clients, each checked against
// limits limits keyed by the client (one group per client).
func benchRateLimiter(b *testing.B, rl ratelimit.Store, limits int) {
	var next atomic.Uint64
	b.ReportAllocs()
	b.SetParallelism(8) // requests wait on the network: keep Redis busy
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		checks := make([]ratelimit.Check, limits)
		out := make([]ratelimit.Result, limits)
		for pb.Next() {
			client := strconv.FormatUint(next.Add(1)%10_000, 10)
			for i := range checks {
				checks[i] = ratelimit.Check{Limit: ratelimit.Limit{Name: "l", Count: 1_000_000, Period: time.Second}, Key: "l" + strconv.Itoa(i)}
			}
			if _, err := rl.Take(context.Background(), client, checks, out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
