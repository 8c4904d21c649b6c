package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// goLoader runs the built-in load generator as a child process (the
// "loadgen" subcommand), so that it can be pinned like wrk.
type goLoader struct {
	self string
	pin  pinning
}

func (goLoader) Name() string { return "go" }

func (g goLoader) Run(ctx context.Context, s loadSpec) (loadResult, error) {
	argv := []string{g.self, "loadgen", "-url", s.URL, "-c", strconv.Itoa(s.Conns), "-d", s.Duration.String(), "-method", s.Method}
	if s.Body != "" {
		file := filepath.Join(s.Dir, s.Tag+".body")
		if err := os.WriteFile(file, []byte(s.Body), 0o644); err != nil {
			return loadResult{}, err
		}
		argv = append(argv, "-body-file", file)
	}
	for _, h := range s.Headers {
		argv = append(argv, "-H", h.Name+": "+h.Value)
	}
	if s.PerRequest != "" {
		argv = append(argv, "-per-request", s.PerRequest)
	}
	argv = g.pin.wrap(g.pin.LoadCPU, argv)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if s.PerRequest != "" {
		// The key goes in the environment: never on disk, and not on the
		// command line the report records.
		cmd.Env = append(os.Environ(), perRequestKeyEnv+"="+base64.StdEncoding.EncodeToString(s.PerRequestKey))
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	line := shellLine(nil, redactArgs(argv, s.Secret))
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return loadResult{}, ctx.Err()
		}
		return loadResult{}, fmt.Errorf("%s: %v\n%s", line, err, stderr.String())
	}
	var r loadResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return loadResult{}, fmt.Errorf("%s: reading its result: %v", line, err)
	}
	r.Command = line
	return r, nil
}

// runLoadgen is the "loadgen" subcommand: it prints one loadResult as
// JSON.
func runLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var s genSpec
	fs.StringVar(&s.URL, "url", "", "target `URL`")
	fs.IntVar(&s.Conns, "c", 64, "connections")
	fs.DurationVar(&s.Duration, "d", 5*time.Second, "duration")
	fs.StringVar(&s.Method, "method", "GET", "request method")
	bodyFile := fs.String("body-file", "", "request body `file`")
	perRequest := fs.String("per-request", "", "make these headers for each request (bench/proofs.go), with the key in $"+perRequestKeyEnv)
	fs.Func("H", "header `Name: value` (repeatable)", func(v string) error {
		name, value, ok := strings.Cut(v, ":")
		if !ok {
			return fmt.Errorf("want Name: value")
		}
		s.Headers = append(s.Headers, Header{strings.TrimSpace(name), strings.TrimSpace(value)})
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bodyFile != "" {
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			return err
		}
		s.Body = string(b)
	}
	if *perRequest != "" {
		key, err := base64.StdEncoding.DecodeString(os.Getenv(perRequestKeyEnv))
		if err != nil {
			return fmt.Errorf("loadgen: $%s: %v", perRequestKeyEnv, err)
		}
		u, err := url.Parse(s.URL)
		if err != nil {
			return err
		}
		if s.PerRequest, err = perRequestHeaders(*perRequest, key, s.Method, u, s.Headers); err != nil {
			return err
		}
	}
	r, err := generate(ctx, s)
	if err != nil {
		return err
	}
	r.GOMAXPROCS = runtime.GOMAXPROCS(0)
	return json.NewEncoder(stdout).Encode(r)
}

// perRequestKeyEnv carries a per-request row's key to the generator.
const perRequestKeyEnv = "BENCH_PER_REQUEST_KEY"

// genSpec is one run of the built-in generator.
type genSpec struct {
	URL      string
	Method   string
	Headers  []Header
	Body     string
	Conns    int
	Duration time.Duration
	// PerRequest, if set, returns headers to add to each request; it is
	// called from every connection's goroutine.
	PerRequest func() []Header
}

// requestTimeout bounds one request, as wrk's default --timeout does.
const requestTimeout = 2 * time.Second

