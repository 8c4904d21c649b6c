package memory

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/internal/backend"
)

// Durable is store.Durable in memory: one mutex over a few maps. It keeps
// nothing across restarts; use it in tests and demos, never where a
// revoked device must stay revoked.
type Durable struct {
	mu      sync.RWMutex
	closed  bool
	devices map[deviceID]*store.Device
	blocked map[string]map[string]bool // app → version → blocked
	cutoffs map[string]time.Time
	revoked map[deviceID]time.Time
	apiKeys map[string][]store.APIKey // id → secrets
	gen     uint64
}

type deviceID struct{ app, keyID string }

// NewDurable returns an empty Durable at generation 0.
func NewDurable() *Durable {
	return &Durable{
		devices: make(map[deviceID]*store.Device),
		blocked: make(map[string]map[string]bool),
		cutoffs: make(map[string]time.Time),
		revoked: make(map[deviceID]time.Time),
		apiKeys: make(map[string][]store.APIKey),
	}
}

// begin checks the context and locks: for writing when write is true.
// The returned func unlocks.
func (d *Durable) begin(ctx context.Context, op string, write bool) (func(), error) {
	if err := backend.Done("memory: "+op, ctx); err != nil {
		return nil, err
	}
	unlock := d.mu.RUnlock
	if write {
		d.mu.Lock()
		unlock = d.mu.Unlock
	} else {
		d.mu.RLock()
	}
	if d.closed {
		unlock()
		return nil, backend.Unavailable("memory: "+op, errClosed)
	}
	return unlock, nil
}

// clone copies d so that neither the caller nor the store sees the
// other's later changes, and normalises its times as every backend does.
func clone(d store.Device) store.Device {
	d.PublicKey = bytes.Clone(d.PublicKey)
	d.Facts = bytes.Clone(d.Facts)
	d.FirstSeen = backend.Time(d.FirstSeen)
	d.LastSeen = backend.Time(d.LastSeen)
	d.RevokedAt = backend.Time(d.RevokedAt)
	return d
}

// RegisterDevice implements store.Devices.
func (d *Durable) RegisterDevice(ctx context.Context, dev store.Device) error {
	if err := backend.CheckDevice(dev); err != nil {
		return err
	}
	unlock, err := d.begin(ctx, "register device", true)
	if err != nil {
		return err
	}
	defer unlock()
	id := deviceID{dev.App, dev.KeyID}
	if _, ok := d.devices[id]; ok {
		return fmt.Errorf("memory: register device: %w", store.ErrExists)
	}
	c := clone(dev)
	d.devices[id] = &c
	return nil
}

// Device implements store.Devices.
func (d *Durable) Device(ctx context.Context, app, keyID string) (store.Device, error) {
	if err := backend.CheckID(app, keyID); err != nil {
		return store.Device{}, err
	}
	unlock, err := d.begin(ctx, "device", false)
	if err != nil {
		return store.Device{}, err
	}
	defer unlock()
	dev, ok := d.devices[deviceID{app, keyID}]
	if !ok {
		return store.Device{}, fmt.Errorf("memory: device: %w", store.ErrNotFound)
	}
	return clone(*dev), nil
}

// AdvanceCounter implements store.Devices; the write lock makes the
// compare and the store one step.
func (d *Durable) AdvanceCounter(ctx context.Context, app, keyID string, counter uint64, seen time.Time) error {
	if err := backend.CheckID(app, keyID); err != nil {
		return err
	}
	if err := backend.CheckCounter(counter); err != nil {
		return err
	}
	unlock, err := d.begin(ctx, "advance counter", true)
	if err != nil {
		return err
	}
	defer unlock()
	dev, ok := d.devices[deviceID{app, keyID}]
	if !ok {
		return fmt.Errorf("memory: advance counter: %w", store.ErrNotFound)
	}
	if counter <= dev.Counter {
		return fmt.Errorf("memory: advance counter: %w", store.ErrCounterNotIncreased)
	}
	dev.Counter, dev.LastSeen = counter, backend.Time(seen)
	return nil
}

// RevokeDevice implements store.Devices.
func (d *Durable) RevokeDevice(ctx context.Context, app, keyID string, at time.Time) error {
	if err := backend.CheckRevocation(app, keyID, at); err != nil {
		return err
	}
	unlock, err := d.begin(ctx, "revoke device", true)
	if err != nil {
		return err
	}
	defer unlock()
	id := deviceID{app, keyID}
	dev, ok := d.devices[id]
	if !ok {
		return fmt.Errorf("memory: revoke device: %w", store.ErrNotFound)
	}
	if dev.RevokedAt.IsZero() {
		dev.RevokedAt = backend.Time(at)
		d.revoked[id] = dev.RevokedAt
	}
	d.gen++
	return nil
}

// SetVersionBlocked implements store.Controls.
func (d *Durable) SetVersionBlocked(ctx context.Context, app, version string, blocked bool) error {
	if err := backend.CheckName("app", app); err != nil {
		return err
	}
	if err := backend.CheckName("version", version); err != nil {
		return err
	}
	unlock, err := d.begin(ctx, "set version blocked", true)
	if err != nil {
		return err
	}
	defer unlock()
	switch {
	case blocked && d.blocked[app] == nil:
		d.blocked[app] = map[string]bool{version: true}
	case blocked:
		d.blocked[app][version] = true
	default:
		delete(d.blocked[app], version)
		if len(d.blocked[app]) == 0 {
			delete(d.blocked, app)
		}
	}
	d.gen++
	return nil
}

// SetTokenCutoff implements store.Controls.
func (d *Durable) SetTokenCutoff(ctx context.Context, app string, t time.Time) error {
	if err := backend.CheckName("app", app); err != nil {
		return err
	}
	unlock, err := d.begin(ctx, "set token cutoff", true)
	if err != nil {
		return err
	}
	defer unlock()
	if t.IsZero() {
		delete(d.cutoffs, app)
	} else {
		d.cutoffs[app] = backend.Time(t)
	}
	d.gen++
	return nil
}

// Generation implements store.Controls.
func (d *Durable) Generation(ctx context.Context) (uint64, error) {
	unlock, err := d.begin(ctx, "generation", false)
	if err != nil {
		return 0, err
	}
	defer unlock()
	return d.gen, nil
}

// Snapshot implements store.Controls.
func (d *Durable) Snapshot(ctx context.Context) (store.Snapshot, error) {
	unlock, err := d.begin(ctx, "snapshot", false)
	if err != nil {
		return store.Snapshot{}, err
	}
	defer unlock()
	s := store.Snapshot{
		Generation:      d.gen,
		BlockedVersions: make(map[string][]string, len(d.blocked)),
		TokenCutoffs:    make(map[string]time.Time, len(d.cutoffs)),
		Revoked:         make(map[string]time.Time, len(d.revoked)),
	}
	for app, vs := range d.blocked {
		list := make([]string, 0, len(vs))
		for v := range vs {
			list = append(list, v)
		}
		slices.Sort(list)
		s.BlockedVersions[app] = list
	}
	for app, t := range d.cutoffs {
		s.TokenCutoffs[app] = t
	}
	for id, t := range d.revoked {
		s.Revoked[id.app+"/"+id.keyID] = t
	}
	return s, nil
}

// Close drops everything; later calls fail. It may be called more than
// once.
func (d *Durable) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	d.devices, d.revoked, d.apiKeys = nil, nil, nil
	return nil
}

var _ store.Durable = (*Durable)(nil)
