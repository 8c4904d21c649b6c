package ratelimit

import (
	"context"
	"hash/maphash"
	"math/bits"
	"slices"
	"sync"
	"time"
)

// DefaultMaxKeys is the bound of a Memory store when MemoryOptions.MaxKeys
// is zero.
const DefaultMaxKeys = 1_000_000

// MemoryOptions configure a Memory store. The zero value is usable.
type MemoryOptions struct {
	// Now is the clock. If nil, time.Now.
	Now func() time.Time
	// MaxKeys bounds the buckets held, so that a flood of new clients
	// (spoofable header values, IPv6 networks) cannot exhaust memory. If
	// zero, DefaultMaxKeys. See Memory on what happens at the bound.
	MaxKeys int
}

// Memory is a Store in this process's memory: the limiter of a single
// node, and a replica's fallback when the shared store fails.
//
// Buckets are spread over shards, each a map from a 64-bit hash of the key
// to its TAT behind a mutex; a request locks the shards of its checks in
// ascending order (never deadlocking), so its limits are evaluated
// atomically. Hashes are keyed with a seed chosen per process (maphash),
// so that no client can choose colliding keys; accidental collisions,
// which would make two clients share a bucket, have a probability near
// n²/2^65: 3 × 10^-8 with a million buckets.
//
// A bucket whose TAT has passed is the same as no bucket, so it can be
// forgotten at any time. Each shard sweeps such buckets out after every
// MaxKeys/(2 × shards) insertions, which costs an amortised two map
// visits per insertion and needs no goroutine. A shard that is full of
// live buckets evicts, for each new bucket, the one with the earliest
// TAT among a few sampled: a bucket close to being forgotten anyway.
// Eviction forgives that client's recent requests; it only happens while
// more than MaxKeys clients are active within their burst windows.
type Memory struct {
	now    func() time.Time
	seed   maphash.Seed
	shards []memShard
	mask   uint64
}

type memShard struct {
	mu      sync.Mutex
	tats    map[uint64]int64
	max     int      // buckets this shard may hold
	inserts int      // since the last sweep
	_       [32]byte // one cache line per shard
}

// evictSamples is how many buckets a full shard looks at to choose one to
// evict.
const evictSamples = 8

// NewMemory returns an empty Memory store.
func NewMemory(o MemoryOptions) *Memory {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	// At most 64 shards of at least 1024 buckets (or one smaller shard):
	// little lock contention, and sweeps short enough for the request
	// path (16k buckets each at the default bound).
	n := 1 << min(6, max(0, bits.Len(uint(o.MaxKeys/1024))-1))
	m := &Memory{now: o.Now, seed: maphash.MakeSeed(), shards: make([]memShard, n), mask: uint64(n - 1)}
	per := (o.MaxKeys + n - 1) / n
	for i := range m.shards {
		m.shards[i].tats = make(map[uint64]int64)
		m.shards[i].max = per
	}
	return m
}

// Take implements Store. The group is not needed in memory.
func (m *Memory) Take(_ context.Context, _ string, checks []Check, out []Result) (bool, error) {
	if err := ValidateRequest(checks, out); err != nil {
		return false, err
	}
	var buf [MaxChecks]uint64
	hashes := buf[:len(checks)]
	var order [MaxChecks]int
	shards := order[:0]
	for i, c := range checks {
		hashes[i] = maphash.String(m.seed, c.Key)
		if s := int(hashes[i] & m.mask); !slices.Contains(shards, s) {
			shards = append(shards, s)
		}
	}
	slices.Sort(shards)
	for _, s := range shards {
		m.shards[s].mu.Lock()
	}
	defer func() {
		for _, s := range shards {
			m.shards[s].mu.Unlock()
		}
	}()
	now := Micros(m.now())
	var tbuf [MaxChecks]int64
	tats := tbuf[:len(checks)]
	for i, h := range hashes {
		tats[i] = m.shards[h&m.mask].tats[h]
	}
	if !Apply(checks, tats, now, out) {
		return false, nil
	}
	for i, h := range hashes {
		m.shards[h&m.mask].put(h, tats[i], now)
	}
	return true, nil
}

// put stores a TAT; the shard is locked.
func (s *memShard) put(h uint64, tat, now int64) {
	if _, ok := s.tats[h]; ok {
		s.tats[h] = tat
		return
	}
	s.inserts++
	if s.inserts >= max(s.max/2, 1) {
		s.sweep(now)
	}
	if len(s.tats) >= s.max {
		s.evict(now)
	}
	s.tats[h] = tat
}

// sweep forgets the buckets whose TAT has passed.
func (s *memShard) sweep(now int64) {
	for h, tat := range s.tats {
		if tat <= now {
			delete(s.tats, h)
		}
	}
	s.inserts = 0
}

// evict forgets one bucket: a forgettable one if a sample finds it, else
// the sampled one with the earliest TAT. Map iteration starts at a random
// place, so the sample is random.
func (s *memShard) evict(now int64) {
	var victim uint64
	earliest, n := int64(0), 0
	for h, tat := range s.tats {
		if tat <= now {
			victim = h
			break
		}
		if n == 0 || tat < earliest {
			victim, earliest = h, tat
		}
		if n++; n == evictSamples {
			break
		}
	}
	delete(s.tats, victim)
}

// Len is the number of buckets held, forgettable ones included.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.tats)
		s.mu.Unlock()
	}
	return n
}

var _ Store = (*Memory)(nil)
