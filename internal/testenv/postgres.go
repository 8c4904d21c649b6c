package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgres is the machine's PostgreSQL server that Postgres
// creates databases on: trust authentication for user postgres on
// 127.0.0.1:5432, as scripts/test-deps.sh sets up. DRAWBRIDGE_TEST_POSTGRES
// overrides it with the DSN of a database to connect to for CREATE
// DATABASE.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&connect_timeout=5"

// Postgres creates a fresh, empty database on the machine's PostgreSQL
// server (drawbridge_test_ and 16 hex digits), drops it when the test
// ends, and returns its DSN.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("DRAWBRIDGE_TEST_POSTGRES")
	if admin == "" {
		admin = DefaultPostgres
	}
	return createDatabase(t, admin)
}

// createDatabase creates a database on the server of admin (a DSN) and
// returns the DSN of the new database.
func createDatabase(t testing.TB, admin string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		Need(t, "PostgreSQL at "+redact(admin), err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 8)
	rand.Read(b)
	name := "drawbridge_test_" + hex.EncodeToString(b)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("testenv: creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("testenv: dropping database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		// FORCE ends the sessions a test left open (PostgreSQL 13+).
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: dropping database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil || u.Scheme == "" {
		t.Fatalf("testenv: the admin DSN must be a postgres:// URL")
	}
	u.Path = "/" + name
	return u.String()
}

// redact drops the password from a DSN for messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}
