package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"time"
)

// loader generates load against one URL and reports what it measured.
type loader interface {
	// Name is "wrk" or "go".
	Name() string
	// Run holds s.Conns connections busy for s.Duration, closed loop.
	Run(ctx context.Context, s loadSpec) (loadResult, error)
}

// loadSpec is one load generator run.
type loadSpec struct {
	URL      string
	Method   string
	Headers  []Header
	Body     string
	Conns    int
	Duration time.Duration
	// Tag names files the run writes (scripts, bodies) in Dir.
	Tag string
	Dir string
	// Secret holds header names whose values must not be written to
	// disk or to recorded command lines.
	Secret map[string]bool
	// PerRequest names headers made for each request (Row.PerRequest),
	// from PerRequestKey, which reaches the Go load generator in its
	// environment only.
	PerRequest    string
	PerRequestKey []byte
}

// loadResult is what one load generator run measured.
type loadResult struct {
	Requests int64   `json:"requests"`
	RPS      float64 `json:"rps"`
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
	// Non2xx counts answers outside 200-299. wrk only counts statuses
	// of 400 and above; the preflight request catches steady 3xx.
	Non2xx int64 `json:"non_2xx"`
	// SocketErrors counts connect, read and write errors and timeouts.
	SocketErrors int64 `json:"socket_errors"`
	// ErrorDetail says what the errors were, when the generator knows.
	ErrorDetail string `json:"error_detail,omitempty"`
	// Command is the load generator's command line.
	Command string `json:"command"`
	// GOMAXPROCS of the built-in generator; 0 for wrk (its -t1 is one
	// thread).
	GOMAXPROCS int `json:"gomaxprocs,omitempty"`
}

// failed returns why a measured run must not be reported, or "".
func (r loadResult) failed() string {
	var why []string
	if r.Non2xx > 0 {
		why = append(why, fmt.Sprintf("%d non-2xx responses", r.Non2xx))
	}
	if r.SocketErrors > 0 {
		why = append(why, fmt.Sprintf("%d socket errors", r.SocketErrors))
	}
	if r.ErrorDetail != "" {
		why = append(why, r.ErrorDetail)
	}
	if r.Requests == 0 {
		why = append(why, "no request completed")
	}
	return strings.Join(why, "; ")
}

// chooseLoader resolves -load.
func chooseLoader(kind string, self string, pin pinning) (loader, string, error) {
	wrk, err := exec.LookPath("wrk")
	switch kind {
	case "wrk":
		if err != nil {
			return nil, "", fmt.Errorf("-load wrk: wrk is not installed (%s)", wrkHint)
		}
		return wrkLoader{bin: wrk, pin: pin}, "", nil
	case "go":
		return goLoader{self: self, pin: pin}, "", nil
	case "auto":
		if err != nil {
			return goLoader{self: self, pin: pin}, "wrk not found, using the built-in Go load generator; " + wrkHint, nil
		}
		return wrkLoader{bin: wrk, pin: pin}, "", nil
	}
	return nil, "", fmt.Errorf("-load %q: want wrk, go or auto", kind)
}

const wrkHint = "install it with `apt-get install -y wrk` (make bench does so when run as root)"

// preflight sends one request the way the load generator will and
// refuses the row unless the answer is 2xx: a row measured while every
// request is denied would report the speed of the denial.
func preflight(ctx context.Context, c *http.Client, s loadSpec) error {
	var body io.Reader
	if s.Body != "" {
		body = strings.NewReader(s.Body)
	}
	req, err := http.NewRequestWithContext(ctx, s.Method, s.URL, body)
	if err != nil {
		return err
	}
	headers := s.Headers
	if s.PerRequest != "" {
		next, err := perRequestHeaders(s.PerRequest, s.PerRequestKey, s.Method, req.URL, s.Headers)
		if err != nil {
			return err
		}
		headers = append(append([]Header{}, headers...), next()...)
	}
	for _, h := range headers {
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := c.Do(req)
	if err != nil {
		return refuse("preflight %s %s: %v", s.Method, s.URL, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 2<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return refuse("preflight %s %s answered %s: %s", s.Method, s.URL, resp.Status, strings.TrimSpace(string(data)))
	}
	return nil
}

// redactArgs returns argv with the values of secret headers, in "Name:
// value" arguments, replaced.
func redactArgs(argv []string, secret map[string]bool) []string {
	if len(secret) == 0 {
		return argv
	}
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = a
		if name, _, ok := strings.Cut(a, ":"); ok && secret[http.CanonicalHeaderKey(strings.TrimSpace(name))] {
			out[i] = name + ": <redacted>"
		}
	}
	return out
}
