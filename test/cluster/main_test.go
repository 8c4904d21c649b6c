// Package cluster tests drawbridge as operators run it in production:
// several `drawbridge serve` processes, built from this module with
// `go build`, sharing one Redis (state.hot) and one PostgreSQL
// (state.durable), in front of one upstream, each on its own free
// loopback ports. It holds only tests and their helpers.
//
//   - cluster_test.go: what replicas share (docs/operations.md): one
//     global rate limit, single-use challenges, the device registry and
//     the operators' run-time controls, and one Redis script call per
//     rate-limited request.
//   - failure_test.go: Redis and PostgreSQL stopped and restarted under
//     load: which layers fail closed, which fail open, what is logged and
//     counted, how fast the nodes recover, and that nothing leaks.
//   - sizing_test.go: the measurements behind the sizing section of
//     docs/operations.md, opt-in (DRAWBRIDGE_SIZING=1) so that make test
//     stays fast.
//
// The servers come from internal/testenv: missing ones skip the tests
// loudly, and fail them under CI=true. Under -race, the gateway binary is
// built with -race too, and a data race reported by any node fails the
// test.
package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// build is the drawbridge binary, built once per test run on first use.
var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// drawbridgeBinary builds cmd/drawbridge into a temporary directory (once
// per test run) and returns its path.
func drawbridgeBinary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		if build.dir, build.err = os.MkdirTemp("", "drawbridge-cluster-"); build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "drawbridge")
		args := []string{"build", "-o", build.path}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "github.com/drawbridge-gw/drawbridge/cmd/drawbridge")
		cmd := exec.Command(goTool(), args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// goTool is the go command that runs the tests.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if r := os.Getenv("GOROOT"); r != "" {
		return filepath.Join(r, "bin", "go")
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
