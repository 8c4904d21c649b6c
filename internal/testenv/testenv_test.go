package testenv_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drawbridge-gw/drawbridge/internal/testenv"
)

func TestRedisStopStart(t *testing.T) {
	s := testenv.Redis(t)
	if _, err := testenv.RedisDo(s.Addr, "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	if got, err := testenv.RedisDo(s.Addr, "GET", "k"); err != nil || got != "v" {
		t.Fatalf("GET: %q, %v", got, err)
	}
	s.Stop()
	if _, err := testenv.RedisDo(s.Addr, "PING"); err == nil {
		t.Fatal("PING to a stopped server succeeded")
	}
	s.Start(t)
	if got, err := testenv.RedisDo(s.Addr, "PING"); err != nil || got != "PONG" {
		t.Fatalf("PING after restart: %q, %v", got, err)
	}
	if !strings.HasPrefix(s.URL(), "redis://127.0.0.1:") {
		t.Errorf("URL: %s", s.URL())
	}
}

func TestRedisCluster(t *testing.T) {
	c := testenv.RedisCluster(t, 3)
	if len(c.Addrs) != 3 {
		t.Fatalf("Addrs: %v", c.Addrs)
	}
	for _, a := range c.Addrs {
		info, err := testenv.RedisDo(a, "CLUSTER", "INFO")
		if err != nil || !strings.Contains(info, "cluster_state:ok") {
			t.Fatalf("%s: CLUSTER INFO: %v\n%s", a, err, info)
		}
	}
	// A key lives on exactly one node: the others redirect.
	moved := 0
	for _, a := range c.Addrs {
		if _, err := testenv.RedisDo(a, "SET", "somekey", "v"); err != nil && strings.Contains(err.Error(), "MOVED") {
			moved++
		}
	}
	if moved != 2 {
		t.Errorf("%d of 3 nodes redirected SET somekey, want 2", moved)
	}
	if want := "redis://" + c.Addrs[0] + "?addr=" + c.Addrs[1] + "&addr=" + c.Addrs[2]; c.URL() != want {
		t.Errorf("URL: %s, want %s", c.URL(), want)
	}
}

func TestPostgresFreshDatabaseIsDropped(t *testing.T) {
	var dsn string
	t.Run("use", func(t *testing.T) {
		dsn = testenv.Postgres(t)
		conn := connect(t, dsn)
		var n int
		if err := conn.QueryRow(context.Background(),
			"SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n); err != nil || n != 0 {
			t.Fatalf("fresh database: %d tables, %v", n, err)
		}
	})
	if t.Skipped() || dsn == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if conn, err := pgx.Connect(ctx, dsn); err == nil {
		conn.Close(ctx)
		t.Fatal("the test's database still exists after its cleanup")
	}
}

func TestPrivatePostgresStopStart(t *testing.T) {
	pg := testenv.PrivatePostgres(t)
	dsn := pg.Database(t)
	ctx := context.Background()
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, "CREATE TABLE t (v text); INSERT INTO t VALUES ('kept')"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	pg.Stop(t)
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if c, err := pgx.Connect(short, dsn); err == nil {
		c.Close(ctx)
		t.Fatal("connected to a stopped server")
	}

	pg.Start(t)
	var v string
	if err := connect(t, dsn).QueryRow(ctx, "SELECT v FROM t").Scan(&v); err != nil || v != "kept" {
		t.Fatalf("after restart: %q, %v", v, err)
	}
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestRedisSentinel(t *testing.T) {
	master := testenv.Redis(t)
	s := testenv.RedisSentinel(t, master)
	got, err := testenv.RedisDo(s.Addr, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.MasterName)
	if want := strings.Replace(master.Addr, ":", "\n", 1); err != nil || got != want {
		t.Fatalf("the Sentinel's master: %q, %v; want %q", got, err, want)
	}
	if want := "redis://" + s.Addr + "?master_name=mymaster"; s.URL() != want {
		t.Errorf("URL: %s, want %s", s.URL(), want)
	}
}
