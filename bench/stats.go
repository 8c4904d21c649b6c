package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// percentile returns the p-th percentile of sorted by the nearest-rank
// method: the smallest value with at least p% of values at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// median returns the median of xs (the mean of the two middle values
// when their number is even), or NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// figures are a row's medians over runs. Ratios are taken per run
// against the base row's measurement of the same run, then their median
// is reported; a ratio of medians would mix a fast run's base with a slow
// run's row.
type figures struct {
	RPS      float64
	P50      float64
	P99      float64
	RPSRatio float64
	P50Ratio float64
	P99Ratio float64
	// The smallest and largest per-run ratios: how noisy the machine was.
	RPSRatioMin, RPSRatioMax float64
	P99RatioMin, P99RatioMax float64
	// Runs is how many runs the medians are over; Paired how many of
	// them the base row was also measured in.
	Runs   int
	Paired int
}

// summarize computes a row's figures from its runs and its base row's.
func summarize(row, base []measurement) figures {
	var rps, p50, p99, rr, r50, r99 []float64
	byRun := make(map[int]measurement, len(base))
	for _, b := range base {
		byRun[b.Run] = b
	}
	for _, m := range row {
		rps, p50, p99 = append(rps, m.RPS), append(p50, m.P50), append(p99, m.P99)
		b, ok := byRun[m.Run]
		if !ok {
			continue
		}
		rr = append(rr, m.RPS/b.RPS)
		r50 = append(r50, m.P50/b.P50)
		r99 = append(r99, m.P99/b.P99)
	}
	f := figures{
		RPS: median(rps), P50: median(p50), P99: median(p99),
		RPSRatio: median(rr), P50Ratio: median(r50), P99Ratio: median(r99),
		RPSRatioMin: math.NaN(), RPSRatioMax: math.NaN(), P99RatioMin: math.NaN(), P99RatioMax: math.NaN(),
		Runs: len(row), Paired: len(rr),
	}
	if len(rr) > 0 {
		f.RPSRatioMin, f.RPSRatioMax = slices.Min(rr), slices.Max(rr)
		f.P99RatioMin, f.P99RatioMax = slices.Min(r99), slices.Max(r99)
	}
	return f
}

// check is one -check flag: ROW:COND[,COND...].
type check struct {
	Row   string
	Conds []cond
}

// cond bounds one of a row's median ratios, e.g. rps>=0.90.
type cond struct {
	Metric string // rps, p50 or p99: the ratio to the base row
	Op     string // >=, <=, >, <
	Value  float64
}

func (c cond) String() string {
	return c.Metric + c.Op + strconv.FormatFloat(c.Value, 'f', -1, 64)
}

// parseCheck parses "basic:rps>=0.90,p99<=1.20".
func parseCheck(s string) (check, error) {
	row, list, ok := strings.Cut(s, ":")
	if !ok || strings.TrimSpace(row) == "" || strings.TrimSpace(list) == "" {
		return check{}, fmt.Errorf("check %q: want ROW:METRIC>=VALUE[,...]", s)
	}
	c := check{Row: strings.TrimSpace(row)}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		var cd cond
		for _, op := range []string{">=", "<=", ">", "<"} { // two-byte operators first
			if m, v, ok := strings.Cut(item, op); ok {
				cd.Metric, cd.Op = strings.TrimSpace(m), op
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					return check{}, fmt.Errorf("check %q: %q is not a number", s, v)
				}
				cd.Value = f
				break
			}
		}
		switch {
		case cd.Op == "":
			return check{}, fmt.Errorf("check %q: %q has no operator (>=, <=, >, <)", s, item)
		case cd.Metric != "rps" && cd.Metric != "p50" && cd.Metric != "p99":
			return check{}, fmt.Errorf("check %q: metric %q: want rps, p50 or p99 (ratios to the base row)", s, cd.Metric)
		}
		c.Conds = append(c.Conds, cd)
	}
	return c, nil
}

// eval returns the ratio cd bounds and whether it holds. A missing
// (NaN) ratio never holds.
func (cd cond) eval(f figures) (float64, bool) {
	v := map[string]float64{"rps": f.RPSRatio, "p50": f.P50Ratio, "p99": f.P99Ratio}[cd.Metric]
	switch cd.Op {
	case ">=":
		return v, v >= cd.Value
	case "<=":
		return v, v <= cd.Value
	case ">":
		return v, v > cd.Value
	case "<":
		return v, v < cd.Value
	}
	return v, false
}
