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

// errExists marks a refused insert inside change, which wraps other
// errors as unavailable.
var errExists = fmt.Errorf("api key: %w", store.ErrExists)

// CreateAPIKey implements store.APIKeys. The transaction first locks the
// control row (the generation), so two creations of one id are ordered
// and the second sees the first.
func (d *Durable) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	if err := backend.CheckAPIKey(k); err != nil {
		return err
	}
	return d.changeKeys(ctx, "create api key", func(tx pgx.Tx) error {
		if err := lockControl(ctx, tx); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM drawbridge.api_keys WHERE id = $1)`, k.ID).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return errExists
		}
		return insertKey(ctx, tx, k)
	})
}

// RotateAPIKey implements store.APIKeys: the insert and the expiries
// share one transaction, ordered with other changes by the control row's
// lock.
func (d *Durable) RotateAPIKey(ctx context.Context, k store.APIKey, oldUntil time.Time) error {
	if err := backend.CheckAPIKey(k); err != nil {
		return err
	}
	if oldUntil.IsZero() {
		return fmt.Errorf("%w: rotating needs the time the old secrets expire", store.ErrInvalid)
	}
	until := backend.Time(oldUntil)
	return d.changeKeys(ctx, "rotate api key", func(tx pgx.Tx) error {
		if err := lockControl(ctx, tx); err != nil {
			return err
		}
		var n, same int
		if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE hash = $2)
			FROM drawbridge.api_keys WHERE id = $1`, k.ID, k.Hash).Scan(&n, &same); err != nil {
			return err
		}
		switch {
		case n == 0:
			return store.ErrNotFound
		case same > 0:
			return errExists
		}
		if _, err := tx.Exec(ctx, `UPDATE drawbridge.api_keys SET expires_at = $2
			WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)`, k.ID, until); err != nil {
			return err
		}
		return insertKey(ctx, tx, k)
	})
}

// lockControl takes the control row's lock for the transaction.
func lockControl(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT 1 FROM drawbridge.control WHERE id = 1 FOR UPDATE`)
	return err
}

func insertKey(ctx context.Context, tx pgx.Tx, k store.APIKey) error {
	scopes := k.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	_, err := tx.Exec(ctx, `INSERT INTO drawbridge.api_keys (id, hash, name, scopes, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, k.ID, k.Hash, k.Name, scopes, ts(backend.Time(k.CreatedAt)), ts(backend.Time(k.ExpiresAt)))
	return err
}

// changeKeys is change, with ErrExists passed through rather than
// reported as an engine failure.
func (d *Durable) changeKeys(ctx context.Context, op string, f func(pgx.Tx) error) error {
	var exists bool
	err := d.change(ctx, op, func(tx pgx.Tx) error {
		err := f(tx)
		if errors.Is(err, errExists) {
			exists = true
		}
		return err
	})
	if exists {
		return fmt.Errorf("postgres: %s: %w", op, store.ErrExists)
	}
	return err
}

const keyColumns = `id, hash, name, scopes, created_at, expires_at, revoked_at`

// APIKey implements store.APIKeys.
func (d *Durable) APIKey(ctx context.Context, id string) ([]store.APIKey, error) {
	const op = "postgres: api key"
	if err := backend.CheckName("api key id", id); err != nil {
		return nil, err
	}
	ks, err := d.queryKeys(ctx, `SELECT `+keyColumns+` FROM drawbridge.api_keys WHERE id = $1`, id)
	if err != nil {
		return nil, backend.Unavailable(op, err)
	}
	if len(ks) == 0 {
		return nil, fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	return ks, nil
}

// ListAPIKeys implements store.APIKeys.
func (d *Durable) ListAPIKeys(ctx context.Context) ([]store.APIKey, error) {
	ks, err := d.queryKeys(ctx, `SELECT `+keyColumns+` FROM drawbridge.api_keys`)
	if err != nil {
		return nil, backend.Unavailable("postgres: list api keys", err)
	}
	return ks, nil
}

func (d *Durable) queryKeys(ctx context.Context, q string, args ...any) ([]store.APIKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := d.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.APIKey
	for rows.Next() {
		var k store.APIKey
		var created, expires, revoked pgtype.Timestamptz
		if err := rows.Scan(&k.ID, &k.Hash, &k.Name, &k.Scopes, &created, &expires, &revoked); err != nil {
			return nil, err
		}
		if len(k.Scopes) == 0 {
			k.Scopes = nil
		}
		k.CreatedAt, k.ExpiresAt, k.RevokedAt = fromTS(created), fromTS(expires), fromTS(revoked)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Sorted in Go: text collation in the database could order ids
	// differently from the other backends.
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
	return d.change(ctx, "revoke api key", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE drawbridge.api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`,
			id, backend.Time(at))
		if err == nil && tag.RowsAffected() == 0 {
			err = store.ErrNotFound
		}
		return err
	})
}

var _ store.APIKeys = (*Durable)(nil)
