package storetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store"
)

// TestHot checks a store.Hot backend. open returns a fresh store for one
// subtest.
func TestHot(t *testing.T, open func(t *testing.T) store.Hot) {
	tests := []struct {
		name string
		run  func(t *testing.T, h store.Hot)
		// parallel subtests sleep; they run alongside each other.
		parallel bool
	}{
		{"ClaimFirstAndSecond", hotClaimTwice, false},
		{"ClaimAfterExpiry", hotClaimExpiry, true},
		{"ClaimRejectsShortTTL", hotShortTTL, false},
		{"ConcurrentClaim", hotConcurrentClaim, false},
		{"PutTake", hotPutTake, false},
		{"TakeAfterExpiry", hotTakeExpiry, true},
		{"ConcurrentTake", hotConcurrentTake, false},
		{"KeysAndValues", hotKeysAndValues, false},
		{"SharedKeySpace", hotSharedKeySpace, false},
		{"CancelledContext", hotCancelled, false},
		{"Closed", hotClosed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.parallel {
				t.Parallel()
			}
			tt.run(t, open(t))
		})
	}
}

func hotClaimTwice(t *testing.T, h store.Hot) {
	ctx := context.Background()
	k := unique("claim:")
	first, err := h.Claim(ctx, k, time.Minute)
	must(t, err)
	if !first {
		t.Fatal("first Claim: got false, want true")
	}
	for i := range 3 {
		again, err := h.Claim(ctx, k, time.Minute)
		must(t, err)
		if again {
			t.Fatalf("Claim #%d of a claimed key: got true, want false", i+2)
		}
	}
	other, err := h.Claim(ctx, k+"x", time.Minute)
	must(t, err)
	if !other {
		t.Fatal("Claim of another key: got false, want true")
	}
}

func hotClaimExpiry(t *testing.T, h store.Hot) {
	ctx := context.Background()
	const ttl = 150 * time.Millisecond
	k := unique("expiry:")
	start := time.Now()
	first, err := h.Claim(ctx, k, ttl)
	must(t, err)
	if !first {
		t.Fatal("first Claim: got false")
	}
	time.Sleep(ttl / 3)
	again, err := h.Claim(ctx, k, ttl)
	must(t, err)
	if again && time.Since(start) < ttl {
		t.Fatalf("Claim %v into a %v ttl: got true, want false (the claim expired early)", time.Since(start), ttl)
	}
	time.Sleep(2*ttl - time.Since(start))
	after, err := h.Claim(ctx, k, ttl)
	must(t, err)
	if !after {
		t.Fatalf("Claim %v after a %v claim: got false, want true (the claim did not expire)", time.Since(start), ttl)
	}
	again, err = h.Claim(ctx, k, ttl)
	must(t, err)
	if again {
		t.Fatal("Claim right after a renewed claim: got true, want false")
	}
}

func hotShortTTL(t *testing.T, h store.Hot) {
	ctx := context.Background()
	for _, ttl := range []time.Duration{0, -time.Second, time.Millisecond - 1, time.Nanosecond} {
		if _, err := h.Claim(ctx, unique("ttl:"), ttl); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Claim with ttl %v: got %v, want ErrInvalid", ttl, err)
		}
		if err := h.Put(ctx, unique("ttl:"), []byte("v"), ttl); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Put with ttl %v: got %v, want ErrInvalid", ttl, err)
		}
	}
	ok, err := h.Claim(ctx, unique("ttl:"), time.Millisecond)
	if err != nil || !ok {
		t.Errorf("Claim with ttl 1ms: got %v, %v; want true, nil", ok, err)
	}
}

