package service

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store"
)

// Controls caches the operators' run-time controls (revoked devices,
// blocked versions, token cut-offs) from the durable store, so that every
// request can consult them without a database round trip. It polls the
// store's generation and re-reads the snapshot when it changes: a control
// set through any node applies on every node within one poll interval.
type Controls struct {
	src      store.Controls
	interval time.Duration
	log      *slog.Logger
	cur      atomic.Pointer[store.Snapshot]
	failures atomic.Int64
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

// DefaultPollInterval is how often Controls checks for changes.
const DefaultPollInterval = 500 * time.Millisecond

// NewControls reads the controls once and starts polling. It fails when
// the store cannot be read: without controls the gateway cannot honour a
// revocation, so it must not start.
func NewControls(ctx context.Context, src store.Controls, interval time.Duration, log *slog.Logger) (*Controls, error) {
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Controls{src: src, interval: interval, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	snap, err := src.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	c.cur.Store(&snap)
	go c.poll()
	return c, nil
}

func (c *Controls) poll() {
	defer close(c.done)
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		_ = c.Refresh(context.Background())
	}
}

// Refresh reads the controls now if their generation moved.
func (c *Controls) Refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	gen, err := c.src.Generation(ctx)
	if err == nil && gen == c.cur.Load().Generation {
		// The store is back, and usually nothing changed meanwhile: the
		// recovery must be logged on this path too, not only when the
		// generation moved during the outage.
		c.recovered()
		return nil
	}
	var snap store.Snapshot
	if err == nil {
		snap, err = c.src.Snapshot(ctx)
	}
	if err != nil {
		// Keep serving the last controls read; say so once per outage.
		if c.failures.Add(1) == 1 {
			c.log.Error("reading run-time controls failed; using the last ones read", "error", err.Error())
		}
		return err
	}
	c.recovered()
	c.cur.Store(&snap)
	return nil
}

// recovered ends an outage: it logs once that the store is readable
// again, if reading it had failed.
func (c *Controls) recovered() {
	if c.failures.Swap(0) > 0 {
		c.log.Info("run-time controls readable again")
	}
}

// Snapshot returns the controls in force.
func (c *Controls) Snapshot() *store.Snapshot { return c.cur.Load() }

// Revoked reports whether an install is revoked.
func (c *Controls) Revoked(app, install string) bool {
	_, ok := c.cur.Load().Revoked[app+"/"+install]
	return ok
}

// Blocked returns the versions of app blocked at run time.
func (c *Controls) Blocked(app string) []string { return c.cur.Load().BlockedVersions[app] }

// VersionBlockedAtRunTime reports whether ver is blocked at run time.
func (c *Controls) VersionBlockedAtRunTime(app, ver string) bool {
	return slices.Contains(c.cur.Load().BlockedVersions[app], ver)
}

// Cutoff returns the time before which app's tokens are refused, or zero.
func (c *Controls) Cutoff(app string) time.Time { return c.cur.Load().TokenCutoffs[app] }

// Close stops polling.
func (c *Controls) Close() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
}
