// Package ratelimittest is the behaviour every ratelimit.Store must show,
// as one suite that each backend runs (the memory store in package
// ratelimit, the Redis store in internal/store/redis, on one server and
// on a Cluster), like fstest.TestFS for file systems.
//
// The suite drives the store's clock, so that every figure it checks
// (remaining requests, Retry-After to the microsecond) is exact.
package ratelimittest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drawbridge-gw/drawbridge/internal/ratelimit"
)

// Clock is a clock tests set by hand. It is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d (backwards when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Epoch is where suite clocks start.
var Epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Opener returns a new, empty store reading time from now. Stores opened
// for one test must not share buckets with another test's.
type Opener func(t *testing.T, now func() time.Time) ratelimit.Store

// TestStore runs the suite against the stores open returns.
func TestStore(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"BurstThenSteadyRate", testBurstThenSteadyRate},
		{"ExactRetryAfter", testExactRetryAfter},
		{"IdleRefill", testIdleRefill},
		{"BurstBelowCount", testBurstBelowCount},
		{"AllOrNothing", testAllOrNothing},
		{"KeysAreIndependent", testKeysAreIndependent},
		{"ClockGoesBack", testClockGoesBack},
		{"LongWindow", testLongWindow},
		{"InvalidRequests", testInvalidRequests},
		{"ConcurrentOneKey", testConcurrentOneKey},
		{"ConcurrentAllOrNothing", testConcurrentAllOrNothing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClock(Epoch)
			tc.fn(t, &harness{t: t, clock: c, store: open(t, c.Now)})
		})
	}
}

type harness struct {
	t     *testing.T
	clock *Clock
	store ratelimit.Store
}

// take runs one Take under group "g" and fails the test on error.
func (h *harness) take(checks ...ratelimit.Check) (bool, []ratelimit.Result) {
	h.t.Helper()
	out := make([]ratelimit.Result, len(checks))
	ok, err := h.store.Take(context.Background(), "g", checks, out)
	if err != nil {
		h.t.Fatalf("Take: %v", err)
	}
	return ok, out
}

// want checks one Take's outcome.
func (h *harness) want(step string, checks []ratelimit.Check, wantOK bool, want ...ratelimit.Result) {
	h.t.Helper()
	ok, got := h.take(checks...)
	if ok != wantOK {
		h.t.Fatalf("%s: allowed = %v, want %v (results %+v)", step, ok, wantOK, got)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		h.t.Fatalf("%s: results (-want +got):\n%s", step, diff)
	}
}

func check(key string, count int, period time.Duration, burst int) ratelimit.Check {
	return ratelimit.Check{Key: key, Limit: ratelimit.Limit{Name: key, Count: count, Period: period, Burst: burst}}
}

func ok(remaining int, reset, retry time.Duration) ratelimit.Result {
	return ratelimit.Result{Allowed: true, Remaining: remaining, Reset: reset, RetryAfter: retry}
}

func refused(reset, retry time.Duration) ratelimit.Result {
	return ratelimit.Result{Reset: reset, RetryAfter: retry}
}

const ms = time.Millisecond

// 100 per minute, burst 100: an idle client sends 100 at once, then one
// every 0.6 s.
func testBurstThenSteadyRate(t *testing.T, h *harness) {
	c := []ratelimit.Check{check("ip", 100, time.Minute, 100)}
	for i := 1; i <= 100; i++ {
		retry := time.Duration(0)
		if i == 100 {
			retry = 600 * ms
		}
		h.want(fmt.Sprintf("request %d", i), c, true, ok(100-i, time.Duration(i)*600*ms, retry))
	}
	h.want("request 101", c, false, refused(time.Minute, 600*ms))
	for i := range 5 {
		h.clock.Advance(600 * ms)
		h.want(fmt.Sprintf("steady %d", i), c, true, ok(0, time.Minute, 600*ms))
		h.want(fmt.Sprintf("steady %d, too soon", i), c, false, refused(time.Minute, 600*ms))
	}
}

// Retry-After is exact to the microsecond, and a refusal consumes
// nothing: retrying at once does not push it back.
func testExactRetryAfter(t *testing.T, h *harness) {
	c := []ratelimit.Check{check("k", 3, time.Second, 1)} // interval 333.333 ms
	h.want("first", c, true, ok(0, 333333*time.Microsecond, 333333*time.Microsecond))
	h.clock.Advance(100 * ms)
	h.want("100ms later", c, false, refused(233333*time.Microsecond, 233333*time.Microsecond))
	h.want("again", c, false, refused(233333*time.Microsecond, 233333*time.Microsecond))
	h.clock.Advance(233333*time.Microsecond - time.Microsecond)
	h.want("1µs early", c, false, refused(time.Microsecond, time.Microsecond))
	h.clock.Advance(time.Microsecond)
	h.want("on time", c, true, ok(0, 333333*time.Microsecond, 333333*time.Microsecond))
}

