package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/internal/migrate"
	"github.com/drawbridge-gw/drawbridge/internal/store/storetest"
	"github.com/drawbridge-gw/drawbridge/internal/testenv"
)

func open(t testing.TB, dsn string) *Durable {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := Open(ctx, Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestConformance(t *testing.T) {
	storetest.TestDurable(t, func(t *testing.T) store.Durable {
		return open(t, testenv.Postgres(t))
	})
}

func known(t *testing.T) []migrate.Migration {
	ms, err := migrate.Load(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// applied returns the recorded migrations as "name applied_at".
func applied(t *testing.T, d *Durable) []string {
	t.Helper()
	rows, err := d.pool.Query(context.Background(), `SELECT name, applied_at FROM drawbridge.schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		var at time.Time
		if err := rows.Scan(&name, &at); err != nil {
			t.Fatal(err)
		}
		out = append(out, name+" "+at.String())
	}
	return out
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	ms := known(t)

	d := open(t, dsn)
	first := applied(t, d)
	if len(first) != len(ms) || !strings.HasPrefix(first[0], "0001_") {
		t.Fatalf("fresh database: applied %v, want the %d known migrations", first, len(ms))
	}
	d.Close()

	d = open(t, dsn)
	if again := applied(t, d); strings.Join(again, "\n") != strings.Join(first, "\n") {
		t.Fatalf("re-open changed schema_migrations:\n%v\nwas\n%v", again, first)
	}

	broken := append(ms[:len(ms):len(ms)], migrate.Migration{Version: len(ms) + 1, Name: "broken.sql",
		SQL: "CREATE TABLE drawbridge.half (a int); THIS IS NOT SQL;"})
	if err := d.migrate(ctx, broken); err == nil {
		t.Fatal("a broken migration applied")
	}
	var n int
	d.pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'drawbridge' AND tablename = 'half'`).Scan(&n)
	if n != 0 || len(applied(t, d)) != len(ms) {
		t.Fatal("a failed migration left part of itself behind")
	}

	next := append(ms[:len(ms):len(ms)], migrate.Migration{Version: len(ms) + 1, Name: "next.sql",
		SQL: "CREATE TABLE drawbridge.later (a int);"})
	for range 2 {
		if err := d.migrate(ctx, next); err != nil {
			t.Fatal(err)
		}
	}
	if got := applied(t, d); len(got) != len(ms)+1 {
		t.Fatalf("after a new migration: %v", got)
	}
	d.Close()

	_, err := Open(ctx, Options{DSN: dsn})
	var tooNew *migrate.TooNewError
	if !errors.As(err, &tooNew) || tooNew.Current != len(ms)+1 || tooNew.Known != len(ms) {
		t.Fatalf("opening a newer database: got %v, want a TooNewError", err)
	}
	if !strings.Contains(err.Error(), "newer than this drawbridge knows") {
		t.Errorf("unclear message: %v", err)
	}
}

// Replicas starting together on a fresh database: the advisory lock makes
// them migrate one after the other, and none fails.
func TestConcurrentStarts(t *testing.T) {
	dsn := testenv.Postgres(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := Open(context.Background(), Options{DSN: dsn})
			if err == nil {
				d.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := applied(t, open(t, dsn)); len(got) != len(known(t)) {
		t.Fatalf("applied %v", got)
	}
}

// Two replicas (two pools) on one database accept each counter value once
// and see each other's controls.
func TestTwoReplicas(t *testing.T) {
	dsn := testenv.Postgres(t)
	storetest.TestSharedDurable(t, open(t, dsn), open(t, dsn))
}

func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, Options{DSN: "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=1"})
	if !errors.Is(err, store.ErrUnavailable) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open of a closed port: %v, want ErrUnavailable without the password", err)
	}
	_, err = Open(ctx, Options{DSN: "postgres://u:hunter2@host:notaport/db"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open of a malformed DSN: %v, want an error without the password", err)
	}
}
