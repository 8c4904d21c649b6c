package service_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
)

// flakyControls is a controls store that can be made unavailable.
type flakyControls struct {
	store.Controls
	mu   sync.Mutex
	down bool
}

func (f *flakyControls) set(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

func (f *flakyControls) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return store.ErrUnavailable
	}
	return nil
}

func (f *flakyControls) Generation(ctx context.Context) (uint64, error) {
	if err := f.err(); err != nil {
		return 0, err
	}
	return f.Controls.Generation(ctx)
}

func (f *flakyControls) Snapshot(ctx context.Context) (store.Snapshot, error) {
	if err := f.err(); err != nil {
		return store.Snapshot{}, err
	}
	return f.Controls.Snapshot(ctx)
}

// An outage of the durable store is logged once when it starts and once
// when it ends, also when no control changed meanwhile (the usual case,
// which test/cluster's TestFailures found unlogged), and the controls read
// before it stay in force.
func TestControlsOutageLoggedOnce(t *testing.T) {
	ctx := context.Background()
	d := memory.NewDurable()
	if err := d.SetVersionBlocked(ctx, "app", "1.0", true); err != nil {
		t.Fatal(err)
	}
	src := &flakyControls{Controls: d}
	var logs bytes.Buffer
	c, err := service.NewControls(ctx, src, time.Hour, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	src.set(true)
	for range 3 {
		if err := c.Refresh(ctx); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("Refresh with the store down: %v", err)
		}
	}
	if !c.VersionBlockedAtRunTime("app", "1.0") {
		t.Error("the controls read before the outage are not in force during it")
	}
	src.set(false)
	for range 2 {
		if err := c.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Count(logs.String(), "reading run-time controls failed"); got != 1 {
		t.Errorf("%d lines for the outage, want 1:\n%s", got, logs.String())
	}
	if got := strings.Count(logs.String(), "run-time controls readable again"); got != 1 {
		t.Errorf("%d lines for the recovery, want 1:\n%s", got, logs.String())
	}
}
