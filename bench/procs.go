package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long a child may take to exit after SIGTERM before its
// process group is killed.
const stopGrace = 5 * time.Second

// pinning says which CPU each side of a measurement runs on.
type pinning struct {
	// Taskset is the taskset binary; empty when pinning is off.
	Taskset string `json:"taskset,omitempty"`
	// ProxyCPU runs the proxy under test.
	ProxyCPU int `json:"proxy_cpu"`
	// LoadCPU runs the load generator and the upstream.
	LoadCPU int `json:"load_cpu"`
	// Why pinning is off, or a description of it when on.
	Desc string `json:"desc"`
}

// detectPinning pins when taskset exists and this process may run on at
// least two CPUs: the first allowed CPU gets the proxy, the second the
// load generator and upstream, so the proxy never competes with the load
// it is measured under.
func detectPinning() pinning {
	cpus := allowedCPUs()
	ts, err := exec.LookPath("taskset")
	switch {
	case err != nil:
		return pinning{Desc: "off: taskset not found (Debian package util-linux)"}
	case len(cpus) < 2:
		return pinning{Desc: fmt.Sprintf("off: only %d CPU available", len(cpus))}
	}
	return pinning{
		Taskset:  ts,
		ProxyCPU: cpus[0],
		LoadCPU:  cpus[1],
		Desc:     fmt.Sprintf("proxy under test on CPU %d; load generator and upstream on CPU %d (taskset)", cpus[0], cpus[1]),
	}
}

// wrap prefixes argv with taskset for cpu when pinning is on. taskset
// execs argv, so the pid stays that of the pinned program.
func (p pinning) wrap(cpu int, argv []string) []string {
	if p.Taskset == "" {
		return argv
	}
	return append([]string{p.Taskset, "-c", strconv.Itoa(cpu)}, argv...)
}

// allowedCPUs returns the CPUs this process may run on, from
// /proc/self/status; on failure it assumes 0..NumCPU-1.
func allowedCPUs() []int {
	data, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
				if cpus, err := parseCPUList(strings.TrimSpace(v)); err == nil && len(cpus) > 0 {
					return cpus
				}
			}
		}
	}
	cpus := make([]int, runtime.NumCPU())
	for i := range cpus {
		cpus[i] = i
	}
	return cpus
}

// parseCPUList parses a kernel CPU list such as "0-3,8,10-11".
func parseCPUList(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("cpu list %q: %v", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("cpu list %q: %v", s, err)
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

// proc is a child process running in its own process group, so that
// stopping it also stops anything it started.
type proc struct {
	name    string
	argv    []string
	env     []string // only what the harness adds to its own environment
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	err     error         // Wait's result, valid after done
}

// startProc starts argv with its stdout and stderr appended to logPath
// (truncated first). If stdout is not nil it receives the child's stdout
// instead.
func startProc(name string, argv, env []string, logPath string, stdout io.Writer) (*proc, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer log.Close() // the child holds its own descriptor
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	if stdout != nil {
		cmd.Stdout = stdout
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// If the harness dies without cleaning up (SIGKILL), the kernel
		// kills the child; its own children are stopped by the group kill
		// of a normal exit.
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %v", name, err)
	}
	p := &proc{name: name, argv: argv, env: env, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, and SIGKILL after stopGrace.
// It is safe to call more than once.
func (p *proc) stop() {
	pgid := p.pid() // Setpgid: the group id is the leader's pid
	if !p.exited() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
		}
	}
	// Children of the child may outlive it; the group kill reaches them.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
}

// commandLine renders the process's environment additions and argv the
// way a shell would accept them.
func (p *proc) commandLine() string { return shellLine(p.env, p.argv) }

func shellLine(env, argv []string) string {
	var b strings.Builder
	for _, e := range append(append([]string(nil), env...), argv...) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(shellQuote(e))
	}
	return b.String()
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,+%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// failure describes why a child is unusable, with the end of its log.
func (p *proc) failure(what string) error {
	state := "still running"
	if p.exited() {
		state = fmt.Sprintf("exited: %v", p.err)
	}
	return fmt.Errorf("%s %s (%s); last lines of %s:\n%s", p.name, what, state, p.logPath, logTail(p.logPath, 15))
}

// readReady reads the "ready addr=HOST:PORT gomaxprocs=N" line that the
// harness's own subcommands print once they listen.
func readReady(p *proc, r io.Reader, timeout time.Duration) (addr string, gomaxprocs int, err error) {
	type line struct {
		s   string
		err error
	}
	ch := make(chan line, 1)
	go func() {
		s, err := bufio.NewReader(r).ReadString('\n')
		ch <- line{s, err}
	}()
	select {
	case l := <-ch:
		if l.err != nil {
			return "", 0, p.failure("did not report its address")
		}
		return parseReady(l.s)
	case <-time.After(timeout):
		return "", 0, p.failure("did not start within " + timeout.String())
	}
}

func parseReady(s string) (addr string, gomaxprocs int, err error) {
	for _, f := range strings.Fields(s) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "addr":
			addr = v
		case "gomaxprocs":
			gomaxprocs, _ = strconv.Atoi(v)
		}
	}
	if addr == "" {
		return "", 0, fmt.Errorf("unexpected ready line %q", s)
	}
	return addr, gomaxprocs, nil
}

// waitOK polls url until it answers 200, the process exits, or timeout.
func waitOK(ctx context.Context, p *proc, c *http.Client, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := c.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if p.exited() {
			return p.failure("exited before " + url + " answered 200")
		}
		if time.Now().After(deadline) {
			return p.failure("was not ready at " + url + " within " + timeout.String())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freeAddr returns a loopback address with a port nothing listens on now.
// Another process may take it before the child binds it; the child then
// fails to start and the row is refused with its log, which is rare
// enough on a benchmark machine.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// cpusAllowed returns the CPU list a process may run on, as the kernel
// reports it; it shows whether pinning took effect.
func cpusAllowed(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// logTail returns the last n lines of a file.
func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + string(bytes.Join(lines, []byte("\n    ")))
}

// refusal is an error that refuses one row rather than the whole
// benchmark: the row is reported as REFUSED with Reason, never with
// figures.
type refusal struct{ Reason string }

func (r *refusal) Error() string { return "refused: " + r.Reason }

func refuse(format string, args ...any) error {
	return &refusal{Reason: fmt.Sprintf(format, args...)}
}
