package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// harness holds what every measurement shares.
type harness struct {
	opts     options
	root     string // module root
	out      string // absolute output directory
	self     string // this program, re-executed for subcommands
	bin      string // drawbridge binary; empty when no row needs it
	pin      pinning
	load     loader
	client   *http.Client
	upstream string // upstream base URL
	stderr   io.Writer
	redis    *redisServer // started by the first row that needs it (redis.go)
}

// bench runs the benchmark and returns the exit status.
func bench(ctx context.Context, o options, stdout, stderr io.Writer) (int, error) {
	root, err := moduleRoot()
	if err != nil {
		return 0, err
	}
	sel, err := selectRows(rows(), o.Rows)
	if err != nil {
		return 0, err
	}
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	out := o.Out
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	h := &harness{
		opts: o,
		root: root,
		out:  out,
		self: self,
		pin:  detectPinning(),
		// No Accept-Encoding of its own: the preflight sends what the
		// load generator sends.
		client: &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true}, Timeout: 10 * time.Second},
		stderr: stderr,
	}
	defer h.client.CloseIdleConnections()
	for _, d := range []string{h.out, filepath.Join(h.out, "logs"), filepath.Join(h.out, "load")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return 0, err
		}
	}
	s := newSummary(o, sel, root, h.pin)
	var hint string
	if h.load, hint, err = chooseLoader(o.Load, self, h.pin); err != nil {
		return 0, err
	}
	s.Settings.Load = h.load.Name()
	fmt.Fprintf(stderr, "bench: pinning %s\n", h.pin.Desc)
	if hint != "" {
		fmt.Fprintf(stderr, "bench: %s\n", hint)
	}
	fmt.Fprintf(stderr, "bench: load %s, %d connections, %d runs of %s (warm-up %s), rows %s\n",
		h.load.Name(), o.Conns, o.Runs, o.Duration, o.Warmup, strings.Join(names(sel), ", "))

	if s.Commands.Build, err = h.drawbridge(ctx, sel); err != nil {
		return 0, err
	}
	if h.bin != "" {
		s.Drawbridge = describeBinary(h.bin)
	}
	up, info, err := h.startUpstream()
	if err != nil {
		return 0, err
	}
	defer up.stop()
	defer func() { h.redis.stop() }()
	s.Upstream = info

	if err := h.measureAll(ctx, s, sel); err != nil {
		return 0, err
	}
	s.finish()
	s.printTable(stdout)
	if err := s.write(filepath.Join(h.out, "summary.json")); err != nil {
		return 0, err
	}
	fmt.Fprintf(stderr, "bench: wrote %s\n", filepath.Join(h.out, "summary.json"))
	code := 0
	if s.anyRefused() {
		code = 1
	}
	if !s.evalChecks(stdout) {
		code = 1
	}
	return code, nil
}

// measureAll runs the benchmark proper: o.Runs runs, each measuring every
// row not yet refused once, in an order rotated by one row per run.
func (h *harness) measureAll(ctx context.Context, s *summary, sel []Row) error {
	n := h.opts.Runs
	for run := 1; run <= n; run++ {
		for pos, row := range rotate(sel, run-1) {
			rep := s.row(row.Name)
			if rep.Refused != "" {
				continue
			}
			m, err := h.measure(ctx, row, run, pos)
			var rf *refusal
			if errors.As(err, &rf) {
				s.refuse(row.Name, fmt.Sprintf("run %d: %s", run, rf.Reason))
				fmt.Fprintf(h.stderr, "run %d/%d  %-12s REFUSED: %s\n", run, n, row.Name, rf.Reason)
				continue
			}
			if err != nil {
				return err
			}
			rep.Runs = append(rep.Runs, m)
			fmt.Fprintf(h.stderr, "run %d/%d  %-12s %9.0f req/s  p50 %7.3fms  p99 %7.3fms\n",
				run, n, row.Name, m.RPS, m.P50, m.P99)
		}
	}
	return nil
}

