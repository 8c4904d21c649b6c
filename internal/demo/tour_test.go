package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/cli"
	"github.com/drawbridge-gw/drawbridge/internal/demo"
)

// TestTour builds drawbridge, runs 'drawbridge demo' from the binary,
// then runs every command the printed tour tells a reader to try, exactly
// as printed (curl, and the binary itself for 'drawbridge client'), and
// checks the answer against the promise printed below it and against
// demo.Tour. The tour is the demo's documentation; this keeps it true.
func TestTour(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl is not installed; the demo tour test needs it in CI")
		}
		t.Skip("!!! SKIPPING the demo tour test: curl is not installed, so the tour's commands cannot be checked !!!")
	}
	bin := buildDrawbridge(t)

	demoCmd := exec.Command(bin, "demo", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--quiet")
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	demoCmd.Stdout, demoCmd.Stderr = stdout, stderr
	if err := demoCmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() {
		_ = demoCmd.Wait()
		done <- demoCmd.ProcessState.ExitCode()
	}()
	stopped := false
	defer func() {
		if !stopped {
			_ = demoCmd.Process.Kill()
			<-done
		}
	}()
	printed := waitForTour(t, stdout, stderr, done)

	gw, admin := tourAddrs(t, printed)
	setup := tourSetup(t, printed)
	setup.Drawbridge = demo.ShellQuote(bin) // as the demo prints its own path
	want := demo.Tour(gw, admin, setup)
	got := parseTour(t, printed)
	if len(got) != len(want) {
		t.Fatalf("the demo printed %d steps, demo.Tour has %d:\n%s", len(got), len(want), printed)
	}
	dir := t.TempDir()
	for i, p := range got {
		step := want[i]
		t.Run(fmt.Sprintf("%d", i+1), func(t *testing.T) {
			if p.cmd != step.Cmd || p.status != step.Status || p.reason != step.Reason {
				t.Fatalf("printed step %d disagrees with demo.Tour:\nprinted: $ %s\n         -> %d %s\nTour:    $ %s\n         -> %d %s",
					i+1, p.cmd, p.status, p.reason, step.Cmd, step.Status, step.Reason)
			}
			var status int
			var body string
			if strings.HasPrefix(p.cmd, "curl ") {
				status, body = runCurl(t, filepath.Join(dir, fmt.Sprintf("body%d", i+1)), p.cmd)
			} else {
				status, body = runClient(t, setup.Drawbridge, p.cmd)
			}
			if status != p.status {
				t.Errorf("$ %s\nstatus %d, the tour promises %d; body:\n%s", p.cmd, status, p.status, body)
			}
			if reason := problemReason(body); reason != p.reason {
				t.Errorf("$ %s\nreason %q, the tour promises %q; body:\n%s", p.cmd, reason, p.reason, body)
			}
			if !strings.Contains(body, step.Contains) {
				t.Errorf("$ %s\nbody does not contain %s:\n%s", p.cmd, step.Contains, body)
			}
		})
	}

	// Ctrl-C: a graceful stop that removes the demo's directory, keys
	// and all.
	if err := demoCmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		stopped = true
		if code != cli.ExitOK {
			t.Errorf("demo exit code after Ctrl-C = %d, want %d (graceful shutdown)\nstderr:\n%s", code, cli.ExitOK, stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("demo did not stop within 10s of Ctrl-C\nstderr:\n%s", stderr)
	}
	if _, err := os.Stat(setup.Dir); !os.IsNotExist(err) {
		t.Errorf("the demo left %s behind (%v)", setup.Dir, err)
	}
}

// buildDrawbridge builds the command into a temporary directory: the tour
// prints the binary's path for 'drawbridge client' steps.
func buildDrawbridge(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("!!! SKIPPING the demo tour test: the go command is not in PATH to build drawbridge !!!")
	}
	bin := filepath.Join(t.TempDir(), "drawbridge")
	out, err := exec.Command(goTool, "build", "-o", bin, "github.com/drawbridge-gw/drawbridge/cmd/drawbridge").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// waitForTour waits until the demo has printed its whole tour.
func waitForTour(t *testing.T, stdout, stderr *syncBuffer, done <-chan int) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if out := stdout.String(); strings.Contains(out, "Press Ctrl-C to stop.\n") {
			return out
		}
		select {
		case code := <-done:
			t.Fatalf("demo exited with %d before printing its tour\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		case <-deadline:
			t.Fatalf("demo printed no complete tour within 10s\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

var (
	gwLine    = regexp.MustCompile(`(?m)^drawbridge demo: the gateway listens on http://(\S+), `)
	adminLine = regexp.MustCompile(`(?m)^Metrics, health and readiness: http://(\S+)/metrics, `)
	// A promise: "   -> 403 useragent.denied: why" or "   -> 200: why".
	promiseLine = regexp.MustCompile(`^   -> (\d{3})(?: ([a-z_]+\.[a-z_.]+))?: \S`)
)

// tourAddrs reads the addresses the demo bound, which the tour prints.
func tourAddrs(t *testing.T, printed string) (gw, admin string) {
	t.Helper()
	m, a := gwLine.FindStringSubmatch(printed), adminLine.FindStringSubmatch(printed)
	if m == nil || a == nil {
		t.Fatalf("the tour does not say where the gateway and admin listen:\n%s", printed)
	}
	for _, addr := range []string{m[1], a[1]} {
		if strings.HasSuffix(addr, ":0") {
			t.Fatalf("the tour shows %s, not the bound address", addr)
		}
	}
	return m[1], a[1]
}

// tourSetup reads the tokens and the directory the demo made, which the
// tour prints.
func tourSetup(t *testing.T, printed string) demo.Setup {
	t.Helper()
	get := func(name string) string {
		m := regexp.MustCompile(`(?m)^  ` + name + `=(\S+)$`).FindStringSubmatch(printed)
		if m == nil {
			t.Fatalf("the tour does not print %s:\n%s", name, printed)
		}
		return m[1]
	}
	return demo.Setup{
		Tokens: demo.Tokens{Alice: get("ALICE"), Expired: get("EXPIRED"), Forged: get("FORGED"), None: get("NONE")},
		App: demo.AppTokens{
			Valid: get("APP_TOKEN"), Expired: get("APP_EXPIRED"), Kiosk: get("KIOSK_TOKEN"),
			Revoked: get("REVOKED_TOKEN"), OldVersion: get("OLD_VERSION_TOKEN"),
		},
		Dir: get("DEMO_DIR"),
	}
}

type printedStep struct {
	cmd    string
	status int
	reason string
}

// parseTour returns every "   $ " command and the promise on the line
// after it. A command without a promise fails the test.
func parseTour(t *testing.T, printed string) []printedStep {
	t.Helper()
	lines := strings.Split(printed, "\n")
	var steps []printedStep
	for i, l := range lines {
		cmd, ok := strings.CutPrefix(l, "   $ ")
		if !ok {
			continue
		}
		var m []string
		if i+1 < len(lines) {
			m = promiseLine.FindStringSubmatch(lines[i+1])
		}
		if m == nil {
			t.Fatalf("command %q is not followed by a promise line (   -> STATUS [REASON]: ...)", cmd)
		}
		status, _ := strconv.Atoi(m[1])
		steps = append(steps, printedStep{cmd: cmd, status: status, reason: m[2]})
	}
	return steps
}

// runCurl runs a curl command as a reader would paste it, with curl told
// to write the body to file and the status to stdout.
func runCurl(t *testing.T, file, cmd string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, "sh", "-c", cmd+" -o "+file+" -w '%{http_code}'")
	var errOut bytes.Buffer
	c.Stderr = &errOut
	out, err := c.Output()
	if err != nil {
		t.Fatalf("$ %s\n%v\n%s", cmd, err, errOut.Bytes())
	}
	status, err := strconv.Atoi(string(out))
	if err != nil {
		t.Fatalf("$ %s\ncurl wrote %q, want a status code", cmd, out)
	}
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return status, string(body)
}

// runClient runs a 'drawbridge client' command as a reader would paste
// it. It prints the status line, then the body; it exits 0 on 2xx and 1
// otherwise.
func runClient(t *testing.T, bin, cmd string) (int, string) {
	t.Helper()
	if !strings.HasPrefix(cmd, bin+" client ") {
		t.Fatalf("$ %s\nis neither curl nor %s client", cmd, bin)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, "sh", "-c", cmd)
	var errOut bytes.Buffer
	c.Stderr = &errOut
	out, err := c.Output()
	code := c.ProcessState.ExitCode()
	if err != nil && code != cli.ExitRefused {
		t.Fatalf("$ %s\n%v\n%s", cmd, err, errOut.Bytes())
	}
	line, body, _ := strings.Cut(string(out), "\n")
	code3, _, _ := strings.Cut(line, " ")
	status, err := strconv.Atoi(code3)
	if err != nil {
		t.Fatalf("$ %s\nprinted %q, want a status line first\n%s", cmd, out, errOut.Bytes())
	}
	if (code == cli.ExitOK) != (status/100 == 2) {
		t.Errorf("$ %s\nexit code %d with status %d", cmd, code, status)
	}
	return status, body
}

// problemReason returns the "reason" of a problem+json body, or "".
func problemReason(body string) string {
	var p struct {
		Reason string `json:"reason"`
	}
	if json.Unmarshal([]byte(body), &p) != nil {
		return ""
	}
	return p.Reason
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes and reads of
// a command running in another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
