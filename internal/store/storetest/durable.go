package storetest

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drawbridge-gw/drawbridge/internal/store"
)

// TestDurable checks a store.Durable backend. open returns a fresh, empty
// store for one subtest.
func TestDurable(t *testing.T, open func(t *testing.T) store.Durable) {
	tests := []struct {
		name string
		run  func(t *testing.T, d store.Durable)
	}{
		{"RegisterAndGet", durRegister},
		{"InvalidArguments", durInvalid},
		{"BytesRoundTrip", durBytes},
		{"Times", durTimes},
		{"AdvanceCounter", durAdvance},
		{"ConcurrentAdvanceOneValue", durAdvanceSameValue},
		{"ConcurrentAdvanceEveryValue", durAdvanceEveryValue},
		{"Revoke", durRevoke},
		{"Controls", durControls},
		{"SnapshotIsConsistent", durSnapshotConsistent},
		{"CancelledContext", durCancelled},
		{"APIKeysCreate", keysCreate},
		{"APIKeysInvalid", keysInvalid},
		{"APIKeysRotate", keysRotate},
		{"APIKeysRevoke", keysRevoke},
		{"APIKeysConcurrentCreate", keysConcurrentCreate},
		{"APIKeysCancelledContext", keysCancelled},
		{"Closed", durClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open(t)) })
	}
}

// sample is a realistic device: a P-256 PKIX key's size, facts as JSON.
func sample(app, keyID string) store.Device {
	pub := make([]byte, 91)
	for i := range pub {
		pub[i] = byte(i * 7)
	}
	return store.Device{
		App:       app,
		KeyID:     keyID,
		Platform:  "apple",
		PublicKey: pub,
		Counter:   0,
		BoundKey:  "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
		Facts:     []byte(`{"environment":"production","app_version":"1.2.3"}`),
		FirstSeen: time.Date(2025, 3, 1, 12, 0, 0, 123456000, time.UTC),
		LastSeen:  time.Date(2025, 3, 1, 12, 0, 0, 123456000, time.UTC),
	}
}

// sameTime reports whether got is want as the store contract returns it:
// UTC, and equal to at least the millisecond.
func sameTime(got, want time.Time) bool {
	if want.IsZero() || got.IsZero() {
		return want.IsZero() && got.IsZero()
	}
	d := got.Sub(want.Truncate(time.Millisecond))
	return got.Location() == time.UTC && d >= 0 && d < time.Millisecond
}

// checkDevice compares a stored device with what was stored.
func checkDevice(t *testing.T, got, want store.Device) {
	t.Helper()
	for _, f := range []struct {
		name      string
		got, want time.Time
	}{{"FirstSeen", got.FirstSeen, want.FirstSeen}, {"LastSeen", got.LastSeen, want.LastSeen}, {"RevokedAt", got.RevokedAt, want.RevokedAt}} {
		if !sameTime(f.got, f.want) {
			t.Errorf("%s: got %v, want %v to the millisecond, in UTC", f.name, f.got, f.want.UTC())
		}
	}
	got.FirstSeen, got.LastSeen, got.RevokedAt = time.Time{}, time.Time{}, time.Time{}
	want.FirstSeen, want.LastSeen, want.RevokedAt = time.Time{}, time.Time{}, time.Time{}
	if diff := cmp.Diff(want, got, cmp.Comparer(bytes.Equal)); diff != "" {
		t.Errorf("device (-want +got):\n%s", diff)
	}
}

