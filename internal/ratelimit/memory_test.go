package ratelimit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/ratelimit"
	"github.com/drawbridge-gw/drawbridge/internal/ratelimit/ratelimittest"
)

func TestMemoryConformance(t *testing.T) {
	ratelimittest.TestStore(t, func(t *testing.T, now func() time.Time) ratelimit.Store {
		return ratelimit.NewMemory(ratelimit.MemoryOptions{Now: now})
	})
}

// A small bound is kept however many clients arrive, and forgettable
// buckets (their TAT passed) go first.
func TestMemoryBound(t *testing.T) {
	clock := ratelimittest.NewClock(ratelimittest.Epoch)
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: clock.Now, MaxKeys: 4096})
	limit := ratelimit.Limit{Name: "l", Count: 10, Period: time.Second}
	out := make([]ratelimit.Result, 1)
	take := func(key string) bool {
		ok, err := m.Take(context.Background(), "", []ratelimit.Check{{Limit: limit, Key: key}}, out)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for i := range 100_000 {
		take(fmt.Sprint("flood-", i))
		if i%1000 == 0 {
			clock.Advance(time.Millisecond)
		}
	}
	if n := m.Len(); n > 4096 {
		t.Fatalf("%d buckets held, bound 4096", n)
	}
	// A client that drained an hourly bucket, among a flood of
	// one-request clients whose buckets are forgettable after 100ms: its
	// bucket stays.
	hourly := ratelimit.Check{Limit: ratelimit.Limit{Name: "h", Count: 10, Period: time.Hour}, Key: "victim"}
	for range 10 {
		if ok, err := m.Take(context.Background(), "", []ratelimit.Check{hourly}, out); !ok || err != nil {
			t.Fatalf("victim: %v, %v", ok, err)
		}
	}
	for i := range 20_000 {
		if i%100 == 0 {
			clock.Advance(10 * time.Millisecond)
		}
		take(fmt.Sprint("later-", i))
	}
	if ok, _ := m.Take(context.Background(), "", []ratelimit.Check{hourly}, out); ok {
		t.Error("the victim's drained bucket was forgotten while forgettable ones were held")
	}
}