func hotConcurrentClaim(t *testing.T, h store.Hot) {
	ctx := context.Background()
	for round := range 20 {
		k := unique("race:")
		var wins, fails atomic.Int64
		race(32, func(int) {
			ok, err := h.Claim(ctx, k, time.Minute)
			switch {
			case err != nil:
				fails.Add(1)
			case ok:
				wins.Add(1)
			}
		})
		if fails.Load() != 0 || wins.Load() != 1 {
			t.Fatalf("round %d: 32 concurrent Claims of one key: %d won, %d failed; want exactly 1 winner", round, wins.Load(), fails.Load())
		}
	}
}

func hotPutTake(t *testing.T, h store.Hot) {
	ctx := context.Background()
	k := unique("put:")
	if _, ok, err := h.Take(ctx, k); err != nil || ok {
		t.Fatalf("Take of a missing key: got ok=%v, %v; want false, nil", ok, err)
	}
	must(t, h.Put(ctx, k, []byte("first"), time.Minute))
	must(t, h.Put(ctx, k, []byte("second"), time.Minute))
	v, ok, err := h.Take(ctx, k)
	must(t, err)
	if !ok || string(v) != "second" {
		t.Fatalf("Take: got %q, %v; want %q, true (Put replaces)", v, ok, "second")
	}
	if v, ok, err := h.Take(ctx, k); err != nil || ok {
		t.Fatalf("second Take: got %q, ok=%v, %v; want not ok", v, ok, err)
	}
	// Put after Take stores again; the stored value is a copy.
	buf := []byte("third")
	must(t, h.Put(ctx, k, buf, time.Minute))
	copy(buf, "XXXXX")
	v, ok, err = h.Take(ctx, k)
	must(t, err)
	if !ok || string(v) != "third" {
		t.Fatalf("Take after the caller reused its buffer: got %q, %v; want %q", v, ok, "third")
	}
	// An empty value is a value.
	must(t, h.Put(ctx, k, nil, time.Minute))
	v, ok, err = h.Take(ctx, k)
	if err != nil || !ok || len(v) != 0 {
		t.Fatalf("Take of an empty value: got %q, %v, %v; want empty, true", v, ok, err)
	}
}

func hotTakeExpiry(t *testing.T, h store.Hot) {
	ctx := context.Background()
	const ttl = 100 * time.Millisecond
	k, kept := unique("texp:"), unique("tkeep:")
	start := time.Now()
	must(t, h.Put(ctx, k, []byte("v"), ttl))
	must(t, h.Put(ctx, kept, []byte("v"), 300*ttl))
	time.Sleep(2 * ttl)
	if v, ok, err := h.Take(ctx, k); err != nil || ok {
		t.Fatalf("Take %v after a %v Put: got %q, ok=%v, %v; want not ok", time.Since(start), ttl, v, ok, err)
	}
	if _, ok, err := h.Take(ctx, kept); err != nil || !ok {
		t.Fatalf("Take of a live key: got ok=%v, %v; want ok", ok, err)
	}
}

func hotConcurrentTake(t *testing.T, h store.Hot) {
	ctx := context.Background()
	for round := range 20 {
		k := unique("take:")
		want := []byte("challenge-" + k)
		must(t, h.Put(ctx, k, want, time.Minute))
		var wins, fails atomic.Int64
		var got atomic.Value
		race(32, func(int) {
			v, ok, err := h.Take(ctx, k)
			switch {
			case err != nil:
				fails.Add(1)
			case ok:
				wins.Add(1)
				got.Store(v)
			}
		})
		if fails.Load() != 0 || wins.Load() != 1 {
			t.Fatalf("round %d: 32 concurrent Takes: %d got the value, %d failed; want exactly 1", round, wins.Load(), fails.Load())
		}
		if v := got.Load().([]byte); !bytes.Equal(v, want) {
			t.Fatalf("round %d: the winner got %q, want %q", round, v, want)
		}
	}
}