func durRegister(t *testing.T, d store.Durable) {
	ctx := context.Background()
	dev := sample("app", "key-1")
	must(t, d.RegisterDevice(ctx, dev))
	got, err := d.Device(ctx, "app", "key-1")
	must(t, err)
	checkDevice(t, got, dev)

	dup := sample("app", "key-1")
	dup.Platform, dup.Counter = "android", 99
	if err := d.RegisterDevice(ctx, dup); !errors.Is(err, store.ErrExists) {
		t.Fatalf("RegisterDevice of a known device: got %v, want ErrExists", err)
	}
	got, err = d.Device(ctx, "app", "key-1")
	must(t, err)
	checkDevice(t, got, dev) // the duplicate changed nothing

	// The same key id under another app is another device.
	must(t, d.RegisterDevice(ctx, sample("other-app", "key-1")))
	for _, id := range [][2]string{{"app", "key-2"}, {"nope", "key-1"}, {"app", "KEY-1"}} {
		if _, err := d.Device(ctx, id[0], id[1]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Device(%q, %q): got %v, want ErrNotFound", id[0], id[1], err)
		}
	}
}

func durInvalid(t *testing.T, d store.Durable) {
	ctx := context.Background()
	long := strings.Repeat("k", store.MaxKeyLen+1)
	revoked := sample("app", "revoked")
	revoked.RevokedAt = time.Now()
	huge := sample("app", "huge")
	huge.Counter = math.MaxInt64 + 1
	for name, dev := range map[string]store.Device{
		"empty app": sample("", "k"), "empty key id": sample("app", ""),
		"long app": sample(long, "k"), "long key id": sample("app", long),
		"already revoked": revoked, "counter above MaxInt64": huge,
		"NUL in key id": sample("app", "k\x00"), "key id not UTF-8": sample("app", "k\xff"),
	} {
		if err := d.RegisterDevice(ctx, dev); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("RegisterDevice with %s: got %v, want ErrInvalid", name, err)
		}
	}
	ok := sample("app", strings.Repeat("k", store.MaxKeyLen))
	must(t, d.RegisterDevice(ctx, ok))
	if err := d.AdvanceCounter(ctx, ok.App, ok.KeyID, math.MaxInt64+1, time.Now()); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("AdvanceCounter beyond MaxInt64: got %v, want ErrInvalid", err)
	}
	if _, err := d.Device(ctx, "", "k"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Device with an empty app: got %v, want ErrInvalid", err)
	}
	if err := d.RevokeDevice(ctx, ok.App, ok.KeyID, time.Time{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("RevokeDevice at the zero time: got %v, want ErrInvalid", err)
	}
	if err := d.SetVersionBlocked(ctx, "app", "", true); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("SetVersionBlocked with an empty version: got %v, want ErrInvalid", err)
	}
	if err := d.SetTokenCutoff(ctx, "", time.Now()); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("SetTokenCutoff with an empty app: got %v, want ErrInvalid", err)
	}
}

func durBytes(t *testing.T, d store.Durable) {
	ctx := context.Background()
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(255 - i)
	}
	dev := sample("app", "bytes")
	dev.PublicKey = all
	// JSON as the verifier wrote it: odd spacing, key order and escapes
	// must survive (a jsonb column would rewrite them).
	dev.Facts = []byte("{\"z\": 1,  \"a\":\"\\u00e9\\n\", \"n\":1.50}\n")
	dev.KeyID = "ключ/+=_-ü"
	must(t, d.RegisterDevice(ctx, dev))
	got, err := d.Device(ctx, dev.App, dev.KeyID)
	must(t, err)
	if !bytes.Equal(got.PublicKey, dev.PublicKey) || !bytes.Equal(got.Facts, dev.Facts) || got.KeyID != dev.KeyID {
		t.Fatalf("bytes did not round-trip exactly:\n got %q %q %q\nwant %q %q %q",
			got.KeyID, got.PublicKey, got.Facts, dev.KeyID, dev.PublicKey, dev.Facts)
	}
	// Mutating the caller's copy after storing changes nothing stored.
	dev.PublicKey[0] ^= 0xff
	got, err = d.Device(ctx, dev.App, dev.KeyID)
	must(t, err)
	if got.PublicKey[0] != 255 {
		t.Fatal("the store kept a reference to the caller's PublicKey")
	}
	empty := sample("app", "no-facts")
	empty.Facts, empty.BoundKey = nil, ""
	must(t, d.RegisterDevice(ctx, empty))
	got, err = d.Device(ctx, empty.App, empty.KeyID)
	must(t, err)
	checkDevice(t, got, empty)
}

