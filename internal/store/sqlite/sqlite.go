package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/internal/backend"
	"github.com/drawbridge-gw/drawbridge/internal/store/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Options configure a Durable.
type Options struct {
	// Path is the database file, created if missing. Required; SQLite's
	// ":memory:" is refused (use memory.NewDurable).
	Path string
	// BusyTimeout is how long a write waits for another process holding
	// the write lock before failing. If zero, 5 seconds.
	BusyTimeout time.Duration
	// Readers is the number of connections that read. If zero, 4.
	Readers int
}

// Durable is store.Durable on SQLite.
type Durable struct {
	w    *sql.DB // one connection: every write
	r    *sql.DB // reads
	once sync.Once
}

// Open opens (creating if needed) and migrates the database.
func Open(ctx context.Context, opts Options) (*Durable, error) {
	if opts.Path == "" || opts.Path == ":memory:" {
		return nil, errors.New("sqlite: a database file path is required (for a database in memory use memory.NewDurable)")
	}
	if opts.BusyTimeout == 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.Readers == 0 {
		opts.Readers = 4
	}
	dsn := func(extra ...string) string {
		q := url.Values{"_pragma": append([]string{
			fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()),
			"journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)",
		}, extra...)}
		return "file:" + (&url.URL{Path: opts.Path}).EscapedPath() + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn()+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", dsn("query_only(ON)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	r.SetMaxOpenConns(opts.Readers)
	d := &Durable{w: w, r: r}
	ms, err := migrate.Load(migrationFiles, "migrations")
	if err == nil {
		err = d.migrate(ctx, ms)
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// migrate applies the pending migrations in one write transaction.
func (d *Durable) migrate(ctx context.Context, ms []migrate.Migration) error {
	tx, err := d.w.BeginTx(ctx, nil) // BEGIN IMMEDIATE: takes the write lock
	if err != nil {
		return backend.Unavailable("sqlite: migrate", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		return backend.Unavailable("sqlite: migrate", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return backend.Unavailable("sqlite: migrate", err)
	}
	pending, err := migrate.Pending(ms, current)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	for _, m := range pending {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, time.Now().UnixMicro()); err != nil {
			return backend.Unavailable("sqlite: migrate", err)
		}
	}
	return backend.Unavailable("sqlite: migrate", tx.Commit())
}

// Close closes the database. It may be called more than once.
func (d *Durable) Close() error {
	var err error
	d.once.Do(func() { err = errors.Join(d.r.Close(), d.w.Close()) })
	if err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// micros encodes a time as the schema stores it: Unix microseconds, NULL
// for the zero time.
func micros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// fromMicros decodes what micros encoded.
func fromMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMicro(n.Int64).UTC()
}

var _ store.Durable = (*Durable)(nil)
