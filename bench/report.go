package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// summary is everything a benchmark produced; it is written to
// summary.json.
type summary struct {
	Started    time.Time    `json:"started"`
	Finished   time.Time    `json:"finished"`
	Settings   settings     `json:"settings"`
	Machine    machine      `json:"machine"`
	Commands   commands     `json:"commands"`
	Upstream   procInfo     `json:"upstream"`
	Drawbridge *binary      `json:"drawbridge,omitempty"`
	Rows       []*rowReport `json:"rows"`
}

type settings struct {
	Load        string   `json:"load"` // the generator actually used
	Runs        int      `json:"runs"`
	Duration    string   `json:"duration"`
	Warmup      string   `json:"warmup"`
	Connections int      `json:"connections"`
	Rows        string   `json:"rows_flag"`
	Bin         string   `json:"bin_flag,omitempty"`
	Checks      []string `json:"check_flags,omitempty"`
	checks      []check
}

type commands struct {
	// Harness is the harness's arguments.
	Harness string `json:"harness"`
	// Build is the drawbridge build command; empty with -bin or bare only.
	Build string `json:"build,omitempty"`
}

type machine struct {
	NumCPU     int     `json:"nproc"`
	CPUModel   string  `json:"cpu_model,omitempty"`
	Siblings   string  `json:"cpu_thread_siblings,omitempty"` // whether the two CPUs share a core
	Kernel     string  `json:"kernel,omitempty"`
	GoVersion  string  `json:"go_version"`
	GOOS       string  `json:"goos"`
	GOARCH     string  `json:"goarch"`
	GOMAXPROCS string  `json:"env_gomaxprocs,omitempty"` // $GOMAXPROCS, inherited by every child
	Pinning    pinning `json:"pinning"`
}

// binary describes the drawbridge binary measured.
type binary struct {
	Path      string `json:"path"`
	GoVersion string `json:"go_version,omitempty"`
	Revision  string `json:"vcs_revision,omitempty"`
}

// procInfo describes a child process as it ran.
type procInfo struct {
	Command    string `json:"command"`
	PID        int    `json:"pid"`
	CPUs       string `json:"cpus_allowed"`
	GOMAXPROCS int    `json:"gomaxprocs"` // 0: not known
	Log        string `json:"log"`
}

// measurement is one row measured once.
type measurement struct {
	Run      int       `json:"run"`      // 1-based
	Position int       `json:"position"` // 0: measured first in its run
	Start    time.Time `json:"start"`
	loadResult
	Proxy procInfo `json:"proxy"`
	// CPUBusy is each CPU's busy percentage during the measured run.
	CPUBusy map[string]float64 `json:"cpu_busy_pct,omitempty"`
	// CPUBusyBefore is the same for half a second just before the
	// warm-up, while the benchmark itself was idle: other processes.
	CPUBusyBefore map[string]float64 `json:"cpu_busy_before_pct,omitempty"`
	// Ratios to the base row's measurement of the same run.
	RPSRatio *float64 `json:"rps_ratio,omitempty"`
	P99Ratio *float64 `json:"p99_ratio,omitempty"`
}

type rowReport struct {
	Name           string   `json:"name"`
	Base           string   `json:"base"`
	Config         string   `json:"config,omitempty"`
	ConfigContents string   `json:"config_contents,omitempty"`
	Method         string   `json:"method"`
	Path           string   `json:"path"`
	Headers        []Header `json:"headers"`
	Body           string   `json:"body,omitempty"`
	HasSetup       bool     `json:"setup,omitempty"` // more headers, not recorded, came from Setup
	// Refused says why the row has no figures.
	Refused string        `json:"refused,omitempty"`
	Runs    []measurement `json:"runs"`
	Median  *figures      `json:"median,omitempty"`
}

