// Command bench measures what drawbridge costs on top of a plain reverse
// proxy: requests per second and latency for a set of rows (a gateway
// config and a request), each reported as a ratio to a bare
// httputil.ReverseProxy measured in the same run.
//
// # Why ratios to a bare proxy
//
// Absolute figures from a laptop, a CI runner or a shared VM say little:
// the same binary can lose a third of its throughput to a noisy
// neighbour, thermal throttling or a frequency change between two
// minutes. What drawbridge controls is the work it adds per request, so
// the harness measures a bare proxy built from the same upstream
// transport and buffer pool (package internal/upstream) right before or
// after each gateway row, under the same load, on the same CPU, and
// reports the ratio. Each run measures every row once, in an order
// rotated from run to run so that no row always goes first or last; the
// ratio is taken per run, against that run's bare figures, and the median
// over runs is reported, so one disturbed run moves no figure much.
//
// # Processes
//
// The upstream, the bare proxy and the built-in load generator are
// subcommands of this program ("upstream", "bare", "loadgen"), started by
// re-executing itself, so that each is its own process and can be pinned
// with taskset: the proxy under test on one CPU, the load generator and
// the upstream on another. Each measurement starts its proxy afresh and
// stops it afterwards, so no idle proxy shares a CPU with the one being
// measured; drawbridge's own output (its decision log included) goes to
// bench/out/logs/ROW.log, which keeps the last measurement's. Every child
// runs in its own process group and is stopped with it, on exit and on
// Ctrl-C.
//
// Rows whose proofs are single-use (signature-*, dpop: Row.PerRequest)
// need new headers for every request, which wrk cannot make: they always
// run on the built-in generator, which signs each request on its own CPU,
// and their ratios are taken against bare-go, the bare proxy under the
// same generator.
//
// A row is refused, and reported without figures, when its request is not
// answered 2xx before the run or any answer in the run is not 2xx or fails
// (wrk counts only statuses of 400 and above).
//
// # Usage
//
//	go run ./bench [-rows basic] [-runs 5] [-d 5s] [-c 64] [-load auto]
//	go run ./bench -check 'basic:rps>=0.90,p99<=1.20'
//
// The table goes to stdout, progress to stderr, and every raw figure to
// bench/out/summary.json. The exit status is 1 when a row was refused (it
// saw a non-2xx answer or a socket error) or a -check failed, 2 on a
// usage error, 130 when interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first Ctrl-C, a second one kills the harness at once;
		// its children then die of their parent-death signal.
		<-ctx.Done()
		stop()
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	sub := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"upstream":  runUpstream,
		"bare":      runBare,
		"loadgen":   runLoadgen,
		"verifiers": runVerifiers,
	}
	if len(args) > 0 {
		if f, ok := sub[args[0]]; ok {
			if err := f(ctx, args[1:], stdout, stderr); err != nil {
				fmt.Fprintf(stderr, "bench %s: %v\n", args[0], err)
				return 1
			}
			return 0
		}
	}
	opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	code, err := bench(ctx, opts, stdout, stderr)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "bench: interrupted; child processes stopped")
		return 130
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return code
}

// options are the harness's flags; parseFlags documents each.
type options struct {
	Bin         string
	Load        string
	Runs        int
	Duration    time.Duration
	Warmup      time.Duration
	Conns       int
	Rows        string
	Out         string
	Checks      []check
	CheckSource []string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./bench [flags]\n\nMeasures drawbridge rows against a bare reverse proxy; see bench/main.go.\n\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.Bin, "bin", "", "drawbridge `binary` to measure (default: build ./cmd/drawbridge into OUT/drawbridge)")
	fs.StringVar(&o.Load, "load", "auto", "load generator: wrk, go (built in) or auto (wrk when installed)")
	fs.IntVar(&o.Runs, "runs", 5, "interleaved runs; each measures every row once")
	fs.DurationVar(&o.Duration, "d", 5*time.Second, "duration of each measurement (wrk rounds up to whole seconds)")
	fs.DurationVar(&o.Warmup, "warmup", time.Second, "warm-up before each measurement (0 for none)")
	fs.IntVar(&o.Conns, "c", 64, "concurrent keep-alive connections")
	fs.StringVar(&o.Rows, "rows", "", "rows to measure: comma-separated names or regexps (default all; bare is always measured)")
	fs.StringVar(&o.Out, "out", "bench/out", "output `dir`, relative to the module root")
	fs.Func("check", "fail (exit 1) unless the median ratios of a row meet `ROW:BOUNDS`, e.g. 'basic:rps>=0.90,p99<=1.20' (repeatable)", func(s string) error {
		c, err := parseCheck(s)
		if err != nil {
			return err
		}
		o.Checks = append(o.Checks, c)
		o.CheckSource = append(o.CheckSource, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var bad []string
	if fs.NArg() > 0 {
		bad = append(bad, "unexpected arguments: "+strings.Join(fs.Args(), " "))
	}
	if o.Load != "wrk" && o.Load != "go" && o.Load != "auto" {
		bad = append(bad, "-load must be wrk, go or auto")
	}
	if o.Runs < 1 {
		bad = append(bad, "-runs must be at least 1")
	}
	if o.Duration <= 0 {
		bad = append(bad, "-d must be positive")
	}
	if o.Warmup < 0 {
		bad = append(bad, "-warmup must not be negative")
	}
	if o.Conns < 1 {
		bad = append(bad, "-c must be at least 1")
	}
	if len(bad) > 0 {
		return o, errors.New(strings.Join(bad, "; "))
	}
	return o, nil
}
