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

// RegisterDevice implements store.Devices. ON CONFLICT DO NOTHING turns a
// duplicate into "no row inserted", without parsing driver errors.
func (d *Durable) RegisterDevice(ctx context.Context, dev store.Device) error {
	if err := backend.CheckDevice(dev); err != nil {
		return err
	}
	res, err := d.w.ExecContext(ctx, `INSERT INTO devices
		(app, key_id, platform, public_key, counter, bound_key, facts, first_seen, last_seen)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		dev.App, dev.KeyID, dev.Platform, nonNil(dev.PublicKey), int64(dev.Counter), dev.BoundKey, dev.Facts,
		micros(dev.FirstSeen), micros(dev.LastSeen))
	if err != nil {
		return backend.Unavailable("sqlite: register device", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return backend.Unavailable("sqlite: register device", err)
		}
		return fmt.Errorf("sqlite: register device: %w", store.ErrExists)
	}
	return nil
}

// Device implements store.Devices.
func (d *Durable) Device(ctx context.Context, app, keyID string) (store.Device, error) {
	if err := backend.CheckID(app, keyID); err != nil {
		return store.Device{}, err
	}
	dev := store.Device{App: app, KeyID: keyID}
	var counter int64
	var first, last, revoked sql.NullInt64
	err := d.r.QueryRowContext(ctx, `SELECT platform, public_key, counter, bound_key, facts, first_seen, last_seen, revoked_at
		FROM devices WHERE app = ? AND key_id = ?`, app, keyID).
		Scan(&dev.Platform, &dev.PublicKey, &counter, &dev.BoundKey, &dev.Facts, &first, &last, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Device{}, fmt.Errorf("sqlite: device: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Device{}, backend.Unavailable("sqlite: device", err)
	}
	dev.Counter = uint64(counter)
	dev.FirstSeen, dev.LastSeen, dev.RevokedAt = fromMicros(first), fromMicros(last), fromMicros(revoked)
	return dev, nil
}

// AdvanceCounter implements store.Devices as one conditional UPDATE: see
// the package doc.
func (d *Durable) AdvanceCounter(ctx context.Context, app, keyID string, counter uint64, seen time.Time) error {
	if err := backend.CheckID(app, keyID); err != nil {
		return err
	}
	if err := backend.CheckCounter(counter); err != nil {
		return err
	}
	res, err := d.w.ExecContext(ctx, `UPDATE devices SET counter = ?, last_seen = ?
		WHERE app = ? AND key_id = ? AND counter < ?`,
		int64(counter), micros(seen), app, keyID, int64(counter))
	if err != nil {
		return backend.Unavailable("sqlite: advance counter", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return backend.Unavailable("sqlite: advance counter", err)
	}
	if n == 1 {
		return nil
	}
	return d.notAdvanced(ctx, app, keyID)
}

// notAdvanced tells why no row changed: no device, or no increase.
func (d *Durable) notAdvanced(ctx context.Context, app, keyID string) error {
	var exists bool
	err := d.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM devices WHERE app = ? AND key_id = ?)`, app, keyID).Scan(&exists)
	switch {
	case err != nil:
		return backend.Unavailable("sqlite: advance counter", err)
	case !exists:
		return fmt.Errorf("sqlite: advance counter: %w", store.ErrNotFound)
	}
	return fmt.Errorf("sqlite: advance counter: %w", store.ErrCounterNotIncreased)
}

// RevokeDevice implements store.Devices.
func (d *Durable) RevokeDevice(ctx context.Context, app, keyID string, at time.Time) error {
	if err := backend.CheckRevocation(app, keyID, at); err != nil {
		return err
	}
	return d.change(ctx, "revoke device", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE devices SET revoked_at = COALESCE(revoked_at, ?)
			WHERE app = ? AND key_id = ?`, micros(backend.Time(at)), app, keyID)
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

// nonNil makes a nil slice an empty BLOB, for NOT NULL columns.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
