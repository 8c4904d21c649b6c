package ratelimit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/ratelimit"
	"github.com/drawbridge-gw/drawbridge/internal/ratelimit/ratelimittest"
)

// "100 per minute, burst 100": an idle client sends 100 requests at once,
// then one every 0.6 s.
func Example() {
	clock := ratelimittest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	store := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: clock.Now})
	checks := []ratelimit.Check{{
		Limit: ratelimit.Limit{Name: "per-ip", Count: 100, Period: time.Minute, Burst: 100},
		Key:   "api/per-ip/203.0.113.7",
	}}
	out := make([]ratelimit.Result, 1)
	take := func() bool {
		ok, err := store.Take(context.Background(), "", checks, out)
		if err != nil {
			panic(err)
		}
		return ok
	}
	n := 0
	for take() {
		n++
	}
	fmt.Printf("burst: %d allowed, then retry after %v\n", n, out[0].RetryAfter)
	clock.Advance(600 * time.Millisecond)
	fmt.Println("0.6s later:", take(), "remaining", out[0].Remaining)
	fmt.Println("at once again:", take())
	clock.Advance(time.Minute)
	take()
	fmt.Println("a minute later: remaining", out[0].Remaining)
	// Output:
	// burst: 100 allowed, then retry after 600ms
	// 0.6s later: true remaining 0
	// at once again: false
	// a minute later: remaining 99
}
