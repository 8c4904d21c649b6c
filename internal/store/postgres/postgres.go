package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/internal/backend"
	"github.com/drawbridge-gw/drawbridge/internal/store/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the pg_advisory_xact_lock key that serialises the
// migrations of replicas starting together ("drawbrdg").
const migrationLock int64 = 0x6472617762726467

// Options configure a Durable.
type Options struct {
	// DSN locates the database; see the package doc. Required.
	DSN string
}

// Durable is store.Durable on PostgreSQL.
type Durable struct {
	pool *pgxpool.Pool
	once sync.Once
}

// Open connects, migrates the schema and returns the Durable. An
// unreachable server is an error wrapping store.ErrUnavailable.
func Open(ctx context.Context, opts Options) (*Durable, error) {
	cfg, err := pgxpool.ParseConfig(opts.DSN)
	if err != nil {
		// pgx redacts passwords on a best-effort basis only.
		return nil, errors.New("postgres: the DSN cannot be parsed (not shown: it may hold a password)")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, backend.Unavailable("postgres: open", err)
	}
	d := &Durable{pool: pool}
	ms, err := migrate.Load(migrationFiles, "migrations")
	if err == nil {
		err = d.migrate(ctx, ms)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	return d, nil
}

// migrate applies the pending migrations in one transaction, under an
// advisory lock held until it ends.
func (d *Durable) migrate(ctx context.Context, ms []migrate.Migration) error {
	const op = "postgres: migrate"
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return backend.Unavailable(op, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return backend.Unavailable(op, err)
	}
	// CREATE SCHEMA IF NOT EXISTS still needs the CREATE privilege on the
	// database; an operator may have created the schema for a user
	// without it.
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'drawbridge')`).Scan(&exists); err != nil {
		return backend.Unavailable(op, err)
	}
	if !exists {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA drawbridge`); err != nil {
			return backend.Unavailable(op, err)
		}
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS drawbridge.schema_migrations (
		version    int         PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return backend.Unavailable(op, err)
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(max(version), 0) FROM drawbridge.schema_migrations`).Scan(&current); err != nil {
		return backend.Unavailable(op, err)
	}
	pending, err := migrate.Pending(ms, current)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	for _, m := range pending {
		// Without arguments pgx uses the simple protocol, which runs a
		// file of several statements.
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO drawbridge.schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			return backend.Unavailable(op, err)
		}
	}
	return backend.Unavailable(op, tx.Commit(ctx))
}

// Close closes the pool. It may be called more than once.
func (d *Durable) Close() error {
	d.once.Do(d.pool.Close)
	return nil
}

// ts encodes a time as the schema stores it: NULL for the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// fromTS decodes what ts encoded, in UTC.
func fromTS(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

var _ store.Durable = (*Durable)(nil)
