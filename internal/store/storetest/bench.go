package storetest

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store"
)

// BenchmarkHot measures Claim and Take on h, from GOMAXPROCS goroutines
// (each on its own keys, as requests are).
func BenchmarkHot(b *testing.B, h store.Hot) {
	ctx := context.Background()
	run := unique("bench:")
	b.Run("Claim", func(b *testing.B) {
		var n atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := h.Claim(ctx, run+"c"+strconv.FormatInt(n.Add(1), 10), time.Minute); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("Take", func(b *testing.B) {
		// Put b.N values first; Take each once.
		for i := range b.N {
			if err := h.Put(ctx, run+"t"+strconv.Itoa(i), []byte("0123456789abcdef0123456789abcdef"), time.Minute); err != nil {
				b.Fatal(err)
			}
		}
		var n atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, ok, err := h.Take(ctx, run+"t"+strconv.FormatInt(n.Add(1)-1, 10)); err != nil || !ok {
					b.Errorf("Take: %v, %v", ok, err)
					return
				}
			}
		})
	})
}

// BenchmarkDurable measures AdvanceCounter on d: on one device from one
// goroutine (the latency of one assertion), and on many devices from
// GOMAXPROCS goroutines (throughput).
func BenchmarkDurable(b *testing.B, d store.Durable) {
	ctx := context.Background()
	app := unique("bench-")
	b.Run("AdvanceCounter", func(b *testing.B) {
		if err := d.RegisterDevice(ctx, sample(app, "one")); err != nil {
			b.Fatal(err)
		}
		var c uint64
		for b.Loop() {
			c++
			if err := d.AdvanceCounter(ctx, app, "one", c, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AdvanceCounterParallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			key := unique("dev-")
			if err := d.RegisterDevice(ctx, sample(app, key)); err != nil {
				b.Error(err)
				return
			}
			var c uint64
			for pb.Next() {
				c++
				if err := d.AdvanceCounter(ctx, app, key, c, time.Now()); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("Device", func(b *testing.B) {
		for b.Loop() {
			if _, err := d.Device(ctx, app, "one"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Sample returns a realistic device for benchmarks and sizing: a P-256
// PKIX key's size, a thumbprint, facts as JSON.
func Sample(app, keyID string) store.Device { return sample(app, keyID) }
