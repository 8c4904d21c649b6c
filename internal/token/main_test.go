package token_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// produced records every reason code a test saw, so that TestMain fails
// when a declared reason is never produced.
var produced sync.Map

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && !testing.Short() && runsEverything() {
		var missing []string
		for _, r := range token.Reasons() {
			if _, ok := produced.Load(r); !ok {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			fmt.Fprintf(os.Stderr, "FAIL: declared token reason codes never produced by any test:\n  %s\n", strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

func runsEverything() bool {
	for _, a := range os.Args {
		if strings.HasPrefix(a, "-test.run") || strings.HasPrefix(a, "-test.fuzz") || strings.HasPrefix(a, "-test.bench") {
			return false
		}
	}
	return true
}

// wantReason checks that err is a refusal with the reason want, and
// records the reason.
func wantReason(t testing.TB, err error, want string) {
	t.Helper()
	got := token.ReasonOf(err)
	if got != "" {
		produced.Store(got, true)
	}
	if got != want {
		t.Fatalf("reason = %q (%v), want %q", got, err, want)
	}
	var te *token.Error
	if !errors.As(err, &te) || !strings.HasPrefix(err.Error(), "token: ") {
		t.Fatalf("error %v is not a *token.Error prefixed 'token: '", err)
	}
}

// vectors returns the shared vectors directory: $DRAWBRIDGE_VECTORS, or
// ../shared/vectors beside the repository. Missing vectors fail under
// CI=true and skip loudly otherwise.
func vectors(t testing.TB, parts ...string) string {
	t.Helper()
	dir := os.Getenv("DRAWBRIDGE_VECTORS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "vectors")
	}
	p := filepath.Join(append([]string{dir}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("test vectors missing at %s (set DRAWBRIDGE_VECTORS): %v", p, err)
		}
		t.Skipf("!!! SKIPPING: test vectors missing at %s (set DRAWBRIDGE_VECTORS) !!!", p)
	}
	return p
}

func readVector(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(vectors(t, parts...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
