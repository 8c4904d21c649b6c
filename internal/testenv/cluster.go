package testenv

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cluster is a Redis Cluster of masters without replicas, each a
// redis-server process of one test.
type Cluster struct {
	// Addrs are the masters' host:port.
	Addrs []string
	Nodes []*RedisServer
}

// URL is a redis:// URL naming every node: the first in the authority,
// the others as addr query parameters (the form store/redis and go-redis
// read).
func (c *Cluster) URL() string {
	u := "redis://" + c.Addrs[0]
	for i, a := range c.Addrs[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + a
	}
	return u
}

// RedisCluster starts n cluster-enabled redis-servers, joins them
// with redis-cli --cluster create (slots split evenly, no replicas) and
// waits until every node reports cluster_state:ok and all 16384 slots.
func RedisCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	if n < 3 {
		t.Fatalf("testenv: a Redis Cluster needs at least 3 masters, not %d", n)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		Need(t, "redis-cli", err)
	}
	c := &Cluster{}
	for i := range n {
		dir := filepath.Join(t.TempDir(), strconv.Itoa(i))
		// The cluster bus gets its own free port: port+10000 may be taken.
		bus, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		if err := mkdir(dir); err != nil {
			t.Fatal(err)
		}
		s := startRedis(t, dir, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000", "--cluster-port", strconv.Itoa(bus))
		c.Nodes = append(c.Nodes, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command(cli, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("testenv: redis-cli --cluster create: %v\n%s", err, out)
	}
	err = waitFor(30*time.Second, nil, func() error {
		for _, a := range c.Addrs {
			info, err := RedisDo(a, "CLUSTER", "INFO")
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") ||
				!strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", n)) {
				state, _, _ := strings.Cut(info, "\r\ncluster_slots_pfail")
				return fmt.Errorf("%s: %s", a, strings.Join(strings.Fields(state), " "))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("testenv: Redis Cluster did not become ready: %v", err)
	}
	return c
}
