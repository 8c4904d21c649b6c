package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// verifier is a Go benchmark whose throughput `make bench` reports: the
// cost of verifying one piece of evidence, which is what an attestation
// endpoint spends per request, rather than a proxy's requests per second.
type verifier struct {
	Name  string // row name in the report
	Pkg   string // package path below the module
	Bench string // -bench regexp (anchored by the harness)
}

var verifiers = []verifier{
	{"appattest-attestation", "./internal/attest/appattest", "BenchmarkVerifyAttestation"},
	{"appattest-assertion", "./internal/attest/appattest", "BenchmarkVerifyAssertion"},
	{"androidkey-chain", "./internal/attest/androidkey", "BenchmarkVerify"},
	{"playintegrity-token", "./internal/attest/playintegrity", "BenchmarkVerify"},
	{"devkey-evidence", "./internal/attest/devkey", "BenchmarkVerify"},
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([0-9.]+) ns/op`)

// runVerifiers runs the verifier benchmarks pinned to one CPU with
// GOMAXPROCS=1 (per-core figures), prints a table and adds it to
// bench/out/verifiers.json.
func runVerifiers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verifiers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	benchtime := fs.String("benchtime", "2s", "go test -benchtime")
	out := fs.String("out", "bench/out", "output folder")
	if err := fs.Parse(args); err != nil {
		return err
	}
	type result struct {
		Row       string  `json:"row"`
		Benchmark string  `json:"benchmark"`
		NsPerOp   float64 `json:"ns_per_op"`
		PerSecond float64 `json:"verifications_per_second"`
	}
	var results []result
	fmt.Fprintf(stdout, "\nverifier throughput (one core, GOMAXPROCS=1, real samples where they exist)\n")
	fmt.Fprintf(stdout, "%-24s %-56s %12s %14s\n", "row", "benchmark", "µs/op", "verifications/s")
	for _, v := range verifiers {
		cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^"+v.Bench+"(/|$)", "-benchtime", *benchtime, "-count", "1", v.Pkg)
		if _, err := exec.LookPath("taskset"); err == nil {
			cmd = exec.CommandContext(ctx, "taskset", append([]string{"-c", "0"}, cmd.Args...)...)
		}
		cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n%s", v.Name, err, buf.String())
			return fmt.Errorf("verifier benchmark %s failed", v.Name)
		}
		found := false
		sc := bufio.NewScanner(&buf)
		for sc.Scan() {
			m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
			if m == nil || strings.Contains(m[1], "Parallel") {
				continue
			}
			ns, _ := strconv.ParseFloat(m[2], 64)
			r := result{Row: v.Name, Benchmark: m[1], NsPerOp: ns, PerSecond: 1e9 / ns}
			results = append(results, r)
			found = true
			fmt.Fprintf(stdout, "%-24s %-56s %12.1f %14.0f\n", r.Row, r.Benchmark, ns/1000, r.PerSecond)
		}
		if !found {
			return fmt.Errorf("verifier benchmark %s printed no result:\n%s", v.Name, buf.String())
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(results, "", "  ")
	return os.WriteFile(filepath.Join(*out, "verifiers.json"), b, 0o644)
}