func hotKeysAndValues(t *testing.T, h store.Hot) {
	ctx := context.Background()
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	// A key of every byte value, braces included, as long as allowed.
	long := []byte(unique("long:"))
	for len(long) < store.MaxKeyLen {
		long = append(long, all[len(long)%256])
	}
	key := string(long)
	big := bytes.Repeat(all, 256) // 64 KiB
	for _, v := range [][]byte{all, big} {
		must(t, h.Put(ctx, key, v, time.Minute))
		got, ok, err := h.Take(ctx, key)
		must(t, err)
		if !ok || !bytes.Equal(got, v) {
			t.Fatalf("binary value of %d bytes did not round-trip (ok=%v, got %d bytes)", len(v), ok, len(got))
		}
	}
	// Keys differing only in their last byte are different keys.
	a, b := key[:len(key)-1]+"a", key[:len(key)-1]+"b"
	for _, k := range []string{a, b} {
		ok, err := h.Claim(ctx, k, time.Minute)
		if err != nil || !ok {
			t.Fatalf("Claim of a long key: got %v, %v", ok, err)
		}
	}
	for _, k := range []string{"", key + "x", strings.Repeat("k", 4*store.MaxKeyLen)} {
		if _, err := h.Claim(ctx, k, time.Minute); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Claim of a %d-byte key: got %v, want ErrInvalid", len(k), err)
		}
		if err := h.Put(ctx, k, all, time.Minute); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Put of a %d-byte key: got %v, want ErrInvalid", len(k), err)
		}
		if _, _, err := h.Take(ctx, k); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Take of a %d-byte key: got %v, want ErrInvalid", len(k), err)
		}
	}
}

func hotSharedKeySpace(t *testing.T, h store.Hot) {
	ctx := context.Background()
	k := unique("shared:")
	must(t, h.Put(ctx, k, []byte("v"), time.Minute))
	if ok, err := h.Claim(ctx, k, time.Minute); err != nil || ok {
		t.Fatalf("Claim of a key holding a value: got %v, %v; want false", ok, err)
	}
	if _, ok, err := h.Take(ctx, k); err != nil || !ok {
		t.Fatalf("Take: got ok=%v, %v; want ok", ok, err)
	}
	if ok, err := h.Claim(ctx, k, time.Minute); err != nil || !ok {
		t.Fatalf("Claim after Take: got %v, %v; want true", ok, err)
	}
}

func hotCancelled(t *testing.T, h store.Hot) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for name, ctx := range map[string]context.Context{"cancelled": cancelled, "past deadline": expired} {
		k := unique("ctx:")
		start := time.Now()
		_, err1 := h.Claim(ctx, k, time.Minute)
		err2 := h.Put(ctx, k, []byte("v"), time.Minute)
		_, _, err3 := h.Take(ctx, k)
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s context: three calls took %v, want prompt errors", name, d)
		}
		for i, err := range []error{err1, err2, err3} {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s context, call %d: got %v, want a context error", name, i+1, err)
			}
			if !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("%s context, call %d: got %v, want it to wrap ErrUnavailable", name, i+1, err)
			}
		}
		// Nothing was stored under the cancelled context.
		if ok, err := h.Claim(context.Background(), k, time.Minute); err != nil || !ok {
			t.Errorf("%s context: Claim afterwards: got %v, %v; want true", name, ok, err)
		}
	}
	// A deadline that passes during a call also ends it.
	ctx, cancel3 := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel3()
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		if _, err := h.Claim(ctx, unique("deadline:"), time.Minute); err != nil {
			if !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("Claim past its deadline: got %v, want ErrUnavailable", err)
			}
			return
		}
	}
	t.Error("Claim kept succeeding 2s past a 1ms deadline")
}

func hotClosed(t *testing.T, h store.Hot) {
	ctx := context.Background()
	must(t, h.Close())
	if ok, err := h.Claim(ctx, unique("closed:"), time.Minute); err == nil {
		t.Errorf("Claim after Close: got %v, nil; want an error (fail closed)", ok)
	}
	if _, ok, err := h.Take(ctx, unique("closed:")); err == nil {
		t.Errorf("Take after Close: got ok=%v, nil; want an error", ok)
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
