package cli_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/apikey"
	"github.com/drawbridge-gw/drawbridge/internal/store/sqlite"
)

// TestAPIKeyCommands: create prints a key once, which then verifies
// against the config's store; list never shows secrets; rotate keeps the
// old secret for the overlap; revoke ends both.
func TestAPIKeyCommands(t *testing.T) {
	dir := t.TempDir()
	pepperFile := filepath.Join(dir, "pepper")
	pepper := "0123456789abcdef0123456789abcdef-pepper"
	os.WriteFile(pepperFile, []byte(pepper+"\n"), 0o600)
	db := filepath.Join(dir, "drawbridge.db")
	cfg := filepath.Join(dir, "drawbridge.yaml")
	os.WriteFile(cfg, []byte(`
state:
  durable: sqlite:`+db+`
api_keys:
  pepper: ${file:`+pepperFile+`}
upstreams: {app: {url: "http://127.0.0.1:9000"}}
routes:
  - upstream: app
    policies:
      - apikey: {scopes: [orders:read]}
`), 0o600)

	code, out, errOut := run(t, "apikey", "create", "--config", cfg, "--id", "acme", "--name", "Acme's server", "--scope", "orders:read", "--scope", "orders:write")
	if code != 0 {
		t.Fatalf("create: %d %s", code, errOut)
	}
	key := strings.TrimSpace(out)
	if !strings.HasPrefix(key, "dbk_acme_") || strings.Count(out, "\n") != 1 || !strings.Contains(errOut, "shown only now") {
		t.Fatalf("create printed %q / %q", out, errOut)
	}
	if code, _, errOut := run(t, "apikey", "create", "--config", cfg, "--id", "acme"); code != 1 || !strings.Contains(errOut, "rotate") {
		t.Fatalf("create of an existing id: %d %s", code, errOut)
	}
	if code, _, _ := run(t, "apikey", "create", "--config", cfg, "--id", "Bad_Id"); code != 2 {
		t.Fatalf("create with a bad id: %d, want 2", code)
	}

	verify := func(cred string) string {
		t.Helper()
		d, err := sqlite.Open(context.Background(), sqlite.Options{Path: db})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		h, _ := apikey.NewHasher([]byte(pepper))
		v := &apikey.Verifier{Keys: d, Hasher: h}
		k, err := v.Verify(context.Background(), cred)
		if err != nil {
			var e *apikey.Error
			if errors.As(err, &e) {
				return e.Code
			}
			t.Fatal(err)
		}
		if k.ID != "acme" || len(k.Scopes) != 2 {
			t.Fatalf("verified %+v", k)
		}
		return "ok"
	}
	if got := verify(key); got != "ok" {
		t.Fatalf("the created key: %s", got)
	}

	code, out, _ = run(t, "apikey", "list", "--config", cfg)
	if code != 0 || !strings.Contains(out, "acme") || !strings.Contains(out, "orders:read orders:write") || strings.Contains(out, key[9:]) {
		t.Fatalf("list: %d\n%s", code, out)
	}

	code, out, errOut = run(t, "apikey", "rotate", "acme", "--config", cfg, "--overlap", "1h")
	if code != 0 {
		t.Fatalf("rotate: %d %s", code, errOut)
	}
	next := strings.TrimSpace(out)
	if next == key || verify(next) != "ok" || verify(key) != "ok" {
		t.Fatal("during the overlap both secrets must work")
	}
	if code, _, errOut := run(t, "apikey", "rotate", "acme", "--config", cfg, "--overlap", "0s"); code != 0 || verify(next) != "apikey.expired" {
		t.Fatalf("rotate without overlap: %d %s", code, errOut)
	}

	if code, out, _ := run(t, "apikey", "revoke", "acme", "--config", cfg); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %d %s", code, out)
	}
	if got := verify(key); got != "apikey.revoked" {
		t.Fatalf("after revoke: %s", got)
	}
	if code, _, errOut := run(t, "apikey", "revoke", "nobody", "--config", cfg); code != 1 || !strings.Contains(errOut, `no API key "nobody"`) {
		t.Fatalf("revoke of an unknown key: %d %s", code, errOut)
	}
	if code, _, _ := run(t, "apikey", "list"); code != 2 {
		t.Fatalf("list without --config: %d, want 2", code)
	}
}
