package main

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{1, 100, 2, 3, 4}, 3}, // one disturbed run moves nothing
	}
	for _, tt := range tests {
		in := slices.Clone(tt.in)
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
		if !slices.Equal(in, tt.in) {
			t.Errorf("median reordered its input: %v", tt.in)
		}
	}
	if got := median(nil); !math.IsNaN(got) {
		t.Errorf("median(nil) = %v, want NaN", got)
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 200; i++ {
		d = append(d, time.Duration(i))
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{50, 100}, {99, 198}, {100, 200}, {0, 1}} {
		if got := percentile(d, tt.p); got != tt.want {
			t.Errorf("percentile(1..200, %v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}
}

func TestSummarizePairsRuns(t *testing.T) {
	m := func(run int, rps, p50, p99 float64) measurement {
		return measurement{Run: run, loadResult: loadResult{RPS: rps, P50: p50, P99: p99}}
	}
	// The machine is twice as fast in run 2; the gateway costs 20% of
	// throughput and 50% more p99 in every run. A ratio of medians would
	// be 0.8 only by luck; per-run ratios are 0.8 every time.
	base := []measurement{m(1, 1000, 1, 2), m(2, 2000, 0.5, 1), m(3, 1000, 1, 2)}
	row := []measurement{m(1, 800, 1.2, 3), m(2, 1600, 0.6, 1.5), m(3, 800, 1.2, 3), m(4, 10, 9, 9)}
	got := summarize(row, base)
	want := figures{
		RPS: 800, P50: 1.2, P99: 3, RPSRatio: 0.8, P50Ratio: 1.2, P99Ratio: 1.5,
		RPSRatioMin: 0.8, RPSRatioMax: 0.8, P99RatioMin: 1.5, P99RatioMax: 1.5, Runs: 4, Paired: 3,
	}
	if !nearFigures(got, want) {
		t.Errorf("summarize =\n%+v\nwant\n%+v", got, want)
	}
	self := summarize(base, base)
	if self.RPSRatio != 1 || self.P99Ratio != 1 {
		t.Errorf("base against itself: ratios %v, %v; want 1, 1", self.RPSRatio, self.P99Ratio)
	}
}

func nearFigures(a, b figures) bool {
	return near(a.RPS, b.RPS) && near(a.P50, b.P50) && near(a.P99, b.P99) &&
		near(a.RPSRatio, b.RPSRatio) && near(a.P50Ratio, b.P50Ratio) && near(a.P99Ratio, b.P99Ratio) &&
		near(a.RPSRatioMin, b.RPSRatioMin) && near(a.RPSRatioMax, b.RPSRatioMax) &&
		near(a.P99RatioMin, b.P99RatioMin) && near(a.P99RatioMax, b.P99RatioMax) &&
		a.Runs == b.Runs && a.Paired == b.Paired
}

func TestFiguresJSONWritesNaNAsNull(t *testing.T) {
	data, err := figures{RPS: 1, RPSRatio: math.NaN()}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"rps_ratio":null`) || !strings.Contains(string(data), `"rps":1`) {
		t.Errorf("MarshalJSON = %s", data)
	}
}

func TestParseCheck(t *testing.T) {
	got, err := parseCheck("basic:rps>=0.90, p99<=1.2,p50<2")
	if err != nil {
		t.Fatal(err)
	}
	want := check{Row: "basic", Conds: []cond{{"rps", ">=", 0.9}, {"p99", "<=", 1.2}, {"p50", "<", 2}}}
	if got.Row != want.Row || !slices.Equal(got.Conds, want.Conds) {
		t.Errorf("parseCheck = %+v, want %+v", got, want)
	}
	for _, bad := range []string{"basic", ":rps>=1", "basic:", "basic:rps=1", "basic:qps>=1", "basic:rps>=x"} {
		if c, err := parseCheck(bad); err == nil {
			t.Errorf("parseCheck(%q) = %+v, want an error", bad, c)
		}
	}
}

func TestCondEval(t *testing.T) {
	f := figures{RPSRatio: 0.9, P50Ratio: 1.1, P99Ratio: 1.25}
	tests := []struct {
		c    cond
		want bool
	}{
		{cond{"rps", ">=", 0.9}, true},
		{cond{"rps", ">", 0.9}, false},
		{cond{"p99", "<=", 1.2}, false},
		{cond{"p99", "<", 1.3}, true},
		{cond{"p50", "<=", 1.1}, true},
	}
	for _, tt := range tests {
		if _, got := tt.c.eval(f); got != tt.want {
			t.Errorf("%s on %+v = %v, want %v", tt.c, f, got, tt.want)
		}
	}
	if _, ok := (cond{"rps", ">=", 0}).eval(figures{RPSRatio: math.NaN()}); ok {
		t.Error("a missing ratio passed a check")
	}
}