// drawbridge builds the gateway unless -bin was given or no selected row
// needs it, and returns the build command.
func (h *harness) drawbridge(ctx context.Context, sel []Row) (string, error) {
	need := false
	for _, r := range sel {
		need = need || r.Config != ""
	}
	switch {
	case !need:
		return "", nil
	case h.opts.Bin != "":
		bin, err := filepath.Abs(h.opts.Bin)
		h.bin = bin
		return "", err
	}
	h.bin = filepath.Join(h.out, "drawbridge")
	argv := []string{"go", "build", "-o", h.bin, "./cmd/drawbridge"}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = h.root
	cmd.Stdout, cmd.Stderr = h.stderr, h.stderr
	line := "cd " + shellQuote(h.root) + " && " + shellLine(nil, argv)
	fmt.Fprintf(h.stderr, "bench: %s\n", line)
	if err := cmd.Run(); err != nil {
		return line, fmt.Errorf("building drawbridge: %v (measure only the bare proxy with -rows bare)", err)
	}
	return line, nil
}

func (h *harness) startUpstream() (*proc, procInfo, error) {
	argv := h.pin.wrap(h.pin.LoadCPU, []string{h.self, "upstream", "-listen", "127.0.0.1:0"})
	p, addr, gmp, err := h.startOwn("upstream", argv, filepath.Join(h.out, "logs", "upstream.log"))
	if err != nil {
		return nil, procInfo{}, err
	}
	h.upstream = "http://" + addr
	return p, h.info(p, gmp), nil
}

// startOwn starts one of this program's subcommands and waits for its
// ready line.
func (h *harness) startOwn(name string, argv []string, log string) (*proc, string, int, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, "", 0, err
	}
	defer r.Close() // the child writes nothing after its ready line
	p, err := startProc(name, argv, nil, log, w)
	w.Close()
	if err != nil {
		return nil, "", 0, err
	}
	addr, gmp, err := readReady(p, r, 10*time.Second)
	if err != nil {
		p.stop()
		return nil, "", 0, err
	}
	return p, addr, gmp, nil
}

func (h *harness) info(p *proc, gomaxprocs int) procInfo {
	return procInfo{
		Command:    p.commandLine(),
		PID:        p.pid(),
		CPUs:       cpusAllowed(p.pid()),
		GOMAXPROCS: gomaxprocs,
		Log:        p.logPath,
	}
}

// measure starts the row's proxy, checks that the row's request is
// answered 2xx, warms up, measures, and stops the proxy. A *refusal
// error refuses the row; other errors end the benchmark.
func (h *harness) measure(ctx context.Context, row Row, run, pos int) (measurement, error) {
	p, t, info, err := h.startProxy(ctx, row)
	if err != nil {
		return measurement{}, err
	}
	defer p.stop()
	headers, secret := row.Headers, map[string]bool{}
	if row.Setup != nil {
		extra, err := row.Setup(ctx, t)
		if err != nil {
			if ctx.Err() != nil {
				return measurement{}, ctx.Err()
			}
			return measurement{}, refuse("setup: %v", err)
		}
		for _, e := range extra {
			secret[http.CanonicalHeaderKey(e.Name)] = true
		}
		headers = mergeHeaders(headers, extra)
	}
	spec := loadSpec{
		URL: t.URL + row.Path, Method: row.method(), Headers: headers, Body: row.Body,
		Conns: h.opts.Conns, Duration: h.opts.Warmup,
		Tag: row.Name, Dir: filepath.Join(h.out, "load"), Secret: secret,
	}
	load := h.load
	if row.GoLoad || row.PerRequest != "" {
		load = goLoader{self: h.self, pin: h.pin}
	}
	if row.PerRequest != "" {
		if spec.PerRequestKey, err = perRequestKey(row.PerRequest); err != nil {
			return measurement{}, refuse("%v", err)
		}
		spec.PerRequest = row.PerRequest
	}
	if err := preflight(ctx, h.client, spec); err != nil {
		return measurement{}, err
	}
	idle, err := busyWhileIdle(ctx)
	if err != nil {
		return measurement{}, err
	}
	if spec.Duration > 0 {
		if _, err := load.Run(ctx, spec); err != nil {
			return measurement{}, loadFailed(ctx, err)
		}
	}
	spec.Duration = h.opts.Duration
	start, cpu0 := time.Now(), readCPUTimes()
	res, err := load.Run(ctx, spec)
	if err != nil {
		return measurement{}, loadFailed(ctx, err)
	}
	busy := busySince(cpu0, readCPUTimes())
	if why := res.failed(); why != "" {
		if p.exited() {
			why += "; " + p.failure("exited during the run").Error()
		}
		return measurement{}, refuse("%s", why)
	}
	return measurement{Run: run, Position: pos, Start: start, loadResult: res, Proxy: info, CPUBusy: busy, CPUBusyBefore: idle}, nil
}

