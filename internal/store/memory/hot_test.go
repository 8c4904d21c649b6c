package memory_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
	"github.com/drawbridge-gw/drawbridge/internal/store/storetest"
)

// clock is a settable time for exact expiry tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func TestExpiryIsExact(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	h := memory.NewHot(memory.HotOptions{Now: c.Now, SweepInterval: -1})
	defer h.Close()
	const ttl = 1500 * time.Microsecond
	if ok, _ := h.Claim(ctx, "k", ttl); !ok {
		t.Fatal("first Claim: false")
	}
	must(t, h.Put(ctx, "v", []byte("x"), ttl))
	c.Add(ttl - time.Nanosecond)
	if ok, _ := h.Claim(ctx, "k", ttl); ok {
		t.Fatal("Claim 1ns before expiry: true, want false")
	}
	c.Add(time.Nanosecond)
	if _, ok, _ := h.Take(ctx, "v"); ok {
		t.Fatal("Take at the deadline: ok, want gone")
	}
	if ok, _ := h.Claim(ctx, "k", ttl); !ok {
		t.Fatal("Claim at the deadline: false, want true")
	}
	// A ttl so long that now+ttl overflows never expires.
	if ok, _ := h.Claim(ctx, "forever", time.Duration(1<<63-1)); !ok {
		t.Fatal("Claim with the longest ttl: false")
	}
	c.Add(100 * 365 * 24 * time.Hour)
	if ok, _ := h.Claim(ctx, "forever", time.Second); ok {
		t.Fatal("a claim with the longest ttl expired")
	}
}

func TestSweeperBoundsMemory(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	h := memory.NewHot(memory.HotOptions{Now: c.Now, SweepInterval: -1})
	defer h.Close()
	for i := range 1000 {
		_, err := h.Claim(ctx, fmt.Sprint("short", i), time.Second)
		must(t, err)
	}
	_, err := h.Claim(ctx, "long", time.Hour)
	must(t, err)
	if h.Len() != 1001 {
		t.Fatalf("Len: %d, want 1001", h.Len())
	}
	h.Sweep()
	if h.Len() != 1001 {
		t.Fatalf("a sweep before expiry removed entries: Len %d", h.Len())
	}
	c.Add(time.Second)
	h.Sweep()
	if h.Len() != 1 {
		t.Fatalf("Len after sweeping expired entries: %d, want 1", h.Len())
	}

	// The background sweeper runs on its own.
	real := memory.NewHot(memory.HotOptions{SweepInterval: 5 * time.Millisecond})
	defer real.Close()
	_, err = real.Claim(ctx, "k", time.Millisecond)
	must(t, err)
	deadline := time.Now().Add(5 * time.Second)
	for real.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the sweeper did not remove an expired key within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestMaxKeysFailsClosed(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	h := memory.NewHot(memory.HotOptions{Now: c.Now, SweepInterval: -1, MaxKeys: 2})
	defer h.Close()
	for _, k := range []string{"a", "b"} {
		ok, err := h.Claim(ctx, k, time.Second)
		if !ok || err != nil {
			t.Fatalf("Claim(%s): %v, %v", k, ok, err)
		}
	}
	if ok, err := h.Claim(ctx, "c", time.Second); ok || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Claim past MaxKeys: got %v, %v; want false, ErrUnavailable", ok, err)
	}
	if err := h.Put(ctx, "c", nil, time.Second); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Put past MaxKeys: got %v, want ErrUnavailable", err)
	}
	// Existing keys can still be renewed, and a claimed key still refused.
	if ok, err := h.Claim(ctx, "a", time.Second); ok || err != nil {
		t.Fatalf("Claim of a held key at MaxKeys: %v, %v; want false, nil", ok, err)
	}
	c.Add(time.Second)
	h.Sweep()
	if ok, err := h.Claim(ctx, "c", time.Second); !ok || err != nil {
		t.Fatalf("Claim after the sweep freed room: %v, %v", ok, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func BenchmarkHot(b *testing.B) {
	h := memory.NewHot(memory.HotOptions{})
	defer h.Close()
	storetest.BenchmarkHot(b, h)
}

// BenchmarkBytesPerKey reports the heap held per claimed key at a million
// keys ("nonce:" and 22 base64 characters, as a DPoP jti would be).
func BenchmarkBytesPerKey(b *testing.B) {
	const n = 1_000_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("nonce:%022d", i)
	}
	ctx := context.Background()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		h := memory.NewHot(memory.HotOptions{SweepInterval: -1})
		for _, k := range keys {
			if _, err := h.Claim(ctx, k, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/key")
		runtime.KeepAlive(h)
		h.Close()
	}
}