func durTimes(t *testing.T, d store.Durable) {
	ctx := context.Background()
	india := time.FixedZone("IST", 5*3600+1800)
	dev := sample("app", "times")
	dev.FirstSeen = time.Date(2031, 12, 31, 23, 59, 59, 999999999, india)
	dev.LastSeen = time.Now() // with a monotonic reading
	must(t, d.RegisterDevice(ctx, dev))
	got, err := d.Device(ctx, dev.App, dev.KeyID)
	must(t, err)
	checkDevice(t, got, dev)

	zero := sample("app", "zero-times")
	zero.FirstSeen, zero.LastSeen = time.Time{}, time.Time{}
	must(t, d.RegisterDevice(ctx, zero))
	got, err = d.Device(ctx, zero.App, zero.KeyID)
	must(t, err)
	if !got.FirstSeen.IsZero() || !got.LastSeen.IsZero() || !got.RevokedAt.IsZero() {
		t.Errorf("zero times came back as %v, %v, %v", got.FirstSeen, got.LastSeen, got.RevokedAt)
	}
	seen := time.Date(2026, 1, 2, 3, 4, 5, 6007008, india)
	must(t, d.AdvanceCounter(ctx, zero.App, zero.KeyID, 1, seen))
	got, err = d.Device(ctx, zero.App, zero.KeyID)
	must(t, err)
	if !sameTime(got.LastSeen, seen) {
		t.Errorf("LastSeen: got %v, want %v in UTC", got.LastSeen, seen.UTC())
	}
}

func durAdvance(t *testing.T, d store.Durable) {
	ctx := context.Background()
	dev := sample("app", "counter")
	dev.Counter = 5
	must(t, d.RegisterDevice(ctx, dev))
	seen := dev.LastSeen.Add(time.Hour)
	for _, c := range []uint64{5, 4, 0} {
		if err := d.AdvanceCounter(ctx, "app", "counter", c, seen); !errors.Is(err, store.ErrCounterNotIncreased) {
			t.Fatalf("AdvanceCounter(%d) over 5: got %v, want ErrCounterNotIncreased", c, err)
		}
	}
	got, err := d.Device(ctx, "app", "counter")
	must(t, err)
	if got.Counter != 5 || !sameTime(got.LastSeen, dev.LastSeen) {
		t.Fatalf("refused advances changed the device: counter %d, last seen %v", got.Counter, got.LastSeen)
	}
	must(t, d.AdvanceCounter(ctx, "app", "counter", 6, seen))
	must(t, d.AdvanceCounter(ctx, "app", "counter", 1000, seen.Add(time.Second)))
	got, err = d.Device(ctx, "app", "counter")
	must(t, err)
	if got.Counter != 1000 || !sameTime(got.LastSeen, seen.Add(time.Second)) {
		t.Fatalf("after advancing to 1000: counter %d, last seen %v", got.Counter, got.LastSeen)
	}
	if err := d.AdvanceCounter(ctx, "app", "counter", 999, seen); !errors.Is(err, store.ErrCounterNotIncreased) {
		t.Fatalf("AdvanceCounter(999) over 1000: got %v", err)
	}
	must(t, d.AdvanceCounter(ctx, "app", "counter", math.MaxInt64, seen))
	got, err = d.Device(ctx, "app", "counter")
	must(t, err)
	if got.Counter != math.MaxInt64 {
		t.Fatalf("counter: got %d, want MaxInt64", got.Counter)
	}
	if err := d.AdvanceCounter(ctx, "app", "unknown", 1, seen); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AdvanceCounter of an unknown device: got %v, want ErrNotFound", err)
	}
}

