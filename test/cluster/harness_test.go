package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// node is one `drawbridge serve` process.
type node struct {
	name  string
	cmd   *exec.Cmd
	base  string // the API listener, http://127.0.0.1:PORT
	admin string // the admin listener, http://127.0.0.1:PORT
	logs  *logBuffer
	done  chan struct{} // closed when the process has exited
	err   error         // its exit status, once done is closed
}

// alive reports whether the process is still running.
func (n *node) alive() bool {
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// cluster is a set of nodes started from one config, and an HTTP client
// for them that keeps a few connections per node (no proxy from the
// environment).
type cluster struct {
	t      *testing.T
	nodes  []*node
	token  string // the operators' admin token
	client *http.Client
}

// startCluster starts n nodes serving yaml, whose ${VAR}s come from env.
// Each node listens on 127.0.0.1:0 (API and admin), so the kernel picks
// free ports; the addresses are read from the node's "serving" log line.
// The nodes start together, as replicas rolled out at once do (their
// schema migrations then race, under PostgreSQL's advisory lock).
//
// When the test ends, every node is sent SIGTERM and must exit 0 within
// its shutdown timeout: a node that crashed, hung, or reported a data race
// (under -race) fails the test.
func startCluster(t *testing.T, n int, yaml string, env map[string]string, token string) *cluster {
	t.Helper()
	bin := drawbridgeBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "drawbridge.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, token: token, client: &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConnsPerHost: 32,
			DisableCompression:  true,
		},
	}}
	t.Cleanup(c.client.CloseIdleConnections)
	for i := range n {
		nd := &node{name: fmt.Sprintf("node%d", i), done: make(chan struct{})}
		logFile, err := os.Create(filepath.Join(dir, nd.name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		nd.logs = &logBuffer{file: logFile}
		nd.cmd = exec.Command(bin, "serve", "--config", cfg)
		nd.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
			"LISTEN=127.0.0.1:0", "ADMIN_LISTEN=127.0.0.1:0"}, envList(env)...)
		nd.cmd.Stdout, nd.cmd.Stderr = nd.logs, nd.logs
		// The node dies with the test binary, even if that is killed.
		nd.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := nd.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			nd.err = nd.cmd.Wait()
			logFile.Close()
			close(nd.done)
		}()
		c.nodes = append(c.nodes, nd)
	}
	t.Cleanup(c.stop)
	for _, nd := range c.nodes {
		if err := nd.waitServing(30 * time.Second); err != nil {
			t.Fatalf("%s: %v\n%s", nd.name, err, nd.logs.tail(30))
		}
	}
	return c
}

func envList(env map[string]string) []string {
	var out []string
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// waitServing waits for the node's "serving" line and reads its
// addresses from it.
func (n *node) waitServing(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, l := range n.logs.entries() {
			if l["msg"] == "serving" {
				listen, _ := l["listen"].(string)
				admin, _ := l["admin"].(string)
				if listen == "" || admin == "" {
					return fmt.Errorf("serving line without both addresses: %v", l)
				}
				n.base, n.admin = "http://"+listen, "http://"+admin
				return nil
			}
		}
		select {
		case <-n.done:
			return fmt.Errorf("exited before serving: %v", n.err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("not serving after %v", timeout)
}

// stop sends every node SIGTERM and checks that each exits 0 in time
// and reported no data race and no panic.
func (c *cluster) stop() {
	for _, n := range c.nodes {
		if n.alive() {
			_ = n.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, n := range c.nodes {
		select {
		case <-n.done:
		case <-time.After(15 * time.Second):
			_ = n.cmd.Process.Kill()
			<-n.done
			c.t.Errorf("%s did not stop within 15s of SIGTERM\n%s", n.name, n.logs.tail(20))
			continue
		}
		if n.err != nil {
			c.t.Errorf("%s exited: %v\n%s", n.name, n.err, n.logs.tail(30))
		}
		if out := n.logs.String(); strings.Contains(out, "WARNING: DATA RACE") || strings.Contains(out, "panic while handling") {
			c.t.Errorf("%s reported a data race or a panic:\n%s", n.name, out[max(0, strings.Index(out, "WARNING: DATA RACE")):])
		}
	}
}

// logBuffer keeps a node's output in memory (for the test to read) and in
// a file (for a human to read after a failure, with -test.v).
type logBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	file *os.File
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.file != nil {
		_, _ = b.file.Write(p)
	}
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// entries returns the JSON log lines written so far, decoded.
func (b *logBuffer) entries() []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// operational returns the log lines that are not per-request decisions.
func (b *logBuffer) operational() []map[string]any {
	var out []map[string]any
	for _, e := range b.entries() {
		if e["msg"] != "decision" {
			out = append(out, e)
		}
	}
	return out
}

// timeOf returns the time of the first log line whose msg is msg, or
// zero.
func (b *logBuffer) timeOf(msg string) time.Time {
	for _, e := range b.entries() {
		if e["msg"] == msg {
			t, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(e["time"]))
			return t
		}
	}
	return time.Time{}
}

func (b *logBuffer) tail(n int) string {
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// upstream is the API behind the gateway: it answers 200 and counts.
type upstream struct {
	*httptest.Server
	hits atomic.Int64
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(u.Close)
	return u
}

// reply is an answer, with the problem's reason when it is a refusal.
type reply struct {
	status int
	reason string
	body   []byte
	header http.Header
}

func (r reply) String() string {
	if r.reason != "" {
		return fmt.Sprintf("%d %s", r.status, r.reason)
	}
	return strconv.Itoa(r.status)
}

// do sends a request and reads the whole answer. It does not fail the
// test, so that load goroutines may call it.
func (c *cluster) do(method, url string, header map[string]string, body []byte) (reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{status: resp.StatusCode, body: b, header: resp.Header}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		var p struct {
			Reason string `json:"reason"`
		}
		_ = json.Unmarshal(b, &p)
		r.reason = p.Reason
	}
	return r, nil
}

// must is do for the test goroutine: a transport error fails the test.
func (c *cluster) must(method, url string, header map[string]string, body []byte) reply {
	c.t.Helper()
	r, err := c.do(method, url, header, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

// operator calls a node's operator API with the admin token.
func (c *cluster) operator(n *node, method, path string) reply {
	c.t.Helper()
	return c.must(method, n.admin+path, map[string]string{"Authorization": "Bearer " + c.token}, nil)
}

// metrics scrapes a node's /metrics: series (name and labels, as
// exposed) to value.
func (c *cluster) metrics(n *node) (map[string]float64, error) {
	r, err := c.do(http.MethodGet, n.admin+"/metrics", nil, nil)
	if err != nil {
		return nil, err
	}
	if r.status != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", r)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(r.body), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, nil
}

// metric returns one series of a node, 0 when it is not exposed.
func (c *cluster) metric(n *node, series string) float64 {
	c.t.Helper()
	m, err := c.metrics(n)
	if err != nil {
		c.t.Fatalf("%s: %v", n.name, err)
	}
	return m[series]
}

// sumMetric adds the series whose name and labels contain every part.
func sumMetric(m map[string]float64, parts ...string) float64 {
	var sum float64
next:
	for k, v := range m {
		for _, p := range parts {
			if !strings.Contains(k, p) {
				continue next
			}
		}
		sum += v
	}
	return sum
}

// waitFor polls cond every interval until it holds or timeout passes,
// and returns how long that took.
func waitFor(timeout, interval time.Duration, cond func() bool) (time.Duration, error) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), nil
		}
		if time.Since(start) > timeout {
			return time.Since(start), errors.New("timed out")
		}
		time.Sleep(interval)
	}
}
