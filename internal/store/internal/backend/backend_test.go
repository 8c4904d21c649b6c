package backend

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store"
)

func TestChecks(t *testing.T) {
	long := strings.Repeat("k", store.MaxKeyLen)
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"key", CheckKey("key", "k"), true},
		{"longest key", CheckKey("key", long), true},
		{"binary key", CheckKey("key", "\x00\xff{}"), true},
		{"empty key", CheckKey("key", ""), false},
		{"key too long", CheckKey("key", long+"k"), false},
		{"name", CheckName("app", "ios-app"), true},
		{"name with NUL", CheckName("app", "a\x00"), false},
		{"name not UTF-8", CheckName("app", "a\xff"), false},
		{"ttl 1ms", CheckTTL(time.Millisecond), true},
		{"ttl below 1ms", CheckTTL(time.Millisecond - 1), false},
		{"counter MaxInt64", CheckCounter(math.MaxInt64), true},
		{"counter above", CheckCounter(math.MaxInt64 + 1), false},
		{"revocation", CheckRevocation("a", "k", time.Now()), true},
		{"zero revocation", CheckRevocation("a", "k", time.Time{}), false},
		{"revoked device", CheckDevice(store.Device{App: "a", KeyID: "k", RevokedAt: time.Now()}), false},
	}
	for _, tt := range tests {
		if tt.ok != (tt.err == nil) || tt.err != nil && !errors.Is(tt.err, store.ErrInvalid) {
			t.Errorf("%s: got %v, want ok=%v or ErrInvalid", tt.name, tt.err, tt.ok)
		}
	}
	if err := CheckKey("key", "secret-nonce-value\x00"+long); strings.Contains(err.Error(), "secret") {
		t.Errorf("the error quotes the key: %v", err)
	}
}

func TestTime(t *testing.T) {
	in := time.Date(2025, 1, 2, 3, 4, 5, 6007008, time.FixedZone("X", 3600))
	got := Time(in)
	if got.Location() != time.UTC || !got.Equal(time.Date(2025, 1, 2, 2, 4, 5, 6007000, time.UTC)) {
		t.Errorf("Time: got %v", got)
	}
	if !Time(time.Time{}).IsZero() {
		t.Error("the zero time did not stay zero")
	}
	if now := Time(time.Now()); now != now.Round(0) {
		t.Error("Time kept the monotonic reading")
	}
}

func TestUnavailable(t *testing.T) {
	if Unavailable("op", nil) != nil {
		t.Fatal("Unavailable(nil) is not nil")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Done("memory: claim", ctx)
	if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Done: %v", err)
	}
	if want := "memory: claim: store: unavailable: context canceled"; err.Error() != want {
		t.Errorf("message: %q, want %q", err, want)
	}
}
