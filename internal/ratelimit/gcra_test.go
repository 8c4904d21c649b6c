package ratelimit_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drawbridge-gw/drawbridge/internal/ratelimit"
)

const us = time.Microsecond

// TestApply is the GCRA arithmetic itself, from stored TATs and a time,
// in microseconds. The store suite (ratelimittest) checks the same
// behaviour through every store over sequences of requests.
func TestApply(t *testing.T) {
	perMin := ratelimit.Limit{Name: "m", Count: 100, Period: time.Minute, Burst: 100} // 600ms interval
	perSec := ratelimit.Limit{Name: "s", Count: 2, Period: time.Second}               // burst 2 by default
	tests := []struct {
		name     string
		limits   []ratelimit.Limit
		tats     []int64
		now      int64
		allowed  bool
		wantTATs []int64
		want     []ratelimit.Result
	}{
		{
			name: "empty bucket", limits: []ratelimit.Limit{perMin}, tats: []int64{0}, now: 1e12,
			allowed: true, wantTATs: []int64{1e12 + 600_000},
			want: []ratelimit.Result{{Allowed: true, Remaining: 99, Reset: 600 * time.Millisecond}},
		},
		{
			name: "last of the burst", limits: []ratelimit.Limit{perMin}, tats: []int64{1e12 + 59_400_000}, now: 1e12,
			allowed: true, wantTATs: []int64{1e12 + 60_000_000},
			want: []ratelimit.Result{{Allowed: true, Remaining: 0, Reset: time.Minute, RetryAfter: 600 * time.Millisecond}},
		},
		{
			name: "burst spent", limits: []ratelimit.Limit{perMin}, tats: []int64{1e12 + 60_000_000}, now: 1e12,
			allowed: false, wantTATs: []int64{1e12 + 60_000_000},
			want: []ratelimit.Result{{Reset: time.Minute, RetryAfter: 600 * time.Millisecond}},
		},
		{
			name: "one microsecond early", limits: []ratelimit.Limit{perMin}, tats: []int64{1e12 + 60_000_000}, now: 1e12 + 599_999,
			allowed: false, wantTATs: []int64{1e12 + 60_000_000},
			want: []ratelimit.Result{{Reset: 60_000_000*us - 599_999*us, RetryAfter: us}},
		},
		{
			name: "a TAT long past is an empty bucket", limits: []ratelimit.Limit{perSec}, tats: []int64{5}, now: 1e12,
			allowed: true, wantTATs: []int64{1e12 + 500_000},
			want: []ratelimit.Result{{Allowed: true, Remaining: 1, Reset: 500 * time.Millisecond}},
		},
		{
			name: "refused by one, nothing taken from the other", limits: []ratelimit.Limit{perMin, perSec},
			tats: []int64{1e12, 1e12 + 1_000_000}, now: 1e12,
			allowed: false, wantTATs: []int64{1e12, 1e12 + 1_000_000},
			want: []ratelimit.Result{
				{Allowed: true, Remaining: 100},
				{Reset: time.Second, RetryAfter: 500 * time.Millisecond},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checks := make([]ratelimit.Check, len(tc.limits))
			for i, l := range tc.limits {
				checks[i] = ratelimit.Check{Limit: l, Key: l.Name}
			}
			out := make([]ratelimit.Result, len(checks))
			if err := ratelimit.ValidateRequest(checks, out); err != nil {
				t.Fatal(err)
			}
			tats := append([]int64(nil), tc.tats...)
			if got := ratelimit.Apply(checks, tats, tc.now, out); got != tc.allowed {
				t.Errorf("allowed = %v, want %v", got, tc.allowed)
			}
			if diff := cmp.Diff(tc.wantTATs, tats); diff != "" {
				t.Errorf("TATs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, out); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLimitValidate(t *testing.T) {
	tests := []struct {
		name     string
		limit    ratelimit.Limit
		valid    bool
		interval time.Duration
	}{
		{"100 per minute", ratelimit.Limit{Count: 100, Period: time.Minute}, true, 600 * time.Millisecond},
		{"3 per second rounds to the microsecond", ratelimit.Limit{Count: 3, Period: time.Second}, true, 333333 * us},
		{"a million per second", ratelimit.Limit{Count: 1_000_000, Period: time.Second}, true, us},
		{"more than one per microsecond", ratelimit.Limit{Count: 1_000_001, Period: time.Second}, false, us},
		{"rate 0", ratelimit.Limit{Count: 0, Period: time.Second}, false, 0},
		{"negative count", ratelimit.Limit{Count: -1, Period: time.Second}, false, 0},
		{"no period", ratelimit.Limit{Count: 1}, false, 0},
		{"negative burst", ratelimit.Limit{Count: 1, Period: time.Second, Burst: -1}, false, time.Second},
		{"a year's window", ratelimit.Limit{Count: 366, Period: ratelimit.MaxWindow}, true, 24 * time.Hour},
		{"burst beyond the window", ratelimit.Limit{Count: 1, Period: time.Hour, Burst: 8785}, false, time.Hour},
		{"huge count", ratelimit.Limit{Count: 1 << 62, Period: time.Second}, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.limit.Validate()
			if (err == nil) != tc.valid || (err != nil && !errors.Is(err, ratelimit.ErrInvalid)) {
				t.Errorf("Validate() = %v, want valid %v", err, tc.valid)
			}
			if got := tc.limit.Interval(); got != tc.interval {
				t.Errorf("Interval() = %v, want %v", got, tc.interval)
			}
		})
	}
}
