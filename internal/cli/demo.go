package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/demo"
	"github.com/drawbridge-gw/drawbridge/internal/gateway"
)

func newDemoCmd() *cobra.Command {
	var listen, adminListen string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the gateway in front of a built-in shop API and print a tour",
		Long: `Start a small built-in shop API (products, favourites, orders) on a free
loopback port, put the gateway in front of it, and print a tour: commands to
try and what each answers and why. Needs no external service.

The demo's keys (an identity issuer's, a development CA's for app attestation)
are made at start; those the tour's commands need are written to a temporary
directory, removed at exit.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Checked here so that a bad flag is a usage error naming the
			// flag, not a problem at a line of the embedded demo.yaml.
			for _, f := range []struct{ name, addr string }{{"--listen", listen}, {"--admin-listen", adminListen}} {
				if _, _, err := net.SplitHostPort(f.addr); err != nil {
					return usagef("%s wants host:port such as 127.0.0.1:8080, got %q", f.name, f.addr)
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDemo(ctx, cmd, listen, adminListen, quiet)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "gateway address")
	cmd.Flags().StringVar(&adminListen, "admin-listen", "127.0.0.1:9090", "admin address (metrics, health)")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "do not write the decision log to stderr")
	return cmd
}

func runDemo(ctx context.Context, cmd *cobra.Command, listen, adminListen string, quiet bool) error {
	shopLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	shop := &http.Server{Handler: (&demo.Shop{}).Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = shop.Serve(shopLn) }()
	defer shop.Close()

	// The identity issuer: a key made now, its public set in a temporary
	// file for the gateway, and the tour's tokens.
	now := time.Now()
	jwks, tokens, err := demo.NewIdentity(now)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "drawbridge-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	jwksPath := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(jwksPath, jwks, 0o600); err != nil {
		return err
	}
	// App attestation: a development CA and device, the gateway's token
	// signing key and the operator token, in the same directory.
	att, err := demo.NewAttestation(dir, now)
	if err != nil {
		return err
	}
	vars := map[string]string{
		"LISTEN":       listen,
		"ADMIN_LISTEN": adminListen,
		"UPSTREAM":     "http://" + shopLn.Addr().String(),
		"DEMO_JWKS":    jwksPath,
	}
	maps.Copy(vars, att.Vars())
	src := config.Source{LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	f, err := config.Parse("demo.yaml", demo.Config, src)
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	decisionLog := "stderr"
	if quiet {
		f.Config.Log.Output = os.DevNull
		decisionLog = ""
	}
	out := cmd.OutOrStdout()
	// The attestation tokens come from the gateway itself, so they are
	// obtained once it serves; a failure stops the demo.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var prepared sync.WaitGroup
	defer prepared.Wait()
	err = runGateway(ctx, f, runOptions{
		stdout: out,
		stderr: cmd.ErrOrStderr(),
		started: func(s *gateway.Server) {
			gw, admin := s.Addr().String(), s.AdminAddr().String()
			prepared.Go(func() {
				pctx, stop := context.WithTimeout(ctx, 30*time.Second)
				defer stop()
				app, err := att.Prepare(pctx, "http://"+gw, "http://"+admin, f.Config.Attestation.Issuer)
				if err != nil {
					cancel(fmt.Errorf("demo: preparing app attestation: %w", err))
					return
				}
				setup := demo.Setup{Tokens: tokens, App: app, Dir: dir, Drawbridge: selfCommand(), DecisionLog: decisionLog}
				demo.PrintTour(out, gw, admin, setup, demo.Tour(gw, admin, setup))
			})
		},
	})
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "listen" {
		return fmt.Errorf("%w (is another demo running? choose other ports with --listen and --admin-listen)", err)
	}
	if cause := context.Cause(ctx); err == nil && cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}

// selfCommand is how the tour's commands run drawbridge: as this process
// was started. A binary that `go run` built lives in a temporary go-build
// directory, gone when it exits: the reader runs `go run` too (from the
// repository's root, where the demo was started).
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "drawbridge"
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return "go run ./cmd/drawbridge"
	}
	if p, err := exec.LookPath(filepath.Base(exe)); err == nil && sameFile(p, exe) {
		return filepath.Base(exe)
	}
	return demo.ShellQuote(exe)
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}
