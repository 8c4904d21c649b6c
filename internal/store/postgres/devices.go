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

// RegisterDevice implements store.Devices. ON CONFLICT DO NOTHING turns a
// duplicate into "no row inserted", without matching error codes.
func (d *Durable) RegisterDevice(ctx context.Context, dev store.Device) error {
	const op = "postgres: register device"
	if err := backend.CheckDevice(dev); err != nil {
		return err
	}
	if err := backend.Done(op, ctx); err != nil {
		return err
	}
	tag, err := d.pool.Exec(ctx, `INSERT INTO drawbridge.devices
		(app, key_id, platform, public_key, counter, bound_key, facts, first_seen, last_seen)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		dev.App, dev.KeyID, dev.Platform, nonNil(dev.PublicKey), int64(dev.Counter), dev.BoundKey, dev.Facts,
		ts(dev.FirstSeen), ts(dev.LastSeen))
	if err != nil {
		return backend.Unavailable(op, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", op, store.ErrExists)
	}
	return nil
}

// Device implements store.Devices.
func (d *Durable) Device(ctx context.Context, app, keyID string) (store.Device, error) {
	const op = "postgres: device"
	if err := backend.CheckID(app, keyID); err != nil {
		return store.Device{}, err
	}
	if err := backend.Done(op, ctx); err != nil {
		return store.Device{}, err
	}
	dev := store.Device{App: app, KeyID: keyID}
	var counter int64
	var first, last, revoked pgtype.Timestamptz
	err := d.pool.QueryRow(ctx, `SELECT platform, public_key, counter, bound_key, facts, first_seen, last_seen, revoked_at
		FROM drawbridge.devices WHERE app = $1 AND key_id = $2`, app, keyID).
		Scan(&dev.Platform, &dev.PublicKey, &counter, &dev.BoundKey, &dev.Facts, &first, &last, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Device{}, fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	if err != nil {
		return store.Device{}, backend.Unavailable(op, err)
	}
	dev.Counter = uint64(counter)
	dev.FirstSeen, dev.LastSeen, dev.RevokedAt = fromTS(first), fromTS(last), fromTS(revoked)
	return dev, nil
}

// AdvanceCounter implements store.Devices as one conditional UPDATE: see
// the package doc.
func (d *Durable) AdvanceCounter(ctx context.Context, app, keyID string, counter uint64, seen time.Time) error {
	const op = "postgres: advance counter"
	if err := backend.CheckID(app, keyID); err != nil {
		return err
	}
	if err := backend.CheckCounter(counter); err != nil {
		return err
	}
	if err := backend.Done(op, ctx); err != nil {
		return err
	}
	tag, err := d.pool.Exec(ctx, `UPDATE drawbridge.devices SET counter = $3, last_seen = $4
		WHERE app = $1 AND key_id = $2 AND counter < $3`, app, keyID, int64(counter), ts(seen))
	if err != nil {
		return backend.Unavailable(op, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	err = d.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM drawbridge.devices WHERE app = $1 AND key_id = $2)`, app, keyID).Scan(&exists)
	switch {
	case err != nil:
		return backend.Unavailable(op, err)
	case !exists:
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, store.ErrCounterNotIncreased)
}

// RevokeDevice implements store.Devices.
func (d *Durable) RevokeDevice(ctx context.Context, app, keyID string, at time.Time) error {
	if err := backend.CheckRevocation(app, keyID, at); err != nil {
		return err
	}
	return d.change(ctx, "revoke device", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE drawbridge.devices SET revoked_at = COALESCE(revoked_at, $3)
			WHERE app = $1 AND key_id = $2`, app, keyID, at)
		if err == nil && tag.RowsAffected() == 0 {
			err = store.ErrNotFound
		}
		return err
	})
}

// nonNil makes a nil slice an empty bytea, for NOT NULL columns.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
