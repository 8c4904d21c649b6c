package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store"
)

// TestSharedDurable checks two handles on one durable store (two
// replicas on one database, two processes on one file): each App Attest
// counter value is accepted once across both, and a control changed
// through one is in the other's next snapshot. a and b must be open on
// the same, empty store.
func TestSharedDurable(t *testing.T, a, b store.Durable) {
	t.Helper()
	ctx := context.Background()
	if err := a.RegisterDevice(ctx, Sample("app", "k")); err != nil {
		t.Fatal(err)
	}
	for v := uint64(1); v <= 20; v++ {
		var wins atomic.Int64
		var wg sync.WaitGroup
		for i := range 8 {
			d := a
			if i%2 == 1 {
				d = b
			}
			wg.Go(func() {
				err := d.AdvanceCounter(ctx, "app", "k", v, time.Now())
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, store.ErrCounterNotIncreased):
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("value %d: %d winners across two handles, want 1", v, wins.Load())
		}
	}
	g, _ := b.Generation(ctx)
	if err := a.SetVersionBlocked(ctx, "app", "1.0", true); err != nil {
		t.Fatal(err)
	}
	s, err := b.Snapshot(ctx)
	if err != nil || s.Generation <= g || len(s.BlockedVersions["app"]) != 1 {
		t.Fatalf("the other handle's snapshot: %+v, %v", s, err)
	}
}
