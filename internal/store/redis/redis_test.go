package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/redis"
	"github.com/drawbridge-gw/drawbridge/internal/store/storetest"
	"github.com/drawbridge-gw/drawbridge/internal/testenv"
)

// open returns an opener of fresh Hots on url: each gets its own prefix,
// so subtests sharing one server never see each other's keys.
func open(url string) func(t *testing.T) store.Hot {
	return func(t *testing.T) store.Hot {
		return openHot(t, url, "")
	}
}

func openHot(t testing.TB, url, prefix string) *redis.Hot {
	t.Helper()
	if prefix == "" {
		prefix = "test:" + strings.NewReplacer("/", ":").Replace(t.Name()) + ":"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := redis.Open(ctx, redis.Options{URL: url, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestConformance(t *testing.T) {
	storetest.TestHot(t, open(testenv.Redis(t).URL()))
}

// Through a Sentinel: the client asks it for the master, then talks to
// the master.
func TestSentinelConformance(t *testing.T) {
	storetest.TestHot(t, open(testenv.RedisSentinel(t, testenv.Redis(t)).URL()))
}

func TestClusterConformance(t *testing.T) {
	c := testenv.RedisCluster(t, 3)
	storetest.TestHot(t, open(c.URL()))
	t.Run("HashTaggedKeysShareASlot", func(t *testing.T) { clusterSlots(t, c) })
}

// clusterSlots checks on a real Cluster that tagged keys share a slot
// (a multi-key script over them runs), and that a client-chosen tag in a
// Hot key does not pin the key to the tag's slot.
func clusterSlots(t *testing.T, c *testenv.Cluster) {
	ctx := context.Background()
	h := openHot(t, c.URL(), "")
	keys := h.Keys("ip:203.0.113.7", "tokens", "stamp", "x}y")
	slot := func(k string) string {
		s, err := testenv.RedisDo(c.Addrs[0], "CLUSTER", "KEYSLOT", k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, k := range keys[1:] {
		if slot(k) != slot(keys[0]) {
			t.Fatalf("%s and %s are in different slots", k, keys[0])
		}
	}
	client := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: c.Addrs})
	defer client.Close()
	script := goredis.NewScript(`for i, k in ipairs(KEYS) do redis.call("SET", k, i) end return #KEYS`)
	n, err := script.Run(ctx, client, keys).Int()
	if err != nil || n != len(keys) {
		t.Fatalf("a script over the tagged keys: %d, %v", n, err)
	}
	// Keys carrying "{x}" land in the slots of their whole text, not all
	// in slot("x").
	spread := map[string]bool{}
	for _, k := range []string{"{x}1", "{x}2", "{x}3", "{x}4", "{x}5"} {
		ok, err := h.Claim(ctx, k, time.Minute)
		if err != nil || !ok {
			t.Fatalf("Claim(%s): %v, %v", k, ok, err)
		}
		spread[slot("test:"+strings.NewReplacer("/", ":").Replace(t.Name())+":{}"+k)] = true
	}
	if len(spread) < 2 {
		t.Errorf("5 keys carrying {x} all landed in one slot: %v", spread)
	}
}

// A server that stops mid-run fails every call (closed), and the Hot
// recovers once it is back.
func TestServerDownFailsClosed(t *testing.T) {
	srv := testenv.Redis(t)
	h := openHot(t, srv.URL()+"?dial_timeout=200ms&read_timeout=200ms", "")
	ctx := context.Background()
	if ok, err := h.Claim(ctx, "k", time.Minute); !ok || err != nil {
		t.Fatalf("Claim: %v, %v", ok, err)
	}
	srv.Stop()
	start := time.Now()
	if ok, err := h.Claim(ctx, "k2", time.Minute); ok || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Claim with the server down: %v, %v; want false, ErrUnavailable", ok, err)
	}
	if _, ok, err := h.Take(ctx, "k"); ok || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Take with the server down: ok=%v, %v; want ErrUnavailable", ok, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("failing took %v", d)
	}
	srv.Start(t)
	if ok, err := h.Claim(ctx, "k", time.Minute); !ok || err != nil {
		t.Fatalf("Claim after the restart (empty server): %v, %v", ok, err)
	}
}

// A call blocked on a stalled server ends at its context's deadline, not
// at the client's read timeout.
func TestDeadlineOnStalledServer(t *testing.T) {
	srv := testenv.Redis(t)
	h := openHot(t, srv.URL(), "")
	if _, err := testenv.RedisDo(srv.Addr, "CLIENT", "PAUSE", "2000", "ALL"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := h.Claim(ctx, "k", time.Minute)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Claim on a paused server: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Claim returned after %v, want about the 100ms deadline", d)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Nothing listens on port 1.
	if _, err := redis.Open(ctx, redis.Options{URL: "redis://:hunter2@127.0.0.1:1?dial_timeout=200ms"}); !errors.Is(err, store.ErrUnavailable) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open of a closed port: %v, want ErrUnavailable without the password", err)
	}
	if _, err := redis.Open(ctx, redis.Options{URL: "redis://127.0.0.1:1", Prefix: "a{b}"}); err == nil {
		t.Error("Open with a braced prefix: nil error")
	}
	srv := testenv.Redis(t)
	if _, err := testenv.RedisDo(srv.Addr, "CONFIG", "SET", "requirepass", "right"); err != nil {
		t.Fatal(err)
	}
	_, err := redis.Open(ctx, redis.Options{URL: "redis://:hunter2@" + srv.Addr})
	if !errors.Is(err, store.ErrUnavailable) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open with a wrong password: %v", err)
	}
	h, err := redis.Open(ctx, redis.Options{URL: "redis://:right@" + srv.Addr})
	if err != nil {
		t.Fatalf("Open with the password: %v", err)
	}
	h.Close()
}

func BenchmarkHot(b *testing.B) {
	storetest.BenchmarkHot(b, openHot(b, testenv.Redis(b).URL(), "bench:"))
}

func BenchmarkClusterHot(b *testing.B) {
	storetest.BenchmarkHot(b, openHot(b, testenv.RedisCluster(b, 3).URL(), "bench:"))
}
