package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/gateway"
)

// reloadYAML is a config whose responses carry X-Config-Version: VERSION.
// Decision logs are off: the load below would write thousands of lines.
const reloadYAML = `
listen: ${LISTEN}
admin:
  listen: ${ADMIN_LISTEN}
log:
  decisions: false
upstreams:
  app:
    url: ${UPSTREAM}
routes:
  - name: api
    match: {path_prefix: /api/}
    upstream: app
    policies:
      - headers:
          response:
            X-Config-Version: VERSION
`

func goodConfig(version string) string { return strings.Replace(reloadYAML, "VERSION", version, 1) }

// brokenConfig is a config that is refused, and the marker on the line
// the refusal must name.
type brokenConfig struct {
	name, yaml, marker string
}

var (
	// Refused by config.Load: decoding and validation.
	unknownField = brokenConfig{"unknown field", strings.Replace(goodConfig("never"),
		"    upstream: app\n", "    upstream: app\n    upstream_timeout: 5s\n", 1), "upstream_timeout"}
	badValue = brokenConfig{"bad value", strings.Replace(goodConfig("never"),
		"    upstream: app\n", "    upstream: app\n    max_body_bytes: lots\n", 1), "max_body_bytes"}
	// Loads, but refused when the gateway compiles it.
	badPattern = brokenConfig{"bad path pattern", goodConfig("never") + `
  - name: files
    match: {path: "/files/{rest...}/x"}
    upstream: app
`, "{rest...}"}
)

// lineOf is the 1-based line of the first line of yaml containing marker.
func lineOf(t *testing.T, yaml, marker string) int {
	t.Helper()
	for i, l := range strings.Split(yaml, "\n") {
		if strings.Contains(l, marker) {
			return i + 1
		}
	}
	t.Fatalf("marker %q not in config", marker)
	return 0
}

// loadGen hammers the gateway from n keep-alive clients until stop is
// closed, and counts every answer that is not a 200.
type loadGen struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	failures   []string // the first few
	wg         sync.WaitGroup
	stop       chan struct{}
}

func startLoad(t *testing.T, base string, n int) *loadGen {
	l := &loadGen{stop: make(chan struct{})}
	for range n {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			tr := &http.Transport{MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			// Generous: on a busy machine a request may wait; a failure
			// must mean the gateway failed it.
			client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				resp, err := client.Get(base + "/api/load")
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err == nil && resp.StatusCode == 200 {
					l.ok.Add(1)
					continue
				}
				l.failed.Add(1)
				l.mu.Lock()
				if len(l.failures) < 5 {
					if err != nil {
						l.failures = append(l.failures, err.Error())
					} else {
						l.failures = append(l.failures, resp.Status)
					}
				}
				l.mu.Unlock()
			}
		}()
	}
	t.Cleanup(l.end)
	return l
}

func (l *loadGen) end() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// logLines is a log sink that keeps the JSON lines it receives.
type logLines struct {
	mu    sync.Mutex
	lines []map[string]any
}

func (l *logLines) Write(p []byte) (int, error) {
	var m map[string]any
	if err := json.Unmarshal(p, &m); err == nil {
		l.mu.Lock()
		l.lines = append(l.lines, m)
		l.mu.Unlock()
	}
	return len(p), nil
}

// find returns the lines with message msg (and trigger, if not empty).
func (l *logLines) find(msg, trigger string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, m := range l.lines {
		if m["msg"] == msg && (trigger == "" || m["trigger"] == trigger) {
			out = append(out, m)
		}
	}
	return out
}

const (
	msgReloaded = "config reloaded"
	msgRefused  = "config reload refused; the previous config keeps serving"
)

