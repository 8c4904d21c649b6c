package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies: the public package uses the standard library only, so
// that apps importing it get none of the gateway's dependencies.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("!!! SKIPPING: the go command is not in PATH !!!")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "github.com/drawbridge-gw/drawbridge/client").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/drawbridge-gw/drawbridge/client" {
			t.Errorf("package client depends on %s; it must use the standard library only", p)
		}
	}
}
