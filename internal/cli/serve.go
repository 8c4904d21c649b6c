package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/gateway"
	"github.com/drawbridge-gw/drawbridge/internal/state"
	"github.com/drawbridge-gw/drawbridge/internal/store/redis"
)

func newServeCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run the gateway",
		Long: `Run the gateway with a config file. The config is reloaded on SIGHUP and when
the file changes; a config that does not validate is refused and the running
one keeps serving. SIGINT and SIGTERM shut down gracefully: in-flight requests
finish, new connections are refused.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return usagef("serve needs --config FILE")
			}
			f, err := config.Load(path, config.Source{})
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return silentError{ExitRefused}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runGateway(ctx, f, runOptions{stderr: cmd.ErrOrStderr(), stdout: cmd.OutOrStdout(), watch: path})
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "config file (YAML)")
	return cmd
}

type runOptions struct {
	stdout, stderr io.Writer
	// watch is the config path to reload on SIGHUP and file change; empty
	// disables reloads.
	watch string
	// source resolves ${VAR} references for reloads.
	source config.Source
	// started is called once the listeners are bound.
	started func(s *gateway.Server)
}

// runGateway serves f until ctx is done.
func runGateway(ctx context.Context, f *config.File, o runOptions) error {
	metrics := gateway.NewMetrics()
	out, closeOut, err := logOutput(f.Config.Log.Output, o.stdout, o.stderr)
	if err != nil {
		return err
	}
	defer closeOut()
	aw := gateway.NewAsyncWriter(out, f.Config.Log.BufferLines, metrics.LogLineDropped)
	defer aw.Close()
	logger := slog.New(slog.NewJSONHandler(aw, &slog.HandlerOptions{Level: logLevel(f.Config.Log.Level)}))

	// Compile once before opening stores, so a broken config touches no
	// file and no server.
	if err := gateway.Check(f); err != nil {
		fmt.Fprintln(o.stderr, err)
		return silentError{ExitRefused}
	}
	redis.SetLogger(logger)
	stores, err := state.Open(ctx, f.Config.State)
	if err != nil {
		return err
	}
	defer stores.Close()
	gw := gateway.New(gateway.Options{Logger: logger, Metrics: metrics, DecisionLog: aw, Hot: stores.Hot, Durable: stores.Durable})
	if err := gw.Load(f); err != nil {
		fmt.Fprintln(o.stderr, err)
		return silentError{ExitRefused}
	}
	srv, err := gateway.NewServer(gw, f, logger)
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	if o.started != nil {
		o.started(srv)
	}
	// The watcher logs through aw, which panics on writes after the
	// deferred Close: stop it and wait for it before returning, also when
	// Serve fails on its own.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var watching sync.WaitGroup
	if o.watch != "" {
		w := &gateway.Watcher{Path: o.watch, Source: o.source, Apply: srv.Reload, Logger: logger, Metrics: metrics}
		watching.Go(func() { _ = w.Run(ctx) })
	}
	err = srv.Serve(ctx)
	cancel()
	watching.Wait()
	gw.Close() // stops the refreshing of remote token key sets
	return err
}

func logOutput(name string, stdout, stderr io.Writer) (io.Writer, func(), error) {
	switch name {
	case "", "stderr":
		return stderr, func() {}, nil
	case "stdout":
		return stdout, func() {}, nil
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, nil, fmt.Errorf("log output: %w", err)
	}
	return f, func() { f.Close() }, nil
}

func logLevel(s string) slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(s))
	return l
}