// busyWhileIdle samples CPU use for a moment while nothing of the
// benchmark's is working: what it finds is other processes, whose work
// will also disturb the measurement.
func busyWhileIdle(ctx context.Context) (map[string]float64, error) {
	before := readCPUTimes()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(500 * time.Millisecond):
	}
	return busySince(before, readCPUTimes()), nil
}

// loadFailed refuses the row when the load generator could not run
// (wrk exits when it cannot connect at all), unless the benchmark is
// being interrupted.
func loadFailed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return refuse("load generator: %v", err)
}

// startProxy starts the proxy a row measures and returns it once ready.
func (h *harness) startProxy(ctx context.Context, row Row) (*proc, Target, procInfo, error) {
	t := Target{Root: h.root, Client: h.client}
	if row.Config == "" {
		argv := h.pin.wrap(h.pin.ProxyCPU, []string{h.self, "bare", "-listen", "127.0.0.1:0", "-upstream", h.upstream})
		p, addr, gmp, err := h.startOwn("bare proxy", argv, filepath.Join(h.out, "logs", row.Name+".log"))
		if err != nil {
			return nil, t, procInfo{}, refuse("%v", err)
		}
		t.URL = "http://" + addr
		return p, t, h.info(p, gmp), nil
	}
	t.Config = filepath.Join(h.root, row.Config)
	if _, err := os.Stat(t.Config); err != nil {
		return nil, t, procInfo{}, refuse("config: %v", err)
	}
	listen, err := freeAddr()
	if err != nil {
		return nil, t, procInfo{}, err
	}
	admin, err := freeAddr()
	if err != nil {
		return nil, t, procInfo{}, err
	}
	env := []string{"LISTEN=" + listen, "ADMIN_LISTEN=" + admin, "UPSTREAM=" + h.upstream}
	redisEnv, err := h.redisEnv(t.Config)
	if err != nil {
		return nil, t, procInfo{}, err
	}
	env = append(env, redisEnv...)
	if row.Prepare != nil {
		extra, err := row.Prepare(ctx)
		if err != nil {
			return nil, t, procInfo{}, refuse("prepare: %v", err)
		}
		env = append(env, extra...)
	}
	argv := h.pin.wrap(h.pin.ProxyCPU, []string{h.bin, "serve", "--config", t.Config})
	p, err := startProc("drawbridge", argv, env, filepath.Join(h.out, "logs", row.Name+".log"), nil)
	if err != nil {
		return nil, t, procInfo{}, err
	}
	t.URL, t.AdminURL = "http://"+listen, "http://"+admin
	if err := waitOK(ctx, p, h.client, t.AdminURL+"/readyz", 20*time.Second); err != nil {
		p.stop()
		if ctx.Err() != nil {
			return nil, t, procInfo{}, ctx.Err()
		}
		return nil, t, procInfo{}, refuse("%v", err)
	}
	return p, t, h.info(p, scrapeGOMAXPROCS(ctx, h.client, t.AdminURL+"/metrics")), nil
}

// scrapeGOMAXPROCS reads go_sched_gomaxprocs_threads from a Prometheus
// endpoint; 0 when it is not there.
func scrapeGOMAXPROCS(ctx context.Context, c *http.Client, url string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 4<<20))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_sched_gomaxprocs_threads "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(f)
		}
	}
	return 0
}

// mergeHeaders returns base with extra appended; an extra header replaces
// base headers of the same name.
func mergeHeaders(base, extra []Header) []Header {
	drop := map[string]bool{}
	for _, e := range extra {
		drop[http.CanonicalHeaderKey(e.Name)] = true
	}
	var out []Header
	for _, b := range base {
		if !drop[http.CanonicalHeaderKey(b.Name)] {
			out = append(out, b)
		}
	}
	return append(out, extra...)
}

// moduleRoot finds the directory of drawbridge's go.mod from the working
// directory upwards.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/drawbridge-gw/drawbridge\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the drawbridge module (no go.mod of github.com/drawbridge-gw/drawbridge above the working directory)")
		}
		dir = parent
	}
}
