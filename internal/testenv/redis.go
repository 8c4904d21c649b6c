package testenv

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RedisServer is a redis-server process of one test.
type RedisServer struct {
	// Addr is host:port on the loopback interface.
	Addr string
	args []string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// URL is the server's redis:// URL, database 0.
func (s *RedisServer) URL() string { return "redis://" + s.Addr + "/0" }

// Redis starts a redis-server without persistence on a free port, for
// the test's lifetime.
func Redis(t testing.TB) *RedisServer {
	t.Helper()
	return startRedis(t, t.TempDir())
}

// startRedis starts redis-server in dir with extra arguments, retrying on
// another port if the chosen one was taken meanwhile.
func startRedis(t testing.TB, dir string, extra ...string) *RedisServer {
	t.Helper()
	return startRedisArgs(t, dir, func(port int) []string {
		return append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", "redis.log"}, extra...)
	})
}

// startRedisArgs starts redis-server with the arguments args gives for a
// free port, retrying on another port if that one was taken meanwhile.
func startRedisArgs(t testing.TB, dir string, args func(port int) []string) *RedisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		Need(t, "redis-server", err)
	}
	var last error
	for range 5 {
		port, err := freePort()
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		s := &RedisServer{Addr: loopback(port), dir: dir, args: args(port)}
		if last = s.start(bin); last == nil {
			t.Cleanup(s.stop)
			return s
		}
	}
	t.Fatalf("testenv: starting redis-server: %v", last)
	return nil
}

// Sentinel is a Redis Sentinel monitoring one master.
type Sentinel struct {
	*RedisServer
	// MasterName is the name the Sentinel knows the master by.
	MasterName string
}

// URL is a redis:// URL that reaches the master through the Sentinel.
func (s *Sentinel) URL() string { return "redis://" + s.Addr + "?master_name=" + s.MasterName }

// RedisSentinel starts a Sentinel (quorum 1) monitoring master as
// "mymaster".
func RedisSentinel(t testing.TB, master *RedisServer) *Sentinel {
	t.Helper()
	dir := t.TempDir()
	host, port, _ := net.SplitHostPort(master.Addr)
	conf := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(conf, []byte("sentinel monitor mymaster "+host+" "+port+" 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startRedisArgs(t, dir, func(p int) []string {
		return []string{conf, "--sentinel", "--port", strconv.Itoa(p), "--bind", "127.0.0.1",
			"--dir", dir, "--logfile", "redis.log"}
	})
	return &Sentinel{RedisServer: s, MasterName: "mymaster"}
}

func (s *RedisServer) start(bin string) error {
	cmd := exec.Command(bin, s.args...)
	cmd.Dir = s.dir
	// The server dies with the test binary, even if it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	err := waitFor(10*time.Second, done, func() error {
		reply, err := RedisDo(s.Addr, "PING")
		if err == nil && reply != "PONG" {
			err = fmt.Errorf("PING answered %q", reply)
		}
		return err
	})
	if err != nil {
		s.stop()
		log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
		return fmt.Errorf("%w\n%s", err, tail(log))
	}
	return nil
}

// Stop kills the server, as a crash would. Requests fail until Start.
func (s *RedisServer) Stop() { s.stop() }

// Start restarts a stopped server on the same port (empty: nothing is
// persisted).
func (s *RedisServer) Start(t testing.TB) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.start(bin); err != nil {
		t.Fatalf("testenv: restarting redis-server on %s: %v", s.Addr, err)
	}
}

func (s *RedisServer) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// RedisDo sends one command to addr over a fresh connection and returns
// the reply as text: a status, a bulk string, an integer, or an array's
// elements one per line. An error reply is an error. It is enough to probe a server without a client
// library.
func RedisDo(addr string, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(conn))
}

// readReply reads one RESP2 reply; an array's elements are joined by
// newlines.
func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", fmt.Errorf("redis: %s", line[1:])
	case '$', '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", err // a nil reply is ""
		}
		if line[0] == '*' {
			elems := make([]string, n)
			for i := range elems {
				if elems[i], err = readReply(r); err != nil {
					return "", err
				}
			}
			return strings.Join(elems, "\n"), nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

// tail returns the last lines of a log, for failure messages.
func tail(log []byte) string {
	lines := strings.Split(strings.TrimSpace(string(log)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}
