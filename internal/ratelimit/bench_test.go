package ratelimit_test

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/ratelimit"
)

// benchKeys are bucket keys shaped like the gateway's (route, limit,
// base64url of a hash).
func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "api/per-ip/" + strconv.FormatUint(uint64(i)*0x9E3779B97F4A7C15, 36)
	}
	return keys
}

// BenchmarkMemory is one request against one limit, over 10,000 clients.
func BenchmarkMemory(b *testing.B) {
	benchMemory(b, 1)
}

// BenchmarkMemoryThreeLimits is one request against three limits.
func BenchmarkMemoryThreeLimits(b *testing.B) {
	benchMemory(b, 3)
}

func benchMemory(b *testing.B, limits int) {
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{})
	keys := benchKeys(10_000)
	requests := make([][]ratelimit.Check, len(keys))
	for r, k := range keys {
		for i := range limits {
			requests[r] = append(requests[r], ratelimit.Check{Limit: ratelimit.Limit{Name: "l", Count: 1_000_000, Period: time.Second}, Key: k + strconv.Itoa(i)})
		}
	}
	var next atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		out := make([]ratelimit.Result, limits)
		for pb.Next() {
			if _, err := m.Take(context.Background(), "", requests[next.Add(1)%uint64(len(requests))], out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMemoryMillionKeys measures the heap a Memory store holds per
// bucket with a million buckets alive (reported as bytes/key): run with
// -bench MemoryMillionKeys -benchtime 1x.
func BenchmarkMemoryMillionKeys(b *testing.B) {
	const n = 1_000_000
	keys := benchKeys(n)
	limit := ratelimit.Limit{Name: "l", Count: 100, Period: time.Hour}
	out := make([]ratelimit.Result, 1)
	for range b.N {
		before := heap()
		// A bound above n: shards fill unevenly, and none must evict.
		m := ratelimit.NewMemory(ratelimit.MemoryOptions{MaxKeys: 2 * n})
		for _, k := range keys {
			if _, err := m.Take(context.Background(), "", []ratelimit.Check{{Limit: limit, Key: k}}, out); err != nil {
				b.Fatal(err)
			}
		}
		after := heap()
		if m.Len() != n {
			b.Fatalf("%d buckets held, want %d", m.Len(), n)
		}
		b.ReportMetric(float64(after-before)/n, "bytes/key")
		runtime.KeepAlive(m)
	}
}

func heap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
