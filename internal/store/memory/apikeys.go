package memory

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/internal/backend"
)

// CreateAPIKey implements store.APIKeys.
func (d *Durable) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	if err := backend.CheckAPIKey(k); err != nil {
		return err
	}
	unlock, err := d.begin(ctx, "create api key", true)
	if err != nil {
		return err
	}
	defer unlock()
	if len(d.apiKeys[k.ID]) > 0 {
		return fmt.Errorf("memory: create api key: %w", store.ErrExists)
	}
	d.apiKeys[k.ID] = []store.APIKey{backend.CloneAPIKey(k)}
	d.gen++
	return nil
}

// RotateAPIKey implements store.APIKeys; the write lock makes the insert
// and the expiries one step.
func (d *Durable) RotateAPIKey(ctx context.Context, k store.APIKey, oldUntil time.Time) error {
	if err := backend.CheckAPIKey(k); err != nil {
		return err
	}
	if oldUntil.IsZero() {
		return fmt.Errorf("%w: rotating needs the time the old secrets expire", store.ErrInvalid)
	}
	unlock, err := d.begin(ctx, "rotate api key", true)
	if err != nil {
		return err
	}
	defer unlock()
	old := d.apiKeys[k.ID]
	if len(old) == 0 {
		return fmt.Errorf("memory: rotate api key: %w", store.ErrNotFound)
	}
	for _, o := range old {
		if bytes.Equal(o.Hash, k.Hash) {
			return fmt.Errorf("memory: rotate api key: %w", store.ErrExists)
		}
	}
	until := backend.Time(oldUntil)
	for i := range old {
		if old[i].RevokedAt.IsZero() && (old[i].ExpiresAt.IsZero() || old[i].ExpiresAt.After(until)) {
			old[i].ExpiresAt = until
		}
	}
	d.apiKeys[k.ID] = append(old, backend.CloneAPIKey(k))
	d.gen++
	return nil
}

// APIKey implements store.APIKeys.
func (d *Durable) APIKey(ctx context.Context, id string) ([]store.APIKey, error) {
	if err := backend.CheckName("api key id", id); err != nil {
		return nil, err
	}
	unlock, err := d.begin(ctx, "api key", false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	ks := d.apiKeys[id]
	if len(ks) == 0 {
		return nil, fmt.Errorf("memory: api key: %w", store.ErrNotFound)
	}
	out := make([]store.APIKey, len(ks))
	for i, k := range ks {
		out[i] = backend.CloneAPIKey(k)
	}
	backend.SortAPIKeys(out)
	return out, nil
}

// ListAPIKeys implements store.APIKeys.
func (d *Durable) ListAPIKeys(ctx context.Context) ([]store.APIKey, error) {
	unlock, err := d.begin(ctx, "list api keys", false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []store.APIKey
	for _, ks := range d.apiKeys {
		for _, k := range ks {
			out = append(out, backend.CloneAPIKey(k))
		}
	}
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
	unlock, err := d.begin(ctx, "revoke api key", true)
	if err != nil {
		return err
	}
	defer unlock()
	ks := d.apiKeys[id]
	if len(ks) == 0 {
		return fmt.Errorf("memory: revoke api key: %w", store.ErrNotFound)
	}
	for i := range ks {
		if ks[i].RevokedAt.IsZero() {
			ks[i].RevokedAt = backend.Time(at)
		}
	}
	d.gen++
	return nil
}

var _ store.APIKeys = (*Durable)(nil)
