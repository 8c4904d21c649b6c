package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Rows whose config names ${REDIS_URL} keep their hot state in Redis. The
// harness starts one redis-server for them, when the first such row is
// measured: no persistence, a free loopback port, pinned with the upstream
// and the load generator (it serves the proxy, like the upstream does),
// its log in bench/out/logs/redis.log. Each measurement starts on an empty
// server (FLUSHALL), and drawbridge gets REDIS_URL in its environment.

// redisServer is the harness's redis-server.
type redisServer struct {
	p    *proc
	addr string
}

// redisEnv returns the environment a row's drawbridge needs for Redis:
// REDIS_URL when its config names it, starting the server the first time.
func (h *harness) redisEnv(config string) ([]string, error) {
	data, err := os.ReadFile(config)
	if err != nil || !strings.Contains(string(data), "${REDIS_URL") {
		return nil, err
	}
	if h.redis == nil {
		r, err := h.startRedis()
		if err != nil {
			return nil, refuse("redis: %v", err)
		}
		h.redis = r
	}
	if reply, err := redisCommand(h.redis.addr, "FLUSHALL"); err != nil || reply != "+OK" {
		return nil, refuse("redis: FLUSHALL: %q, %v", reply, err)
	}
	return []string{"REDIS_URL=redis://" + h.redis.addr + "/0"}, nil
}

func (h *harness) startRedis() (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("%v (Debian package redis-server)", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	argv := h.pin.wrap(h.pin.LoadCPU, []string{bin, "--bind", "127.0.0.1", "--port", port,
		"--save", "", "--appendonly", "no", "--dir", h.out})
	p, err := startProc("redis-server", argv, nil, filepath.Join(h.out, "logs", "redis.log"), nil)
	if err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if reply, _ := redisCommand(addr, "PING"); reply == "+PONG" {
			fmt.Fprintf(h.stderr, "bench: %s\n", p.commandLine())
			return &redisServer{p: p, addr: addr}, nil
		}
		if p.exited() || time.Now().After(deadline) {
			p.stop()
			return nil, p.failure("did not answer PING")
		}
	}
}

func (r *redisServer) stop() {
	if r != nil {
		r.p.stop()
	}
}

// redisCommand sends a one-word command and returns the first reply line.
func redisCommand(addr, cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(c, "*1\r\n$%d\r\n%s\r\n", len(cmd), cmd); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}
