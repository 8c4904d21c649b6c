package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/storetest"
	"github.com/drawbridge-gw/drawbridge/internal/testenv"
)

// A database that goes down fails every call with ErrUnavailable (never
// a false "not found" or "counter not increased"), and the pool recovers
// once it is back.
func TestServerDownFailsClosed(t *testing.T) {
	pg := testenv.PrivatePostgres(t)
	d := open(t, pg.Database(t))
	ctx := context.Background()
	if err := d.RegisterDevice(ctx, storetest.Sample("app", "k")); err != nil {
		t.Fatal(err)
	}
	pg.Stop(t)
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := d.Device(short, "app", "k"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Device with the database down: %v, want ErrUnavailable", err)
	}
	if err := d.AdvanceCounter(short, "app", "k", 1, time.Now()); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("AdvanceCounter with the database down: %v, want ErrUnavailable", err)
	}
	if _, err := d.Generation(short); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Generation with the database down: %v, want ErrUnavailable", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("failing took %v", el)
	}
	pg.Start(t)
	if err := d.AdvanceCounter(ctx, "app", "k", 1, time.Now()); err != nil {
		t.Fatalf("AdvanceCounter after the restart: %v", err)
	}
}
