// Package testenv starts the real servers that drawbridge's tests talk to:
// redis-server processes (one node, or a Redis Cluster) and PostgreSQL (a
// fresh database on the machine's server, or a private instance that a
// test may stop and restart). Tests never mock an engine: a replay guard
// or a counter is only as good as the server semantics it rests on.
//
// Every server listens on a free loopback port in a temporary directory
// and is stopped, and its data removed, when the test ends.
//
// # Missing dependencies
//
// Under CI=true a missing binary or an unreachable server fails the test:
// CI must never go green by skipping. Elsewhere the test is skipped, and
// the first skip of each kind is also printed to standard error, so that a
// developer without redis-server sees why a suite did not run even
// without -v. scripts/test-deps.sh (run by make test) installs and starts
// what is missing.
package testenv

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// CI reports whether the tests run under CI (CI=true), where a missing
// dependency is a failure.
func CI() bool { return os.Getenv("CI") == "true" }

var warned sync.Map

// Need fails t under CI, or skips it loudly elsewhere, because what is
// missing. err says why.
func Need(t testing.TB, what string, err error) {
	t.Helper()
	if CI() {
		t.Fatalf("testenv: %s is required under CI=true: %v", what, err)
	}
	msg := fmt.Sprintf("testenv: SKIPPING tests that need %s: %v (scripts/test-deps.sh installs it; CI=true makes this a failure)", what, err)
	if _, seen := warned.LoadOrStore(what, true); !seen {
		fmt.Fprintln(os.Stderr, "\n"+msg)
	}
	t.Skip(msg)
}

// freePort returns a loopback port that was free a moment ago. Callers
// retry with another port if a server then fails to bind it.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// waitFor calls ready until it returns nil, exited reports the server
// gone, or timeout passes.
func waitFor(timeout time.Duration, exited <-chan struct{}, ready func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("server exited: %w", err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mkdir(dir string) error { return os.MkdirAll(dir, 0o700) }