// generate keeps s.Conns keep-alive connections busy for s.Duration, each
// sending its next request as soon as the previous answer is read (closed
// loop), and records every latency.
func generate(ctx context.Context, s genSpec) (loadResult, error) {
	u, err := url.Parse(s.URL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return loadResult{}, fmt.Errorf("loadgen: %q is not an http:// URL", s.URL)
	}
	raw, err := rawRequest(u, s)
	if err != nil {
		return loadResult{}, err
	}
	tmpl := &http.Request{Method: s.Method} // tells ReadResponse whether a body follows
	ctx, cancel := context.WithTimeout(ctx, s.Duration)
	defer cancel()
	start := time.Now()
	results := make(chan workerResult, s.Conns)
	next := func() ([]byte, error) { return raw, nil }
	if s.PerRequest != nil {
		next = func() ([]byte, error) {
			per := s
			per.Headers = append(append([]Header{}, s.Headers...), s.PerRequest()...)
			return rawRequest(u, per)
		}
	}
	for range s.Conns {
		go func() { results <- work(ctx, u.Host, next, tmpl) }()
	}
	var total workerResult
	for range s.Conns {
		total.merge(<-results)
	}
	elapsed := time.Since(start)
	slices.Sort(total.lat)
	r := loadResult{
		Requests:     int64(len(total.lat)),
		RPS:          float64(len(total.lat)) / elapsed.Seconds(),
		P50:          ms(percentile(total.lat, 50)),
		P99:          ms(percentile(total.lat, 99)),
		Non2xx:       total.non2xx,
		SocketErrors: total.errs,
		ErrorDetail:  strings.Join(total.detail, "; "),
	}
	return r, nil
}

// rawRequest renders the request once; every connection writes the same
// bytes.
func rawRequest(u *url.URL, s genSpec) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", s.Method, u.RequestURI(), u.Host)
	for _, h := range s.Headers {
		if strings.ContainsAny(h.Name+h.Value, "\r\n") || strings.EqualFold(h.Name, "Host") {
			return nil, fmt.Errorf("loadgen: header %q cannot be sent", h.Name)
		}
		fmt.Fprintf(&b, "%s: %s\r\n", h.Name, h.Value)
	}
	if s.Body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(s.Body))
	}
	b.WriteString("\r\n")
	b.WriteString(s.Body)
	return b.Bytes(), nil
}

// workerResult is what one connection's worker saw.
type workerResult struct {
	lat    []time.Duration
	non2xx int64
	errs   int64
	detail []string // the first error of each kind
}

func (w *workerResult) fail(kind string, err error) {
	w.errs++
	for _, d := range w.detail {
		if strings.HasPrefix(d, kind+":") {
			return
		}
	}
	w.detail = append(w.detail, kind+": "+err.Error())
}

func (w *workerResult) merge(o workerResult) {
	w.lat = append(w.lat, o.lat...)
	w.non2xx += o.non2xx
	w.errs += o.errs
	for _, d := range o.detail {
		kind, _, _ := strings.Cut(d, ":")
		if !slices.ContainsFunc(w.detail, func(x string) bool { return strings.HasPrefix(x, kind+":") }) {
			w.detail = append(w.detail, d)
		}
	}
}

// work runs one connection until ctx is done. A request in flight at the
// end is completed and counted, as wrk does.
func work(ctx context.Context, addr string, next func() ([]byte, error), tmpl *http.Request) workerResult {
	var w workerResult
	w.lat = make([]time.Duration, 0, 4096)
	var conn net.Conn
	var br *bufio.Reader
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	drop := func() { conn.Close(); conn = nil }
	for ctx.Err() == nil {
		if conn == nil {
			c, err := net.DialTimeout("tcp", addr, requestTimeout)
			if err != nil {
				w.fail("connect", err)
				time.Sleep(10 * time.Millisecond) // do not spin on a dead server
				continue
			}
			conn, br = c, bufio.NewReaderSize(c, 16<<10)
		}
		raw, err := next()
		if err != nil {
			w.fail("request", err)
			return w
		}
		t0 := time.Now()
		_ = conn.SetDeadline(t0.Add(requestTimeout))
		if _, err := conn.Write(raw); err != nil {
			w.fail(errKind("write", err), err)
			drop()
			continue
		}
		resp, err := http.ReadResponse(br, tmpl)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if err != nil {
			w.fail(errKind("read", err), err)
			drop()
			continue
		}
		w.lat = append(w.lat, time.Since(t0))
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			w.non2xx++
		}
		if resp.Close {
			drop()
		}
	}
	return w
}

func errKind(kind string, err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return kind
}
