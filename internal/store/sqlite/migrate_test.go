package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store/internal/migrate"
	"github.com/drawbridge-gw/drawbridge/internal/store/storetest"
)

func known(t *testing.T) []migrate.Migration {
	ms, err := migrate.Load(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func open(t *testing.T, path string) *Durable {
	t.Helper()
	d, err := Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// applied returns the recorded migrations as "version name applied_at".
func applied(t *testing.T, d *Durable) []string {
	t.Helper()
	rows, err := d.r.Query(`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v, at int64
		var name string
		if err := rows.Scan(&v, &name, &at); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join([]string{name, time.UnixMicro(at).String()}, " "))
	}
	return out
}

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	ms := known(t)

	// A fresh file migrates to the newest version.
	d := open(t, path)
	first := applied(t, d)
	if len(first) != len(ms) || !strings.HasPrefix(first[0], "0001_") {
		t.Fatalf("fresh database: applied %v, want the %d known migrations", first, len(ms))
	}
	d.Close()

	// Re-opening applies nothing.
	d = open(t, path)
	if again := applied(t, d); strings.Join(again, "\n") != strings.Join(first, "\n") {
		t.Fatalf("re-open changed schema_migrations:\n%v\nwas\n%v", again, first)
	}

	// A failing migration leaves the schema as it was: all or nothing.
	broken := append(ms[:len(ms):len(ms)], migrate.Migration{Version: len(ms) + 1, Name: "broken.sql",
		SQL: "CREATE TABLE half (a); THIS IS NOT SQL;"})
	if err := d.migrate(context.Background(), broken); err == nil {
		t.Fatal("a broken migration applied")
	}
	var n int
	d.r.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'half'`).Scan(&n)
	if n != 0 || len(applied(t, d)) != len(ms) {
		t.Fatal("a failed migration left part of itself behind")
	}

	// A later migration applies on top, once.
	next := append(ms[:len(ms):len(ms)], migrate.Migration{Version: len(ms) + 1, Name: "next.sql",
		SQL: "CREATE TABLE later (a INTEGER);"})
	for range 2 {
		if err := d.migrate(context.Background(), next); err != nil {
			t.Fatal(err)
		}
	}
	if got := applied(t, d); len(got) != len(ms)+1 {
		t.Fatalf("after a new migration: %v", got)
	}
	d.Close()

	// This build now finds a database newer than it knows: refused.
	_, err := Open(context.Background(), Options{Path: path})
	var tooNew *migrate.TooNewError
	if !errors.As(err, &tooNew) || tooNew.Current != len(ms)+1 || tooNew.Known != len(ms) {
		t.Fatalf("opening a newer database: got %v, want a TooNewError", err)
	}
	if !strings.Contains(err.Error(), "newer than this drawbridge knows") {
		t.Errorf("unclear message: %v", err)
	}
}

// Several processes starting at once on a fresh file: SQLite's write lock
// (BEGIN IMMEDIATE) serialises their migrations.
func TestConcurrentOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := Open(context.Background(), Options{Path: path})
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
	if got := applied(t, open(t, path)); len(got) != len(known(t)) {
		t.Fatalf("applied %v", got)
	}
}

// Two handles on one file (two processes, say) still accept each counter
// value once and see each other's controls.
func TestTwoHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	storetest.TestSharedDurable(t, open(t, path), open(t, path))
}

func TestOpenPaths(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir #1 ?x=%20")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "drawbridge.db")
	open(t, path).Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not where asked: %v", err)
	}
}

func TestOpenRefusesMemory(t *testing.T) {
	for _, p := range []string{"", ":memory:"} {
		if _, err := Open(context.Background(), Options{Path: p}); err == nil {
			t.Errorf("Open(%q): nil error", p)
		}
	}
}