// An idle client earns requests back at the nominal rate, up to the
// burst.
func testIdleRefill(t *testing.T, h *harness) {
	c := []ratelimit.Check{check("k", 10, time.Second, 10)}
	for range 10 {
		h.take(c...)
	}
	h.want("drained", c, false, refused(time.Second, 100*ms))
	h.clock.Advance(450 * ms) // four earned back, half of a fifth
	h.want("after 450ms", c, true, ok(3, 650*ms, 0))
	h.clock.Advance(time.Hour)
	h.want("after an hour", c, true, ok(9, 100*ms, 0))
}

// A burst smaller than the count spaces requests out; a larger one
// allows more at once.
func testBurstBelowCount(t *testing.T, h *harness) {
	strict := []ratelimit.Check{check("strict", 10, time.Second, 1)}
	h.want("first", strict, true, ok(0, 100*ms, 100*ms))
	h.want("second", strict, false, refused(100*ms, 100*ms))
	h.clock.Advance(100 * ms)
	h.want("spaced", strict, true, ok(0, 100*ms, 100*ms))

	wide := []ratelimit.Check{check("wide", 10, time.Second, 50)}
	for i := 1; i <= 50; i++ {
		h.take(wide...)
	}
	h.want("51st", wide, false, refused(5*time.Second, 100*ms))
}

// A request refused by one limit consumes nothing from the others.
func testAllOrNothing(t *testing.T, h *harness) {
	perSec := check("per-sec", 2, time.Second, 2)
	perMin := check("per-min", 5, time.Minute, 5)
	both := []ratelimit.Check{perSec, perMin}
	h.want("1", both, true, ok(1, 500*ms, 0), ok(4, 12*time.Second, 0))
	h.want("2", both, true, ok(0, time.Second, 500*ms), ok(3, 24*time.Second, 0))
	// per-sec refuses: per-min keeps its 3.
	for range 3 {
		h.want("3, refused by per-sec", both, false, refused(time.Second, 500*ms), ok(3, 24*time.Second, 0))
	}
	h.clock.Advance(time.Second)
	h.want("4", both, true, ok(1, 500*ms, 0), ok(2, 35*time.Second, 0))
	h.want("5", both, true, ok(0, time.Second, 500*ms), ok(1, 47*time.Second, 0))
	h.clock.Advance(time.Second)
	h.want("6", both, true, ok(1, 500*ms, 0), ok(0, 58*time.Second, 10*time.Second))
	// per-min refuses: per-sec keeps its 1.
	h.want("7, refused by per-min", both, false, ok(1, 500*ms, 0), refused(58*time.Second, 10*time.Second))
	// Both refuse.
	h.want("8", []ratelimit.Check{perSec, perSec2(perSec)}, true, ok(0, time.Second, 500*ms), ok(0, 500*ms, 500*ms))
	h.want("9, both refuse", both, false, refused(time.Second, 500*ms), refused(58*time.Second, 10*time.Second))
}

// perSec2 is a second bucket with c's limit.
func perSec2(c ratelimit.Check) ratelimit.Check {
	c.Key += "-2"
	c.Limit.Count, c.Limit.Burst = 2, 1
	return c
}

func testKeysAreIndependent(t *testing.T, h *harness) {
	a := []ratelimit.Check{check("a", 1, time.Minute, 1)}
	b := []ratelimit.Check{check("b", 1, time.Minute, 1)}
	h.want("a", a, true, ok(0, time.Minute, time.Minute))
	h.want("a again", a, false, refused(time.Minute, time.Minute))
	h.want("b", b, true, ok(0, time.Minute, time.Minute))
	// The same key and limit under another name is the same bucket.
	renamed := a[0]
	renamed.Limit.Name = "other"
	h.want("a renamed", []ratelimit.Check{renamed}, false, refused(time.Minute, time.Minute))
}

// A clock that steps back (NTP) never lets more through; the bucket's
// TAT stays where it was.
func testClockGoesBack(t *testing.T, h *harness) {
	c := []ratelimit.Check{check("k", 2, time.Second, 2)}
	h.take(c...)
	h.take(c...)
	h.clock.Advance(-10 * time.Second)
	h.want("10s back", c, false, refused(11*time.Second, 10500*ms))
	h.clock.Advance(10 * time.Second)
	h.want("back to now", c, false, refused(time.Second, 500*ms))
}

