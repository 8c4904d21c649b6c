package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drawbridge-gw/drawbridge/internal/cli"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/check")

// run runs drawbridge in-process and returns its exit code and output.
// Commands that would serve are bounded by a timeout, so a command that
// wrongly starts serving fails the test instead of hanging it.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code = cli.Run(ctx, args, &out, &errOut)
	if ctx.Err() != nil {
		t.Fatalf("drawbridge %s: still running after 10s", strings.Join(args, " "))
	}
	return code, out.String(), errOut.String()
}

// clearAddressEnv makes ${LISTEN:-...}-style references in examples take
// their defaults whatever the environment holds.
func clearAddressEnv(t *testing.T) {
	for _, k := range []string{"LISTEN", "ADMIN_LISTEN", "UPSTREAM"} {
		t.Setenv(k, "")
	}
}

func TestRun(t *testing.T) {
	clearAddressEnv(t)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // a substring; "" means stdout must be empty
		wantStderr string // a substring; "" means stderr must be empty
	}{
		{name: "version", args: []string{"version"}, wantCode: cli.ExitOK, wantStdout: "drawbridge dev "},
		{name: "help", args: []string{"--help"}, wantCode: cli.ExitOK, wantStdout: "Start with 'drawbridge demo'."},
		{name: "serve help", args: []string{"serve", "--help"}, wantCode: cli.ExitOK, wantStdout: "--config"},
		{name: "config check help", args: []string{"config", "check", "--help"}, wantCode: cli.ExitOK, wantStdout: "FILE:LINE:COL: FIELD: MESSAGE"},
		{name: "demo help", args: []string{"demo", "--help"}, wantCode: cli.ExitOK, wantStdout: "--admin-listen"},
		{name: "config help", args: []string{"config"}, wantCode: cli.ExitOK, wantStdout: "schema"},

		{name: "unknown command", args: []string{"serv"}, wantCode: cli.ExitUsage, wantStderr: `drawbridge: unknown command "serv" for "drawbridge"`},
		{name: "unknown config command", args: []string{"config", "chek", "x.yaml"}, wantCode: cli.ExitUsage, wantStderr: `drawbridge: unknown command "chek" for "drawbridge config" (did you mean "check"?)`},
		{name: "unknown flag", args: []string{"--verbose"}, wantCode: cli.ExitUsage, wantStderr: "drawbridge: unknown flag: --verbose"},
		{name: "unknown flag of a command", args: []string{"config", "check", "--strict", "x.yaml"}, wantCode: cli.ExitUsage, wantStderr: "drawbridge: unknown flag: --strict"},
		{name: "flag without its value", args: []string{"serve", "--config"}, wantCode: cli.ExitUsage, wantStderr: "flag needs an argument"},
		{name: "version with an argument", args: []string{"version", "now"}, wantCode: cli.ExitUsage, wantStderr: "drawbridge version takes 0 argument(s), got 1"},
		{name: "config check without a file", args: []string{"config", "check"}, wantCode: cli.ExitUsage, wantStderr: "drawbridge: drawbridge config check takes 1 argument(s), got 0"},
		{name: "config check with two files", args: []string{"config", "check", "a.yaml", "b.yaml"}, wantCode: cli.ExitUsage, wantStderr: "takes 1 argument(s), got 2"},
		{name: "serve without config", args: []string{"serve"}, wantCode: cli.ExitUsage, wantStderr: "drawbridge: serve needs --config FILE"},
		{name: "demo with a bad address", args: []string{"demo", "--listen", "8080"}, wantCode: cli.ExitUsage, wantStderr: `drawbridge: --listen wants host:port such as 127.0.0.1:8080, got "8080"`},
		{name: "serve with an argument", args: []string{"serve", "gw.yaml"}, wantCode: cli.ExitUsage, wantStderr: "takes 0 argument(s), got 1"},

		{name: "config check example", args: []string{"config", "check", "../../examples/basic.yaml"}, wantCode: cli.ExitOK, wantStdout: "../../examples/basic.yaml: ok (1 routes, 1 upstreams)\n"},
		{name: "config check missing file", args: []string{"config", "check", "testdata/no-such.yaml"}, wantCode: cli.ExitRefused, wantStderr: "testdata/no-such.yaml: no such file or directory\n"},
		{name: "serve missing file", args: []string{"serve", "--config", "testdata/no-such.yaml"}, wantCode: cli.ExitRefused, wantStderr: "testdata/no-such.yaml: no such file or directory\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			checkOutput(t, "stdout", stdout, tt.wantStdout)
			checkOutput(t, "stderr", stderr, tt.wantStderr)
			if tt.wantCode == cli.ExitUsage && !strings.HasSuffix(stderr, "Run 'drawbridge --help' for usage.\n") {
				t.Errorf("a usage error should point to --help; stderr:\n%s", stderr)
			}
		})
	}
}

