package testenv_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/testenv"
)

// Need fails under CI=true and skips, loudly, elsewhere. The test runs
// itself in a child process to watch both outcomes.
func TestNeed(t *testing.T) {
	if os.Getenv("TESTENV_NEED_CHILD") == "1" {
		testenv.Need(t, "a thing", errors.New("not installed"))
		t.Fatal("Need returned")
	}
	for _, ci := range []string{"true", ""} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNeed$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_NEED_CHILD=1", "CI="+ci)
		out, err := cmd.CombinedOutput()
		switch {
		case ci == "true" && (err == nil || !strings.Contains(string(out), "a thing is required under CI=true: not installed")):
			t.Errorf("CI=true: exit %v, want a failure naming the dependency:\n%s", err, out)
		case ci == "" && (err != nil || !strings.Contains(string(out), "--- SKIP") ||
			!strings.Contains(string(out), "testenv: SKIPPING tests that need a thing")):
			t.Errorf("CI unset: exit %v, want a loud skip:\n%s", err, out)
		}
	}
}