// The widest window Validate accepts, and a slow rate.
func testLongWindow(t *testing.T, h *harness) {
	year := []ratelimit.Check{check("year", 1, ratelimit.MaxWindow, 1)}
	h.want("first", year, true, ok(0, ratelimit.MaxWindow, ratelimit.MaxWindow))
	h.clock.Advance(ratelimit.MaxWindow - time.Second)
	h.want("a second early", year, false, refused(time.Second, time.Second))
	daily := []ratelimit.Check{check("daily", 1000, 24*time.Hour, 1000)}
	for range 1000 {
		h.take(daily...)
	}
	h.want("1001st", daily, false, refused(24*time.Hour, 86400*ms))
}

func testInvalidRequests(t *testing.T, h *harness) {
	good := check("k", 1, time.Second, 1)
	cases := []struct {
		name   string
		checks []ratelimit.Check
	}{
		{"none", nil},
		{"zero count", []ratelimit.Check{check("k", 0, time.Second, 1)}},
		{"zero period", []ratelimit.Check{check("k", 1, 0, 1)}},
		{"negative burst", []ratelimit.Check{check("k", 1, time.Second, -1)}},
		{"above a request per microsecond", []ratelimit.Check{check("k", 2_000_000, time.Second, 1)}},
		{"window too long", []ratelimit.Check{check("k", 1, ratelimit.MaxWindow+time.Hour, 1)}},
		{"empty key", []ratelimit.Check{check("", 1, time.Second, 1)}},
		{"long key", []ratelimit.Check{check(string(make([]byte, ratelimit.MaxKeyLen+1)), 1, time.Second, 1)}},
		{"repeated key", []ratelimit.Check{good, good}},
		{"too many", make([]ratelimit.Check, ratelimit.MaxChecks+1)},
	}
	for _, tc := range cases {
		out := make([]ratelimit.Result, len(tc.checks))
		allowed, err := h.store.Take(context.Background(), "g", tc.checks, out)
		if allowed || !errors.Is(err, ratelimit.ErrInvalid) {
			t.Errorf("%s: %v, %v; want false, ErrInvalid", tc.name, allowed, err)
		}
	}
	if _, err := h.store.Take(context.Background(), "g", []ratelimit.Check{good}, nil); !errors.Is(err, ratelimit.ErrInvalid) {
		t.Errorf("no room for results: %v, want ErrInvalid", err)
	}
	// Nothing was consumed by the invalid requests.
	h.want("valid", []ratelimit.Check{good}, true, ok(0, time.Second, time.Second))
}

// Concurrent requests on one bucket: exactly the burst gets through.
func testConcurrentOneKey(t *testing.T, h *harness) {
	const burst, workers, each = 50, 8, 25
	c := check("shared", burst, time.Hour, burst)
	var allowed atomic.Int64
	run(t, workers, each, func(int) []ratelimit.Check { return []ratelimit.Check{c} }, h.store, &allowed)
	if n := allowed.Load(); n != burst {
		t.Errorf("%d requests allowed, want exactly %d", n, burst)
	}
}

// Concurrent requests on a shared bucket and their own: the shared one
// admits exactly its burst, and each worker's own bucket is charged only
// for the requests that got through.
func testConcurrentAllOrNothing(t *testing.T, h *harness) {
	const burst, workers, each = 30, 6, 20
	shared := check("shared", burst, time.Hour, burst)
	own := func(w int) ratelimit.Check { return check(fmt.Sprintf("own-%d", w), 1000, time.Hour, 1000) }
	var allowed atomic.Int64
	run(t, workers, each, func(w int) []ratelimit.Check { return []ratelimit.Check{own(w), shared} }, h.store, &allowed)
	if n := allowed.Load(); n != burst {
		t.Fatalf("%d requests allowed, want exactly %d", n, burst)
	}
	var charged int
	for w := range workers {
		_, out := h.take(own(w))
		charged += 1000 - 1 - out[0].Remaining
	}
	if charged != burst {
		t.Errorf("own buckets were charged %d requests, want %d", charged, burst)
	}
}

func run(t *testing.T, workers, each int, checks func(w int) []ratelimit.Check, s ratelimit.Store, allowed *atomic.Int64) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs := checks(w)
			out := make([]ratelimit.Result, len(cs))
			for range each {
				ok, err := s.Take(context.Background(), "g", cs, out)
				if err != nil {
					errs <- err
					return
				}
				if ok {
					allowed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Take: %v", err)
	}
}
