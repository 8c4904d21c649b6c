package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drawbridge-gw/drawbridge/internal/store"
)

func durControls(t *testing.T, d store.Durable) {
	ctx := context.Background()
	s, err := d.Snapshot(ctx)
	must(t, err)
	if s.Generation != 0 || s.BlockedVersions == nil || s.TokenCutoffs == nil || s.Revoked == nil ||
		len(s.BlockedVersions)+len(s.TokenCutoffs)+len(s.Revoked) != 0 {
		t.Fatalf("fresh Snapshot: got %+v, want generation 0 and empty, non-nil maps", s)
	}
	last := generation(t, d)
	if last != 0 {
		t.Fatalf("fresh Generation: got %d, want 0", last)
	}
	// step applies one change and checks the generation moved forward,
	// both in Generation and in the Snapshot.
	step := func(what string, err error) store.Snapshot {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		g := generation(t, d)
		if g <= last {
			t.Fatalf("%s: generation %d, want more than %d", what, g, last)
		}
		last = g
		s, err := d.Snapshot(ctx)
		must(t, err)
		if s.Generation != g {
			t.Fatalf("%s: Snapshot generation %d, Generation %d", what, s.Generation, g)
		}
		return s
	}
	step("block ios 1.0", d.SetVersionBlocked(ctx, "ios", "1.0", true))
	step("block ios 0.9", d.SetVersionBlocked(ctx, "ios", "0.9", true))
	step("block ios 0.9 again", d.SetVersionBlocked(ctx, "ios", "0.9", true))
	s = step("block android 42", d.SetVersionBlocked(ctx, "android", "42", true))
	want := map[string][]string{"ios": {"0.9", "1.0"}, "android": {"42"}}
	if diff := cmp.Diff(want, s.BlockedVersions); diff != "" {
		t.Fatalf("BlockedVersions (-want +got):\n%s", diff)
	}
	step("unblock ios 1.0", d.SetVersionBlocked(ctx, "ios", "1.0", false))
	s = step("unblock android 42", d.SetVersionBlocked(ctx, "android", "42", false))
	step("unblock a version never blocked", d.SetVersionBlocked(ctx, "web", "1", false))
	want = map[string][]string{"ios": {"0.9"}}
	if diff := cmp.Diff(want, s.BlockedVersions); diff != "" {
		t.Fatalf("BlockedVersions after unblocking (-want +got):\n%s", diff)
	}

	cut := time.Date(2025, 7, 1, 0, 0, 0, 500000000, time.FixedZone("CEST", 7200))
	step("cut-off ios", d.SetTokenCutoff(ctx, "ios", cut))
	step("cut-off android", d.SetTokenCutoff(ctx, "android", cut))
	later := cut.Add(24 * time.Hour)
	s = step("move ios cut-off", d.SetTokenCutoff(ctx, "ios", later))
	if len(s.TokenCutoffs) != 2 || !sameTime(s.TokenCutoffs["ios"], later) || !sameTime(s.TokenCutoffs["android"], cut) {
		t.Fatalf("TokenCutoffs: got %v, want ios at %v and android at %v (UTC)", s.TokenCutoffs, later.UTC(), cut.UTC())
	}
	s = step("remove android cut-off", d.SetTokenCutoff(ctx, "android", time.Time{}))
	if _, ok := s.TokenCutoffs["android"]; ok || len(s.TokenCutoffs) != 1 {
		t.Fatalf("TokenCutoffs after removing android's: got %v", s.TokenCutoffs)
	}

	must(t, d.RegisterDevice(ctx, sample("ios", "dev")))
	s = step("revoke", d.RevokeDevice(ctx, "ios", "dev", cut))
	if !sameTime(s.Revoked["ios/dev"], cut) {
		t.Fatalf("Revoked: got %v", s.Revoked)
	}
	// A failed change moves nothing.
	if err := d.RevokeDevice(ctx, "ios", "missing", cut); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RevokeDevice of an unknown device: %v", err)
	}
	if g := generation(t, d); g != last {
		t.Fatalf("a failed revocation moved the generation from %d to %d", last, g)
	}
}

// durSnapshotConsistent: while one writer moves a cut-off to second i on
// its i-th change, every Snapshot's cut-off matches its generation.
func durSnapshotConsistent(t *testing.T, d store.Durable) {
	ctx := context.Background()
	base := generation(t, d)
	done := make(chan error, 1)
	go func() {
		for i := 1; i <= 60; i++ {
			if err := d.SetTokenCutoff(ctx, "app", time.Unix(int64(i), 0)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	check := func() error {
		s, err := d.Snapshot(ctx)
		if err != nil {
			return err
		}
		n := s.Generation - base
		c, ok := s.TokenCutoffs["app"]
		if (n == 0 && ok) || (n > 0 && (!ok || uint64(c.Unix()) != n)) {
			return fmt.Errorf("snapshot at generation +%d holds cut-off %v (set %v): a mix of two generations", n, c.Unix(), ok)
		}
		return nil
	}
	for {
		select {
		case err := <-done:
			must(t, err)
			must(t, check())
			return
		default:
			must(t, check())
		}
	}
}

func durCancelled(t *testing.T, d store.Durable) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	must(t, d.RegisterDevice(context.Background(), sample("app", "k")))
	start := time.Now()
	_, err1 := d.Device(ctx, "app", "k")
	err2 := d.AdvanceCounter(ctx, "app", "k", 10, time.Now())
	err3 := d.RegisterDevice(ctx, sample("app", "k2"))
	err4 := d.SetVersionBlocked(ctx, "app", "1", true)
	_, err5 := d.Snapshot(ctx)
	_, err6 := d.Generation(ctx)
	if el := time.Since(start); el > time.Second {
		t.Errorf("six calls with a cancelled context took %v", el)
	}
	for i, err := range []error{err1, err2, err3, err4, err5, err6} {
		if !errors.Is(err, context.Canceled) || !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("call %d with a cancelled context: got %v, want context.Canceled wrapped in ErrUnavailable", i+1, err)
		}
	}
	got, err := d.Device(context.Background(), "app", "k")
	must(t, err)
	if got.Counter != 0 {
		t.Errorf("the cancelled AdvanceCounter stored counter %d", got.Counter)
	}
	if g := generation(t, d); g != 0 {
		t.Errorf("the cancelled SetVersionBlocked moved the generation to %d", g)
	}
}

func durClosed(t *testing.T, d store.Durable) {
	ctx := context.Background()
	must(t, d.Close())
	if _, err := d.Device(ctx, "app", "k"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("Device after Close: got %v, want an engine error", err)
	}
	if err := d.RegisterDevice(ctx, sample("app", "k")); err == nil {
		t.Error("RegisterDevice after Close: got nil, want an error")
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
