package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/cli"
	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/gateway"
	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
)

const adminConfig = `listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
  token: ${ADMIN_TOKEN}
upstreams:
  app: {url: "http://127.0.0.1:1"}
apps:
  shop-ios:
    apple: {team_id: TEAM123456, bundle_id: com.example.shop}
routes:
  - upstream: app
    match: {path_prefix: /api/}
    policies:
      - attestation: {apps: [shop-ios]}
`

// startAdminGateway runs a real gateway with an operator token over a
// durable store the test can read, and returns its admin URL.
func startAdminGateway(t *testing.T, token string) (string, store.Durable) {
	t.Helper()
	durable := memory.NewDurable()
	f, err := config.Parse("gateway.yaml", []byte(adminConfig), config.Source{LookupEnv: func(k string) (string, bool) {
		return token, k == "ADMIN_TOKEN"
	}})
	if err != nil {
		t.Fatal(err)
	}
	gw := gateway.New(gateway.Options{Durable: durable})
	if err := gw.Load(f); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Close)
	srv, err := gateway.NewServer(gw, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for !srv.Ready() {
		time.Sleep(5 * time.Millisecond)
	}
	return "http://" + srv.AdminAddr().String(), durable
}

func runAdmin(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), append([]string{"admin"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestAdminCommands(t *testing.T) {
	const tok = "operator-token-0123456789"
	admin, durable := startAdminGateway(t, tok)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := durable.RegisterDevice(context.Background(), store.Device{App: "shop-ios", KeyID: "install-1", Platform: "apple", PublicKey: []byte{1}, FirstSeen: now, LastSeen: now}); err != nil {
		t.Fatal(err)
	}
	auth := []string{"--admin", admin, "--token-file", tokenFile}
	ok := func(args ...string) map[string]any {
		t.Helper()
		code, out, errs := runAdmin(t, append(args, auth...)...)
		if code != cli.ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%v: output %q: %v", args, out, err)
		}
		return m
	}
	if m := ok("block-version", "shop-ios", "2.1.0"); m["blocked"] != true {
		t.Errorf("block-version: %v", m)
	}
	if m := ok("controls"); m["blocked_versions"].(map[string]any)["shop-ios"] == nil {
		t.Errorf("controls after block: %v", m)
	}
	ok("unblock-version", "shop-ios", "2.1.0")
	if m := ok("revoke-device", "shop-ios", "install-1"); m["revoked_at"] == nil {
		t.Errorf("revoke-device: %v", m)
	}
	if d, _ := durable.Device(context.Background(), "shop-ios", "install-1"); d.RevokedAt.IsZero() {
		t.Error("revoke-device did not reach the store")
	}
	if m := ok("device", "shop-ios", "install-1"); m["revoked_at"] == nil || m["platform"] != "apple" {
		t.Errorf("device: %v", m)
	}
	ok("cutoff", "shop-ios")
	ok("cutoff", "shop-ios", "--before", now.Add(-time.Hour).UTC().Format(time.RFC3339))
	snap, _ := durable.Snapshot(context.Background())
	if got := snap.TokenCutoffs["shop-ios"]; !got.Equal(now.Add(-time.Hour).UTC().Truncate(time.Second)) {
		t.Errorf("cut-off in the store %v", got)
	}
	ok("cutoff", "shop-ios", "--remove")
	if snap, _ := durable.Snapshot(context.Background()); !snap.TokenCutoffs["shop-ios"].IsZero() {
		t.Error("cutoff --remove left the cut-off")
	}

	// Refusals: 1, with the reason on stderr.
	for _, tt := range []struct {
		args   []string
		reason string
	}{
		{[]string{"revoke-device", "shop-ios", "no-such-install"}, "admin.not_found"},
		{[]string{"block-version", "nope", "1.0"}, "admin.unknown_app"},
		{[]string{"block-version", "shop-ios", "1.0", "--admin", admin}, "admin.unauthorized"},
	} {
		args := tt.args
		if !strings.Contains(strings.Join(args, " "), "--admin") {
			args = append(args, auth...)
		}
		code, _, errs := runAdmin(t, args...)
		if code != cli.ExitRefused || !strings.Contains(errs, tt.reason) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %s", tt.args, code, errs, tt.reason)
		}
	}
	// Unreachable gateway: 1.
	if code, _, _ := runAdmin(t, "controls", "--admin", "http://127.0.0.1:1"); code != cli.ExitRefused {
		t.Errorf("unreachable gateway: exit %d, want 1", code)
	}
	// Usage: 2.
	for _, args := range [][]string{
		{"controls"},
		{"controls", "--admin", "ftp://x"},
		{"block-version", "shop-ios", "--admin", admin},
		{"cutoff", "shop-ios", "--before", "yesterday", "--admin", admin},
		{"cutoff", "shop-ios", "--before", "2020-01-01T00:00:00Z", "--remove", "--admin", admin},
		{"nothing", "--admin", admin},
	} {
		if code, _, errs := runAdmin(t, args...); code != cli.ExitUsage {
			t.Errorf("%v: exit %d (%s), want 2", args, code, errs)
		}
	}
	// The token never appears in output.
	_, out, errs := runAdmin(t, append([]string{"controls"}, auth...)...)
	if strings.Contains(out+errs, tok) {
		t.Error("the token was printed")
	}
}
