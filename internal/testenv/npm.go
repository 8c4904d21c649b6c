package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// NPM makes sure the npm packages pkgs ("name@version") are installed
// under dir/node_modules, installing the missing ones with the machine's
// npm, and returns dir/node_modules. The interop tests run independent
// implementations from there; dir is git-ignored. Without node and npm,
// or when the install fails, t skips loudly, or fails under CI (Need).
func NPM(t testing.TB, dir string, pkgs ...string) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			Need(t, tool, err)
		}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	mods := filepath.Join(dir, "node_modules")
	var missing []string
	for _, p := range pkgs {
		if _, err := os.Stat(filepath.Join(mods, packageName(p), "package.json")); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return mods
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", dir}, missing...)
	if out, err := exec.CommandContext(ctx, "npm", args...).CombinedOutput(); err != nil {
		Need(t, "npm packages "+strings.Join(missing, " "), errors.Join(err, fmt.Errorf("%s", out)))
	}
	return mods
}

// packageName is the name of an npm package spec: "jose@6" is jose,
// "@scope/pkg@1" is @scope/pkg.
func packageName(spec string) string {
	if i := strings.LastIndexByte(spec, '@'); i > 0 {
		return spec[:i]
	}
	return spec
}