func checkOutput(t *testing.T, name, got, want string) {
	t.Helper()
	switch {
	case want == "" && got != "":
		t.Errorf("%s = %q, want it empty", name, got)
	case !strings.Contains(got, want):
		t.Errorf("%s = %q, want it to contain %q", name, got, want)
	}
}

// TestConfigCheckExamples checks that every shipped example passes the
// same check serve applies, compile stage included.
func TestConfigCheckExamples(t *testing.T) {
	clearAddressEnv(t)
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, stdout, stderr := run(t, "config", "check", f)
			if code != cli.ExitOK || !strings.HasPrefix(stdout, f+": ok (") || stderr != "" {
				t.Errorf("config check %s: exit %d\nstdout:\n%s\nstderr:\n%s", f, code, stdout, stderr)
			}
		})
	}
}

// TestConfigCheckGolden runs 'config check' on each broken config in
// testdata/check and compares what it prints with the .golden file beside
// it: every problem, one per line, as FILE:LINE:COL: FIELD: MESSAGE.
// Regenerate with `go test ./internal/cli -run TestConfigCheckGolden -update`.
func TestConfigCheckGolden(t *testing.T) {
	clearAddressEnv(t)
	files, err := filepath.Glob("testdata/check/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no configs in testdata/check (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, stdout, stderr := run(t, "config", "check", f)
			if code != cli.ExitRefused {
				t.Errorf("exit code = %d, want %d", code, cli.ExitRefused)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want it empty", stdout)
			}
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(stderr), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), stderr); diff != "" {
				t.Errorf("config check %s (-want +got):\n%s", f, diff)
			}
		})
	}
}

// TestServeRefusesBrokenConfig checks that serve reports the same
// problems as config check and exits without listening: had it bound the
// address, it would serve until run's timeout instead of returning 1.
func TestServeRefusesBrokenConfig(t *testing.T) {
	clearAddressEnv(t)
	for _, name := range []string{"broken", "compile"} {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join("testdata", "check", name+".yaml")
			code, stdout, stderr := run(t, "serve", "--config", f)
			if code != cli.ExitRefused {
				t.Errorf("exit code = %d, want %d", code, cli.ExitRefused)
			}
			want, err := os.ReadFile(filepath.Join("testdata", "check", name+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), stderr); diff != "" {
				t.Errorf("serve stderr (-want +got):\n%s", diff)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want it empty", stdout)
			}
		})
	}
}

func TestConfigSchema(t *testing.T) {
	code, stdout, stderr := run(t, "config", "schema")
	if code != cli.ExitOK || stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	var schema struct {
		Ref  string                     `json:"$ref"`
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal([]byte(stdout), &schema); err != nil {
		t.Fatalf("config schema is not JSON: %v", err)
	}
	if _, ok := schema.Defs["Config"]; !ok {
		t.Errorf("$defs has no Config; it has %d definitions", len(schema.Defs))
	}
	if schema.Ref != "#/$defs/Config" {
		t.Errorf("$ref = %q, want #/$defs/Config", schema.Ref)
	}
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