func newSummary(o options, sel []Row, root string, pin pinning) *summary {
	s := &summary{
		Started: time.Now(),
		Settings: settings{
			Load: o.Load, Runs: o.Runs, Duration: o.Duration.String(), Warmup: o.Warmup.String(),
			Connections: o.Conns, Rows: o.Rows, Bin: o.Bin, Checks: o.CheckSource, checks: o.Checks,
		},
		Commands: commands{Harness: shellLine(nil, append([]string{"go", "run", "./bench"}, os.Args[1:]...))},
		Machine: machine{
			NumCPU:     runtime.NumCPU(),
			CPUModel:   cpuModel(),
			Siblings:   readTrim("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list"),
			Kernel:     readTrim("/proc/sys/kernel/osrelease"),
			GoVersion:  runtime.Version(),
			GOOS:       runtime.GOOS,
			GOARCH:     runtime.GOARCH,
			GOMAXPROCS: os.Getenv("GOMAXPROCS"),
			Pinning:    pin,
		},
	}
	for _, r := range sel {
		rep := &rowReport{
			Name: r.Name, Base: r.base(), Config: r.Config, Method: r.method(), Path: r.Path,
			Headers: r.Headers, Body: r.Body, HasSetup: r.Setup != nil, Runs: []measurement{},
		}
		if r.Config != "" {
			data, err := os.ReadFile(filepath.Join(root, r.Config))
			if err != nil {
				rep.ConfigContents = "(" + err.Error() + ")"
			} else {
				rep.ConfigContents = string(data)
			}
		}
		s.Rows = append(s.Rows, rep)
	}
	return s
}

func (s *summary) row(name string) *rowReport {
	for _, r := range s.Rows {
		if r.Name == name {
			return r
		}
	}
	panic("bench: no row " + name) // rows come from selectRows
}

// refuse marks a row refused, and every row measured against it.
func (s *summary) refuse(name, reason string) {
	s.row(name).Refused = reason
	for changed := true; changed; {
		changed = false
		for _, r := range s.Rows {
			if r.Refused == "" && s.row(r.Base).Refused != "" {
				r.Refused = fmt.Sprintf("its base row %s was refused", r.Base)
				changed = true
			}
		}
	}
}

func (s *summary) anyRefused() bool {
	for _, r := range s.Rows {
		if r.Refused != "" {
			return true
		}
	}
	return false
}

// finish computes the medians and ratios of every row that was not
// refused.
func (s *summary) finish() {
	s.Finished = time.Now()
	for _, r := range s.Rows {
		if r.Refused != "" || len(r.Runs) == 0 {
			continue
		}
		base := s.row(r.Base).Runs
		f := summarize(r.Runs, base)
		r.Median = &f
		for i := range r.Runs {
			m := &r.Runs[i]
			for _, b := range base {
				if b.Run == m.Run {
					rr, pr := m.RPS/b.RPS, m.P99/b.P99
					m.RPSRatio, m.P99Ratio = &rr, &pr
				}
			}
		}
	}
}

