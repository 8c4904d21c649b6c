package memory

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/internal/backend"
)

// HotOptions configure a Hot. The zero value is ready to use.
type HotOptions struct {
	// Now is the clock that deadlines are computed from. If nil,
	// time.Now is used.
	Now func() time.Time
	// SweepInterval is how often expired entries are removed. If zero,
	// one second is used; if negative, no sweeper runs and expired entries
	// are removed only when their key is touched again (memory then grows
	// with keys never touched again: for tests only).
	SweepInterval time.Duration
	// MaxKeys caps the number of entries held, expired ones included until
	// swept. Past it Claim and Put fail with store.ErrUnavailable. If zero,
	// there is no cap.
	MaxKeys int
}

// shardCount spreads lock contention; a power of two so that a mask picks
// the shard.
const shardCount = 64

// claimed is the value a Claim stores, as Redis stores "1": Take on a
// claimed key returns it.
const claimed = "1"

// entry is one key's value and deadline. The value is a string: one word
// smaller than a slice, and immutable, so a claim shares the constant.
type entry struct {
	val string
	// exp is the deadline in Unix nanoseconds: the entry is gone at exp.
	exp int64
}

type shard struct {
	mu sync.Mutex
	m  map[string]entry
}

// Hot is store.Hot in memory.
type Hot struct {
	now     func() time.Time
	max     int64
	seed    maphash.Seed
	shards  [shardCount]shard
	n       atomic.Int64
	closed  atomic.Bool
	stop    chan struct{}
	stopped sync.WaitGroup
	once    sync.Once
}

// NewHot returns an empty Hot and starts its sweeper. Close stops it.
func NewHot(opts HotOptions) *Hot {
	h := &Hot{now: opts.Now, max: int64(opts.MaxKeys), seed: maphash.MakeSeed(), stop: make(chan struct{})}
	if h.now == nil {
		h.now = time.Now
	}
	for i := range h.shards {
		h.shards[i].m = make(map[string]entry)
	}
	interval := opts.SweepInterval
	if interval == 0 {
		interval = time.Second
	}
	if interval > 0 {
		h.stopped.Add(1)
		go h.sweeper(interval)
	}
	return h
}

var errClosed = errors.New("closed")

func (h *Hot) shard(key string) *shard {
	return &h.shards[maphash.String(h.seed, key)&(shardCount-1)]
}

// begin runs the checks every operation starts with.
func (h *Hot) begin(ctx context.Context, op, key string) error {
	if err := backend.Done("memory: "+op, ctx); err != nil {
		return err
	}
	if h.closed.Load() {
		return backend.Unavailable("memory: "+op, errClosed)
	}
	return backend.CheckKey("key", key)
}

// deadline is now+ttl in Unix nanoseconds, saturating instead of wrapping.
func deadline(now int64, ttl time.Duration) int64 {
	if int64(ttl) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(ttl)
}

// Claim implements store.Hot.
func (h *Hot) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := h.begin(ctx, "claim", key); err != nil {
		return false, err
	}
	if err := backend.CheckTTL(ttl); err != nil {
		return false, err
	}
	now := h.now().UnixNano()
	s := h.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if ok && now < e.exp {
		return false, nil
	}
	if !ok && h.full() {
		return false, backend.Unavailable("memory: claim", h.fullErr())
	}
	s.m[key] = entry{val: claimed, exp: deadline(now, ttl)}
	if !ok {
		h.n.Add(1)
	}
	return true, nil
}

// Put implements store.Hot.
func (h *Hot) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := h.begin(ctx, "put", key); err != nil {
		return err
	}
	if err := backend.CheckTTL(ttl); err != nil {
		return err
	}
	val := string(value) // a copy: the caller may reuse value
	now := h.now().UnixNano()
	s := h.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[key]
	if !ok && h.full() {
		return backend.Unavailable("memory: put", h.fullErr())
	}
	s.m[key] = entry{val: val, exp: deadline(now, ttl)}
	if !ok {
		h.n.Add(1)
	}
	return nil
}

// Take implements store.Hot.
func (h *Hot) Take(ctx context.Context, key string) ([]byte, bool, error) {
	if err := h.begin(ctx, "take", key); err != nil {
		return nil, false, err
	}
	now := h.now().UnixNano()
	s := h.shard(key)
	s.mu.Lock()
	e, ok := s.m[key]
	if ok {
		delete(s.m, key)
		h.n.Add(-1)
	}
	s.mu.Unlock()
	if !ok || now >= e.exp {
		return nil, false, nil
	}
	return []byte(e.val), true, nil
}

func (h *Hot) full() bool { return h.max > 0 && h.n.Load() >= h.max }

func (h *Hot) fullErr() error { return fmt.Errorf("full: %d keys held (MaxKeys)", h.max) }

// Len returns the number of entries held, expired ones not yet swept
// included.
func (h *Hot) Len() int { return int(h.n.Load()) }

// Sweep removes every expired entry now. The sweeper calls it every
// SweepInterval.
func (h *Hot) Sweep() {
	now := h.now().UnixNano()
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.Lock()
		for k, e := range s.m {
			if now >= e.exp {
				delete(s.m, k)
				h.n.Add(-1)
			}
		}
		s.mu.Unlock()
	}
}

func (h *Hot) sweeper(interval time.Duration) {
	defer h.stopped.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.Sweep()
		}
	}
}

// Close stops the sweeper and drops every entry; later calls fail. It may
// be called more than once.
func (h *Hot) Close() error {
	h.once.Do(func() {
		h.closed.Store(true)
		close(h.stop)
		h.stopped.Wait()
		for i := range h.shards {
			s := &h.shards[i]
			s.mu.Lock()
			s.m = make(map[string]entry)
			s.mu.Unlock()
		}
		h.n.Store(0)
	})
	return nil
}

var _ store.Hot = (*Hot)(nil)
