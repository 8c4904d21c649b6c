package service_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest/appattesttest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/redis"
	"github.com/drawbridge-gw/drawbridge/internal/store/sqlite"
	"github.com/drawbridge-gw/drawbridge/internal/testenv"
)

func openSQLite(t *testing.T, path string) *sqlite.Durable {
	t.Helper()
	d, err := sqlite.Open(context.Background(), sqlite.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// The counter is compared and stored in one step by the durable store
// itself: two concurrent assertions with one counter, on SQLite.
func TestAssertionCounterRaceSQLite(t *testing.T) {
	d := openSQLite(t, filepath.Join(t.TempDir(), "drawbridge.db"))
	f := newFixture(t, func(o *fixtureOpts) { o.durable = d })
	counterRace(t, f)
}

// A hot store that cannot be reached refuses challenges and exchanges
// (attestation.unavailable), and the service recovers with the store.
func TestHotStoreUnavailable(t *testing.T) {
	srv := testenv.Redis(t)
	hot, err := redis.Open(context.Background(), redis.Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hot.Close() })
	f := newFixture(t, func(o *fixtureOpts) { o.hot = hot })
	// Real Redis expires keys on its own clock: keep the fixture's clock
	// near it, so that the evidence built at the fixture's time is valid.
	f.clock.t = time.Now()

	a := f.appleExchange(appIOS, appattesttest.Production, "2.3.1")
	srv.Stop()
	_, err = f.svc.NewChallenge(context.Background(), appIOS)
	wantReason(t, err, service.ReasonUnavailable)
	_, err = a.do()
	se := wantReason(t, err, service.ReasonUnavailable)
	if se.Unwrap() == nil {
		t.Error("the store's error is not kept for the log")
	}
	srv.Start(t)
	// The restarted server is empty: the old challenge is gone, new ones
	// work.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := f.svc.NewChallenge(context.Background(), appIOS)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no challenge after Redis came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, err = a.do()
	wantReason(t, err, service.ReasonChallengeInvalid)
	f.appleExchange(appIOS, appattesttest.Production, "2.3.1").mustDo()
}

// A durable store that fails refuses the exchange instead of issuing a
// token for an unrecorded device.
func TestDurableStoreUnavailable(t *testing.T) {
	d := openSQLite(t, filepath.Join(t.TempDir(), "drawbridge.db"))
	f := newFixture(t, func(o *fixtureOpts) { o.durable = d })
	a := f.appleExchange(appIOS, appattesttest.Production, "2.3.1")
	d.Close()
	_, err := a.do()
	wantReason(t, err, service.ReasonUnavailable)
}

// A control set through one handle on a store is seen by Controls polling
// another handle on it within one poll interval (plus one read).
func TestControlsPropagate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	writer, reader := openSQLite(t, path), openSQLite(t, path)
	const interval = 200 * time.Millisecond
	c, err := service.NewControls(context.Background(), reader, interval, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	seen := func(what string, ok func() bool) {
		t.Helper()
		start := time.Now()
		for !ok() {
			if time.Since(start) > interval+200*time.Millisecond {
				t.Fatalf("%s not seen within one poll interval (%v)", what, interval)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err := writer.SetVersionBlocked(ctx, appIOS, "2.2.0", true); err != nil {
		t.Fatal(err)
	}
	seen("a blocked version", func() bool { return c.VersionBlockedAtRunTime(appIOS, "2.2.0") })
	cut := time.Now().Truncate(time.Microsecond).UTC()
	if err := writer.SetTokenCutoff(ctx, appIOS, cut); err != nil {
		t.Fatal(err)
	}
	seen("a cut-off", func() bool { return c.Cutoff(appIOS).Equal(cut) })
	if err := writer.RegisterDevice(ctx, deviceFor(appIOS, "install-1")); err != nil {
		t.Fatal(err)
	}
	if err := writer.RevokeDevice(ctx, appIOS, "install-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	seen("a revocation", func() bool { return c.Revoked(appIOS, "install-1") })
	if err := writer.SetVersionBlocked(ctx, appIOS, "2.2.0", false); err != nil {
		t.Fatal(err)
	}
	seen("an unblocked version", func() bool { return !c.VersionBlockedAtRunTime(appIOS, "2.2.0") })
	if got := c.Snapshot().Generation; got != 4 {
		t.Errorf("generation %d, want 4", got)
	}
}

// Controls keep the last controls read while the store fails, and
// cannot start without it: a gateway that cannot read revocations must not
// serve.
func TestControlsOutage(t *testing.T) {
	d := openSQLite(t, filepath.Join(t.TempDir(), "drawbridge.db"))
	c, err := service.NewControls(context.Background(), d, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := d.SetVersionBlocked(context.Background(), appIOS, "1.0", true); err != nil {
		t.Fatal(err)
	}
	if err := c.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if err := c.Refresh(context.Background()); err == nil {
		t.Fatal("Refresh of a closed store succeeded")
	}
	if !c.VersionBlockedAtRunTime(appIOS, "1.0") {
		t.Error("the last controls read were dropped during the outage")
	}
	if _, err := service.NewControls(context.Background(), d, 0, nil); err == nil {
		t.Error("NewControls succeeded on a closed store")
	}
}

func deviceFor(app, keyID string) store.Device {
	now := time.Now()
	return store.Device{App: app, KeyID: keyID, Platform: "apple", PublicKey: []byte{1}, FirstSeen: now, LastSeen: now}
}
