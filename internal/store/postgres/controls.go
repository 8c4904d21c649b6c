package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/internal/backend"
)

// change runs f and moves the generation in one transaction.
func (d *Durable) change(ctx context.Context, op string, f func(pgx.Tx) error) error {
	op = "postgres: " + op
	if err := backend.Done(op, ctx); err != nil {
		return err
	}
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return backend.Unavailable(op, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := f(tx); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%s: %w", op, err)
		}
		return backend.Unavailable(op, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE drawbridge.control SET generation = generation + 1 WHERE id = 1`); err != nil {
		return backend.Unavailable(op, err)
	}
	return backend.Unavailable(op, tx.Commit(ctx))
}

// SetVersionBlocked implements store.Controls.
func (d *Durable) SetVersionBlocked(ctx context.Context, app, version string, blocked bool) error {
	if err := backend.CheckName("app", app); err != nil {
		return err
	}
	if err := backend.CheckName("version", version); err != nil {
		return err
	}
	q := `DELETE FROM drawbridge.blocked_versions WHERE app = $1 AND version = $2`
	if blocked {
		q = `INSERT INTO drawbridge.blocked_versions (app, version) VALUES ($1, $2) ON CONFLICT DO NOTHING`
	}
	return d.change(ctx, "set version blocked", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, q, app, version)
		return err
	})
}

// SetTokenCutoff implements store.Controls.
func (d *Durable) SetTokenCutoff(ctx context.Context, app string, t time.Time) error {
	if err := backend.CheckName("app", app); err != nil {
		return err
	}
	return d.change(ctx, "set token cutoff", func(tx pgx.Tx) error {
		if t.IsZero() {
			_, err := tx.Exec(ctx, `DELETE FROM drawbridge.token_cutoffs WHERE app = $1`, app)
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO drawbridge.token_cutoffs (app, cutoff) VALUES ($1, $2)
			ON CONFLICT (app) DO UPDATE SET cutoff = excluded.cutoff`, app, t)
		return err
	})
}

// Generation implements store.Controls.
func (d *Durable) Generation(ctx context.Context) (uint64, error) {
	const op = "postgres: generation"
	if err := backend.Done(op, ctx); err != nil {
		return 0, err
	}
	var g int64
	if err := d.pool.QueryRow(ctx, `SELECT generation FROM drawbridge.control WHERE id = 1`).Scan(&g); err != nil {
		return 0, backend.Unavailable(op, err)
	}
	return uint64(g), nil
}

// Snapshot implements store.Controls, in one REPEATABLE READ transaction.
func (d *Durable) Snapshot(ctx context.Context) (store.Snapshot, error) {
	const op = "postgres: snapshot"
	if err := backend.Done(op, ctx); err != nil {
		return store.Snapshot{}, err
	}
	s, err := d.snapshot(ctx)
	if err != nil {
		return store.Snapshot{}, backend.Unavailable(op, err)
	}
	return s, nil
}

func (d *Durable) snapshot(ctx context.Context) (store.Snapshot, error) {
	s := store.Snapshot{
		BlockedVersions: map[string][]string{},
		TokenCutoffs:    map[string]time.Time{},
		Revoked:         map[string]time.Time{},
	}
	tx, err := d.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return s, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var g int64
	if err := tx.QueryRow(ctx, `SELECT generation FROM drawbridge.control WHERE id = 1`).Scan(&g); err != nil {
		return s, err
	}
	s.Generation = uint64(g)
	var app, key string
	var t pgtype.Timestamptz
	rows, _ := tx.Query(ctx, `SELECT app, version FROM drawbridge.blocked_versions ORDER BY app, version`)
	_, err = pgx.ForEachRow(rows, []any{&app, &key}, func() error {
		s.BlockedVersions[app] = append(s.BlockedVersions[app], key)
		return nil
	})
	if err != nil {
		return s, err
	}
	rows, _ = tx.Query(ctx, `SELECT app, cutoff FROM drawbridge.token_cutoffs`)
	_, err = pgx.ForEachRow(rows, []any{&app, &t}, func() error {
		s.TokenCutoffs[app] = fromTS(t)
		return nil
	})
	if err != nil {
		return s, err
	}
	rows, _ = tx.Query(ctx, `SELECT app, key_id, revoked_at FROM drawbridge.devices WHERE revoked_at IS NOT NULL`)
	_, err = pgx.ForEachRow(rows, []any{&app, &key, &t}, func() error {
		s.Revoked[app+"/"+key] = fromTS(t)
		return nil
	})
	return s, err
}