// printTable prints the report table.
func (s *summary) printTable(w io.Writer) {
	label := func(r *rowReport) string {
		if r.Base != baseRow {
			return r.Name + " (vs " + r.Base + ")"
		}
		return r.Name
	}
	width := len("row")
	for _, r := range s.Rows {
		width = max(width, len(label(r)))
	}
	fmt.Fprintf(w, "%-*s  %9s  %9s  %9s  %11s  %9s  %4s\n", width, "row", "req/s", "p50", "p99", "req/s ratio", "p99 ratio", "runs")
	for _, r := range s.Rows {
		if r.Median == nil {
			reason := r.Refused
			if reason == "" {
				reason = "no figures"
			}
			fmt.Fprintf(w, "%-*s  REFUSED: %s\n", width, label(r), reason)
			continue
		}
		f := r.Median
		fmt.Fprintf(w, "%-*s  %9.0f  %7.3fms  %7.3fms  %11.3f  %9.3f  %4d\n",
			width, label(r), f.RPS, f.P50, f.P99, f.RPSRatio, f.P99Ratio, f.Runs)
	}
	fmt.Fprintf(w, "medians over runs; ratios are taken per run against the base row of the same run\n")
	for _, n := range s.notes() {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// busyMachinePct is the CPU use by other processes, just before a
// measurement, above which the report warns.
const busyMachinePct = 15

// notes point out figures the reader should not trust much: ratios that
// moved a lot between runs, and runs where the load side, not the proxy,
// was out of CPU.
func (s *summary) notes() []string {
	var out []string
	for _, r := range s.Rows {
		f := r.Median
		if f == nil || r.Name == r.Base || f.Paired < 2 {
			continue
		}
		if f.RPSRatioMax-f.RPSRatioMin > 0.10 || f.P99RatioMax > 1.5*f.P99RatioMin {
			out = append(out, fmt.Sprintf("%s: per-run req/s ratio %.2f-%.2f, p99 ratio %.2f-%.2f; the machine was noisy, more -runs or a quieter machine will help",
				r.Name, f.RPSRatioMin, f.RPSRatioMax, f.P99RatioMin, f.P99RatioMax))
		}
	}
	busy, total, worst := 0, 0, 0.0
	for _, r := range s.Rows {
		for _, m := range r.Runs {
			total++
			high := 0.0
			for _, v := range m.CPUBusyBefore {
				high = max(high, v)
			}
			if high >= busyMachinePct {
				busy++
				worst = max(worst, high)
			}
		}
	}
	if busy > 0 {
		out = append(out, fmt.Sprintf("%d of %d measurements began on a busy machine (other processes used up to %.0f%% of a CPU just before); their figures are unreliable", busy, total, worst))
	}
	p := s.Machine.Pinning
	if p.Taskset == "" {
		return out
	}
	cpu := fmt.Sprintf("cpu%d", p.LoadCPU)
	for _, r := range s.Rows {
		var busy []float64
		for _, m := range r.Runs {
			if v, ok := m.CPUBusy[cpu]; ok {
				busy = append(busy, v)
			}
		}
		if b := median(busy); b >= 95 {
			out = append(out, fmt.Sprintf("%s: CPU %d (load generator and upstream) was %.0f%% busy; the load side may limit its figures", r.Name, p.LoadCPU, b))
		}
	}
	return out
}

// evalChecks prints each -check and reports whether all held.
func (s *summary) evalChecks(w io.Writer) bool {
	ok := true
	for _, c := range s.Settings.checks {
		var r *rowReport
		for _, x := range s.Rows {
			if x.Name == c.Row {
				r = x
			}
		}
		switch {
		case r == nil:
			fmt.Fprintf(w, "check %s: FAIL: row not measured\n", c.Row)
			ok = false
			continue
		case r.Median == nil:
			fmt.Fprintf(w, "check %s: FAIL: row has no figures (%s)\n", c.Row, r.Refused)
			ok = false
			continue
		}
		for _, cd := range c.Conds {
			v, held := cd.eval(*r.Median)
			verdict := "ok"
			if !held {
				verdict, ok = "FAIL", false
			}
			fmt.Fprintf(w, "check %s: %s ratio %.3f, want %s: %s\n", c.Row, cd.Metric, v, cd, verdict)
		}
	}
	return ok
}

func (s *summary) write(path string) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// MarshalJSON writes a missing figure (NaN: no paired run) as null,
// which encoding/json cannot do for a float64.
func (f figures) MarshalJSON() ([]byte, error) {
	num := func(v float64) any {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return v
	}
	return json.Marshal(map[string]any{
		"rps": num(f.RPS), "p50_ms": num(f.P50), "p99_ms": num(f.P99),
		"rps_ratio": num(f.RPSRatio), "p50_ratio": num(f.P50Ratio), "p99_ratio": num(f.P99Ratio),
		"rps_ratio_range": []any{num(f.RPSRatioMin), num(f.RPSRatioMax)},
		"p99_ratio_range": []any{num(f.P99RatioMin), num(f.P99RatioMax)},
		"runs":            f.Runs, "paired_runs": f.Paired,
	})
}