// TestReloadUnderLoad reloads good and broken configs through
// Server.Reload, the file watcher and SIGHUP while eight keep-alive
// clients hammer the gateway: no request may fail, good configs take
// effect, broken ones are refused with their file and line, logged and
// counted, and the config in force keeps serving.
func TestReloadUnderLoad(t *testing.T) {
	e := startEnv(t, goodConfig("v0"))
	probe := &http.Client{Timeout: 20 * time.Second}
	version := func() string {
		t.Helper()
		resp, err := probe.Get(e.base + "/api/probe")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("probe: status %d", resp.StatusCode)
		}
		return resp.Header.Get("X-Config-Version")
	}
	write := func(yaml string, atomically bool) {
		t.Helper()
		if !atomically {
			if err := os.WriteFile(e.cfgPath, []byte(yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		// As config managers do: write beside, rename over.
		tmp := filepath.Join(filepath.Dir(e.cfgPath), ".drawbridge.yaml.tmp")
		if err := os.WriteFile(tmp, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, e.cfgPath); err != nil {
			t.Fatal(err)
		}
	}
	// eventually polls cond for up to 10s; it takes milliseconds unless
	// the machine is very busy.
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("after 10s: %s", what)
			}
		}
	}
	wantLine := func(t *testing.T, b brokenConfig, text string) {
		t.Helper()
		at := fmt.Sprintf("%s:%d:", e.cfgPath, lineOf(t, b.yaml, b.marker))
		if !strings.Contains(text, at) {
			t.Errorf("%s: refusal %q does not name %s", b.name, text, at)
		}
	}

	start := time.Now()
	l := startLoad(t, e.base, 8)
	directRefused := 0
	directOK := 0

	// Server.Reload, as an embedding program would call it.
	directGood := func(v string) {
		t.Helper()
		write(goodConfig(v), false)
		f, err := config.Load(e.cfgPath, e.source())
		if err != nil {
			t.Fatal(err)
		}
		if err := e.srv.Reload(f); err != nil {
			t.Fatalf("good config refused: %v", err)
		}
		directOK++
		if got := version(); got != v {
			t.Fatalf("after Reload: X-Config-Version = %q, want %q", got, v)
		}
	}
	directBroken := func(b brokenConfig) {
		t.Helper()
		before := version()
		write(b.yaml, false)
		f, err := config.Load(e.cfgPath, e.source())
		if err != nil {
			t.Fatalf("%s: config.Load: %v (want it to load and fail to compile)", b.name, err)
		}
		err = e.srv.Reload(f)
		if err == nil {
			t.Fatalf("%s: Reload accepted a broken config", b.name)
		}
		directRefused++
		wantLine(t, b, err.Error())
		if got := version(); got != before {
			t.Errorf("%s: X-Config-Version = %q after a refused reload, want %q", b.name, got, before)
		}
	}
	directBroken(badPattern)
	directGood("direct-1")
	directBroken(badPattern)
	directGood("direct-2")

	// The file watcher, and SIGHUP through it.
	sink := &logLines{}
	w := &gateway.Watcher{
		Path:     e.cfgPath,
		Source:   e.source(),
		Apply:    e.srv.Reload,
		Logger:   slog.New(slog.NewJSONHandler(sink, nil)),
		Metrics:  e.gw.Metrics(),
		Debounce: 20 * time.Millisecond,
	}
	// A SIGHUP that arrives before the watcher subscribes, or after it
	// stops, must not kill the test binary.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	ctx, cancel := context.WithCancel(context.Background())
	watchErr := make(chan error, 1)
	go func() { watchErr <- w.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-watchErr; err != nil {
			t.Errorf("Watcher.Run: %v", err)
		}
	}()

	// The watcher subscribes to file events only once it runs: rewrite
	// the first config until it is seen.
	write(goodConfig("watch-0"), false)
	for deadline := time.Now().Add(10 * time.Second); version() != "watch-0"; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the watcher did not load the first config within 10s")
		}
		write(goodConfig("watch-0"), false)
	}
	steps := []struct {
		version string // "" for a broken config
		broken  brokenConfig
		atomic  bool
	}{
		{broken: unknownField},
		{version: "watch-1", atomic: true},
		{broken: badValue, atomic: true},
		{version: "watch-2"},
		{broken: badPattern},
		{version: "watch-3", atomic: true},
	}
	for _, st := range steps {
		if st.version != "" {
			write(goodConfig(st.version), st.atomic)
			eventually("X-Config-Version "+st.version, func() bool { return version() == st.version })
			continue
		}
		before, refusals := version(), len(sink.find(msgRefused, ""))
		write(st.broken.yaml, st.atomic)
		// A reload may also catch the file half-written; the refusal of
		// the whole file must follow.
		at := fmt.Sprintf("%s:%d:", e.cfgPath, lineOf(t, st.broken.yaml, st.broken.marker))
		eventually(st.broken.name+" refused, naming "+at, func() bool {
			for _, m := range sink.find(msgRefused, "")[refusals:] {
				if problems, _ := m["problems"].(string); strings.Contains(problems, at) {
					return true
				}
			}
			return false
		})
		if got := version(); got != before {
			t.Errorf("%s: X-Config-Version = %q after a refused reload, want %q", st.broken.name, got, before)
		}
	}

	// SIGHUP reloads the file as it is: first a good one, then a broken one.
	sighup := func(msg string) {
		t.Helper()
		n := len(sink.find(msg, "SIGHUP"))
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		eventually("SIGHUP: "+msg, func() bool { return len(sink.find(msg, "SIGHUP")) > n })
	}
	sighup(msgReloaded)
	if got := version(); got != "watch-3" {
		t.Errorf("after SIGHUP: X-Config-Version = %q, want watch-3", got)
	}
	refusals := len(sink.find(msgRefused, ""))
	write(unknownField.yaml, false)
	eventually("unknown field refused", func() bool { return len(sink.find(msgRefused, "")) > refusals })
	sighup(msgRefused)
	if got := version(); got != "watch-3" {
		t.Errorf("after a refused SIGHUP reload: X-Config-Version = %q, want watch-3", got)
	}

	// Keep the load up for at least 2s in all.
	time.Sleep(time.Until(start.Add(2 * time.Second)))
	l.end()
	if n := l.failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed during reloads; first: %q", n, n+l.ok.Load(), l.failures)
	}
	if l.ok.Load() < 100 {
		t.Errorf("only %d requests served in %v: the load did not run", l.ok.Load(), time.Since(start))
	}
	t.Logf("%d requests answered 200 in %v across reloads", l.ok.Load(), time.Since(start).Round(time.Millisecond))

	// Every refusal is counted, however far it got; and every success.
	// Reloads are logged before we read the metrics: they are settled.
	refusedLogs, reloadedLogs := len(sink.find(msgRefused, "")), len(sink.find(msgReloaded, ""))
	if got, want := scrape(t, e, `drawbridge_config_reloads_total{result="refused"}`), float64(directRefused+refusedLogs); got != want {
		t.Errorf(`drawbridge_config_reloads_total{result="refused"} = %v, want %v (%d by Server.Reload, %d logged by the watcher)`, got, want, directRefused, refusedLogs)
	}
	if got, want := scrape(t, e, `drawbridge_config_reloads_total{result="ok"}`), float64(1+directOK+reloadedLogs); got != want {
		t.Errorf(`drawbridge_config_reloads_total{result="ok"} = %v, want %v`, got, want)
	}
}