// durAdvanceSameValue: in each round, 16 goroutines assert one counter
// value at once (a replayed or cloned assertion); exactly one must win.
func durAdvanceSameValue(t *testing.T, d store.Durable) {
	ctx := context.Background()
	must(t, d.RegisterDevice(ctx, sample("app", "same")))
	for v := uint64(1); v <= 20; v++ {
		var wins, fails atomic.Int64
		race(16, func(int) {
			err := d.AdvanceCounter(ctx, "app", "same", v, time.Now())
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, store.ErrCounterNotIncreased):
				t.Errorf("AdvanceCounter(%d): %v", v, err)
				fails.Add(1)
			}
		})
		if wins.Load() != 1 || fails.Load() != 0 {
			t.Fatalf("value %d asserted by 16 goroutines at once: %d succeeded, %d failed; want exactly 1", v, wins.Load(), fails.Load())
		}
	}
}

// durAdvanceEveryValue: 16 goroutines each try every counter 1..50 in
// order. Each value succeeds at most once, 50 succeeds, and the stored
// counter ends at 50.
func durAdvanceEveryValue(t *testing.T, d store.Durable) {
	ctx := context.Background()
	const top = 50
	must(t, d.RegisterDevice(ctx, sample("app", "every")))
	var mu sync.Mutex
	wins := make(map[uint64]int)
	total := 0
	race(16, func(int) {
		for v := uint64(1); v <= top; v++ {
			err := d.AdvanceCounter(ctx, "app", "every", v, time.Now())
			if err != nil && !errors.Is(err, store.ErrCounterNotIncreased) {
				t.Errorf("AdvanceCounter(%d): %v", v, err)
				return
			}
			if err == nil {
				mu.Lock()
				wins[v]++
				total++
				mu.Unlock()
			}
		}
	})
	for v, n := range wins {
		if n != 1 {
			t.Errorf("counter %d accepted %d times, want at most once", v, n)
		}
	}
	if wins[top] != 1 || total != len(wins) || total > top {
		t.Errorf("successes: %d over %d values, %d for the top value", total, len(wins), wins[top])
	}
	got, err := d.Device(ctx, "app", "every")
	must(t, err)
	if got.Counter != top {
		t.Errorf("final counter: got %d, want %d", got.Counter, top)
	}
}

func durRevoke(t *testing.T, d store.Durable) {
	ctx := context.Background()
	at := time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
	if err := d.RevokeDevice(ctx, "app", "unknown", at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RevokeDevice of an unknown device: got %v, want ErrNotFound", err)
	}
	must(t, d.RegisterDevice(ctx, sample("app", "k1")))
	must(t, d.RegisterDevice(ctx, sample("app", "k2")))
	g0 := generation(t, d)
	must(t, d.RevokeDevice(ctx, "app", "k1", at))
	g1 := generation(t, d)
	if g1 <= g0 {
		t.Fatalf("generation after a revocation: %d, want more than %d", g1, g0)
	}
	got, err := d.Device(ctx, "app", "k1")
	must(t, err)
	if !sameTime(got.RevokedAt, at) {
		t.Fatalf("RevokedAt: got %v, want %v", got.RevokedAt, at)
	}
	must(t, d.RevokeDevice(ctx, "app", "k1", at.Add(time.Hour)))
	got, err = d.Device(ctx, "app", "k1")
	must(t, err)
	if !sameTime(got.RevokedAt, at) {
		t.Fatalf("RevokedAt after a second revocation: got %v, want the first, %v", got.RevokedAt, at)
	}
	if err := d.RegisterDevice(ctx, sample("app", "k1")); !errors.Is(err, store.ErrExists) {
		t.Fatalf("re-registering a revoked device: got %v, want ErrExists", err)
	}
	s, err := d.Snapshot(ctx)
	must(t, err)
	if len(s.Revoked) != 1 || !sameTime(s.Revoked["app/k1"], at) {
		t.Fatalf("Snapshot.Revoked: got %v, want only app/k1 at %v", s.Revoked, at)
	}
}

func generation(t *testing.T, d store.Durable) uint64 {
	t.Helper()
	g, err := d.Generation(context.Background())
	must(t, err)
	return g
}
