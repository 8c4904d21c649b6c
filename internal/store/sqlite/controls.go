package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/internal/backend"
)

// change runs f and moves the generation, in one write transaction: a node
// that sees the new generation sees the change.
func (d *Durable) change(ctx context.Context, op string, f func(*sql.Tx) error) error {
	op = "sqlite: " + op
	if err := backend.Done(op, ctx); err != nil {
		return err
	}
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return backend.Unavailable(op, err)
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%s: %w", op, err)
		}
		return backend.Unavailable(op, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE control SET generation = generation + 1 WHERE id = 1`); err != nil {
		return backend.Unavailable(op, err)
	}
	return backend.Unavailable(op, tx.Commit())
}

// SetVersionBlocked implements store.Controls.
func (d *Durable) SetVersionBlocked(ctx context.Context, app, version string, blocked bool) error {
	if err := backend.CheckName("app", app); err != nil {
		return err
	}
	if err := backend.CheckName("version", version); err != nil {
		return err
	}
	q := `DELETE FROM blocked_versions WHERE app = ? AND version = ?`
	if blocked {
		q = `INSERT INTO blocked_versions (app, version) VALUES (?, ?) ON CONFLICT DO NOTHING`
	}
	return d.change(ctx, "set version blocked", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, q, app, version)
		return err
	})
}

// SetTokenCutoff implements store.Controls.
func (d *Durable) SetTokenCutoff(ctx context.Context, app string, t time.Time) error {
	if err := backend.CheckName("app", app); err != nil {
		return err
	}
	return d.change(ctx, "set token cutoff", func(tx *sql.Tx) error {
		if t.IsZero() {
			_, err := tx.ExecContext(ctx, `DELETE FROM token_cutoffs WHERE app = ?`, app)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO token_cutoffs (app, cutoff) VALUES (?, ?)
			ON CONFLICT (app) DO UPDATE SET cutoff = excluded.cutoff`, app, micros(t))
		return err
	})
}

// Generation implements store.Controls.
func (d *Durable) Generation(ctx context.Context) (uint64, error) {
	var g int64
	if err := d.r.QueryRowContext(ctx, `SELECT generation FROM control WHERE id = 1`).Scan(&g); err != nil {
		return 0, backend.Unavailable("sqlite: generation", err)
	}
	return uint64(g), nil
}

// Snapshot implements store.Controls. Its reads share one transaction: in
// WAL mode, one snapshot of the database.
func (d *Durable) Snapshot(ctx context.Context) (store.Snapshot, error) {
	s, err := d.snapshot(ctx)
	if err != nil {
		return store.Snapshot{}, backend.Unavailable("sqlite: snapshot", err)
	}
	return s, nil
}

func (d *Durable) snapshot(ctx context.Context) (store.Snapshot, error) {
	s := store.Snapshot{
		BlockedVersions: map[string][]string{},
		TokenCutoffs:    map[string]time.Time{},
		Revoked:         map[string]time.Time{},
	}
	tx, err := d.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return s, err
	}
	defer tx.Rollback()
	var g int64
	if err := tx.QueryRowContext(ctx, `SELECT generation FROM control WHERE id = 1`).Scan(&g); err != nil {
		return s, err
	}
	s.Generation = uint64(g)
	err = each(ctx, tx, `SELECT app, version FROM blocked_versions ORDER BY app, version`, func(r *sql.Rows) error {
		var app, v string
		err := r.Scan(&app, &v)
		s.BlockedVersions[app] = append(s.BlockedVersions[app], v)
		return err
	})
	if err != nil {
		return s, err
	}
	err = each(ctx, tx, `SELECT app, cutoff FROM token_cutoffs`, func(r *sql.Rows) error {
		var app string
		var t sql.NullInt64
		err := r.Scan(&app, &t)
		s.TokenCutoffs[app] = fromMicros(t)
		return err
	})
	if err != nil {
		return s, err
	}
	err = each(ctx, tx, `SELECT app, key_id, revoked_at FROM devices WHERE revoked_at IS NOT NULL`, func(r *sql.Rows) error {
		var app, keyID string
		var t sql.NullInt64
		err := r.Scan(&app, &keyID, &t)
		s.Revoked[app+"/"+keyID] = fromMicros(t)
		return err
	})
	return s, err
}

// each runs query in tx and calls f for every row.
func each(ctx context.Context, tx *sql.Tx, query string, f func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
