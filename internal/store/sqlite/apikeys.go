package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/internal/backend"
)

// errExists marks a refused insert inside change, which wraps other
// errors as unavailable.
var errExists = fmt.Errorf("api key: %w", store.ErrExists)

// CreateAPIKey implements store.APIKeys.
func (d *Durable) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	if err := backend.CheckAPIKey(k); err != nil {
		return err
	}
	return d.changeKeys(ctx, "create api key", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM api_keys WHERE id = ?`, k.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errExists
		}
		return insertKey(ctx, tx, k)
	})
}

// RotateAPIKey implements store.APIKeys: the insert and the expiries
// share one write transaction.
func (d *Durable) RotateAPIKey(ctx context.Context, k store.APIKey, oldUntil time.Time) error {
	if err := backend.CheckAPIKey(k); err != nil {
		return err
	}
	if oldUntil.IsZero() {
		return fmt.Errorf("%w: rotating needs the time the old secrets expire", store.ErrInvalid)
	}
	until := micros(backend.Time(oldUntil))
	return d.changeKeys(ctx, "rotate api key", func(tx *sql.Tx) error {
		var n, same int
		if err := tx.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE hash = ?) FROM api_keys WHERE id = ?`, k.Hash, k.ID).Scan(&n, &same); err != nil {
			return err
		}
		switch {
		case n == 0:
			return store.ErrNotFound
		case same > 0:
			return errExists
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET expires_at = ?
			WHERE id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`, until, k.ID, until); err != nil {
			return err
		}
		return insertKey(ctx, tx, k)
	})
}

func insertKey(ctx context.Context, tx *sql.Tx, k store.APIKey) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, hash, name, scopes, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, k.ID, k.Hash, k.Name, strings.Join(k.Scopes, " "),
		micros(backend.Time(k.CreatedAt)), micros(backend.Time(k.ExpiresAt)))
	return err
}

// changeKeys is change, with ErrExists passed through rather than
// reported as an engine failure.
func (d *Durable) changeKeys(ctx context.Context, op string, f func(*sql.Tx) error) error {
	var exists bool
	err := d.change(ctx, op, func(tx *sql.Tx) error {
		err := f(tx)
		if errors.Is(err, errExists) {
			exists = true
		}
		return err
	})
	if exists {
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrExists)
	}
	return err
}

const keyColumns = `id, hash, name, scopes, created_at, expires_at, revoked_at`

// APIKey implements store.APIKeys.
func (d *Durable) APIKey(ctx context.Context, id string) ([]store.APIKey, error) {
	if err := backend.CheckName("api key id", id); err != nil {
		return nil, err
	}
	ks, err := d.queryKeys(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ? ORDER BY created_at, hash`, id)
	if err != nil {
		return nil, backend.Unavailable("sqlite: api key", err)
	}
	if len(ks) == 0 {
		return nil, fmt.Errorf("sqlite: api key: %w", store.ErrNotFound)
	}
	return ks, nil
}

// ListAPIKeys implements store.APIKeys.
func (d *Durable) ListAPIKeys(ctx context.Context) ([]store.APIKey, error) {
	ks, err := d.queryKeys(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY id, created_at, hash`)
	if err != nil {
		return nil, backend.Unavailable("sqlite: list api keys", err)
	}
	return ks, nil
}

func (d *Durable) queryKeys(ctx context.Context, q string, args ...any) ([]store.APIKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.APIKey
	for rows.Next() {
		var k store.APIKey
		var scopes string
		var created, expires, revoked sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Hash, &k.Name, &scopes, &created, &expires, &revoked); err != nil {
			return nil, err
		}
		if scopes != "" {
			k.Scopes = strings.Fields(scopes)
		}
		k.CreatedAt, k.ExpiresAt, k.RevokedAt = fromMicros(created), fromMicros(expires), fromMicros(revoked)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// NULL sorts first in SQL, as the zero time does in Go: the order is
	// SortAPIKeys'. Sorting again costs nothing and keeps one rule.
	backend.SortAPIKeys(out)
	return out, nil
}

// RevokeAPIKey implements store.APIKeys.
func (d *Durable) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	if err := backend.CheckName("api key id", id); err != nil {
		return err
	}
	if at.IsZero() {
		return fmt.Errorf("%w: zero revocation time", store.ErrInvalid)
	}
	return d.change(ctx, "revoke api key", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`,
			micros(backend.Time(at)), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return store.ErrNotFound
		}
		return nil
	})
}

var _ store.APIKeys = (*Durable)(nil)