// TestWatcherWithoutFileEvents: when the config file cannot be watched
// (here its directory is gone; in production, inotify limits), the
// watcher keeps reloading on SIGHUP rather than stopping, which would
// also restore SIGHUP's default action and let the next one kill the
// gateway.
func TestWatcherWithoutFileEvents(t *testing.T) {
	sink := &logLines{}
	m := gateway.NewMetrics()
	w := &gateway.Watcher{
		Path:    filepath.Join(t.TempDir(), "gone", "drawbridge.yaml"),
		Apply:   func(*config.File) error { t.Error("Apply called for a file that does not exist"); return nil },
		Logger:  slog.New(slog.NewJSONHandler(sink, nil)),
		Metrics: m,
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	// Run subscribes to SIGHUP before it tries to watch, and logs the
	// failure after: once the warning is out, SIGHUP reaches it.
	for deadline := time.Now().Add(10 * time.Second); len(sink.find("cannot watch the config file; reload with SIGHUP", "")) == 0; time.Sleep(5 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("Run returned %v; want it to keep serving SIGHUP", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no warning that the file cannot be watched")
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); len(sink.find(msgRefused, "SIGHUP")) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP did not trigger a reload")
		}
	}
	if got := testutilCounter(t, m, "drawbridge_config_reloads_total", "refused"); got != 1 {
		t.Errorf("refused reloads = %v, want 1", got)
	}
}

// testutilCounter reads one counter of a metric family from m's registry.
func testutilCounter(t *testing.T, m *gateway.Metrics, name, labelValue string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, c := range mf.GetMetric() {
			for _, l := range c.GetLabel() {
				if l.GetValue() == labelValue {
					return c.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
