package cli_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/cli"
	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/gateway"
)

const clientConfig = `listen: 127.0.0.1:0
upstreams:
  app: {url: "${UPSTREAM}"}
apps:
  shop:
    dev: {ca_files: ["${DEV_CA}"]}
    environments: [development]
routes:
  - name: signed
    match: {path_prefix: /signed/}
    upstream: app
    policies:
      - attestation: {apps: [shop]}
      - signature: {attested: true}
  - name: dpop
    match: {path_prefix: /dpop/}
    upstream: app
    policies:
      - attestation: {apps: [shop]}
      - dpop: {}
`

// startClientGateway runs a real gateway that accepts development
// attestation by the CA in caDir, in front of an upstream that answers
// {"ok":true}, and returns its origin.
func startClientGateway(t *testing.T, caDir string) string {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(up.Close)
	vars := map[string]string{"UPSTREAM": up.URL, "DEV_CA": filepath.Join(caDir, "ca.pem")}
	f, err := config.Parse("gateway.yaml", []byte(clientConfig), config.Source{LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	gw := gateway.New(gateway.Options{})
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
	return "http://" + srv.Addr().String()
}

// TestClient: 'drawbridge client' with a device that 'drawbridge
// attestation dev-device' made calls routes that require signatures and
// DPoP proofs, and shows refusals as the gateway answered them.
func TestClient(t *testing.T) {
	dir := t.TempDir()
	caDir, device := filepath.Join(dir, "ca"), filepath.Join(dir, "device")
	if code, _, errOut := run(t, "attestation", "dev-ca", "--out", caDir); code != cli.ExitOK {
		t.Fatalf("dev-ca: %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "attestation", "dev-device", "--ca", caDir, "--app", "shop", "--out", device); code != cli.ExitOK {
		t.Fatalf("dev-device: %d %s", code, errOut)
	}
	gw := startClientGateway(t, caDir)
	as := []string{"client", "--gateway", gw, "--app", "shop", "--dev-device", device}
	as = as[:len(as):len(as)] // every append copies

	code, printed, errOut := run(t, append(as, "--print-token")...)
	if code != cli.ExitOK {
		t.Fatalf("--print-token: %d %s", code, errOut)
	}
	tok := strings.TrimSpace(printed)

	for _, tc := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // its start
		wantStderr string
	}{
		{name: "signed", args: append(as, "/signed/orders"), wantStdout: "200 OK\n{\"ok\":true}\n"},
		{name: "signed with a body", args: append(as, "-d", `{"a":1}`, "/signed/orders"), wantStdout: "200 OK\n"},
		{name: "dpop", args: append(as, "--proof", "dpop", "-X", "PUT", "-d", "{}", "-H", "X-Trace: 1", "/dpop/orders?x=1"), wantStdout: "200 OK\n"},
		{name: "no proof", args: append(as, "--proof", "none", "/signed/orders"), wantCode: cli.ExitRefused,
			wantStdout: "401 Unauthorized\n{\"type\":\"urn:drawbridge:problem:signature.missing\""},
		{name: "a printed token with the device's key", args: []string{"client", "--gateway", gw, "--attestation-token", tok, "--dev-device", device, "/signed/orders"},
			wantStdout: "200 OK\n"},
		{name: "a printed token with another key", args: []string{"client", "--gateway", gw, "--attestation-token", tok, "/signed/orders"},
			wantCode: cli.ExitRefused, wantStdout: "401 Unauthorized\n{\"type\":\"urn:drawbridge:problem:signature.key_not_bound\""},
		{name: "an app the gateway does not know", args: []string{"client", "--gateway", gw, "--app", "nope", "--dev-device", device, "/signed/orders"},
			wantCode: cli.ExitRefused, wantStdout: "400 Bad Request\n{\"type\":\"urn:drawbridge:problem:attestation.unknown_app\"",
			wantStderr: "attestation challenge refused: attestation.unknown_app (400)"},
		{name: "verbose", args: append(as, "-v", "--bearer", "user-token-0123456789abcdef", "/signed/orders"), wantStdout: "200 OK\n",
			wantStderr: "> Signature-Input: sig1=(\"@method\" \"@authority\" \"@path\" \"@query\" \"attestation-token\" \"authorization\");created="},
		{name: "no gateway", args: []string{"client", "--app", "shop", "--dev-device", device, "/x"}, wantCode: cli.ExitUsage, wantStderr: "--gateway wants"},
		{name: "no device", args: []string{"client", "--gateway", gw, "--app", "shop", "/x"}, wantCode: cli.ExitUsage, wantStderr: "needs --app and --dev-device"},
		{name: "unknown proof", args: append(as, "--proof", "mtls", "/x"), wantCode: cli.ExitUsage, wantStderr: "--proof wants"},
		{name: "not a path", args: append(as, "orders"), wantCode: cli.ExitUsage, wantStderr: "PATH must start with /"},
		{name: "no path", args: as, wantCode: cli.ExitUsage, wantStderr: "takes 1 argument"},
		{name: "a missing device", args: []string{"client", "--gateway", gw, "--app", "shop", "--dev-device", filepath.Join(dir, "nope"), "/x"},
			wantCode: cli.ExitRefused, wantStderr: "development device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout, stderr)
			}
			if !strings.HasPrefix(stdout, tc.wantStdout) {
				t.Errorf("stdout:\n%s\nwant it to start with:\n%s", stdout, tc.wantStdout)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr:\n%s\nwant it to contain:\n%s", stderr, tc.wantStderr)
			}
			for _, secret := range []string{tok, "user-token-0123456789abcdef"} {
				if strings.Contains(stderr, secret) {
					t.Errorf("stderr shows a whole credential:\n%s", stderr)
				}
			}
		})
	}
}
