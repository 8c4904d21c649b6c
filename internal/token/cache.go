package token

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"
)

const cacheShards = 16

// Cache remembers verified tokens, so that a token presented again costs
// a SHA-256 and a map look-up instead of a signature check. It is keyed
// by the SHA-256 of the whole token, so two spellings of one signature
// (JWT-14's (r, n-s)) are two entries, each verified on its own.
//
// An entry is never served after the token's exp, after the issuer's max
// age, after the cache TTL, or once the key set its key came from has
// changed (its generation moved on: a refresh or unknown-kid refetch
// brought another set), so a key removed from its set stops verifying
// cached tokens at once too. Only tokens that verified are stored, so an
// attacker cannot fill the cache with tokens of their own making.
//
// The cache is a 16-way sharded LRU bounded in entries.
type Cache struct {
	ttl    time.Duration
	per    int
	shards [cacheShards]cacheShard
	hits   atomic.Int64
	misses atomic.Int64
}

type cacheShard struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]*list.Element
	ll list.List
}

type cacheEntry struct {
	key [sha256.Size]byte
	tok *Token
}

// Default cache bounds.
const (
	DefaultCacheEntries = 10000
	DefaultCacheTTL     = 5 * time.Minute
)

// NewCache returns a cache of at most entries tokens (if zero, 10000),
// each kept at most ttl (if zero, 5m).
func NewCache(entries int, ttl time.Duration) *Cache {
	if entries <= 0 {
		entries = DefaultCacheEntries
	}
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	c := &Cache{ttl: ttl, per: max(1, (entries+cacheShards-1)/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[[sha256.Size]byte]*list.Element)
	}
	return c
}

// Stats returns the hits and misses so far.
func (c *Cache) Stats() (hits, misses int64) { return c.hits.Load(), c.misses.Load() }

// Len returns the number of entries.
func (c *Cache) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

func (c *Cache) get(key [sha256.Size]byte, now time.Time) *Token {
	s := &c.shards[key[0]%cacheShards]
	s.mu.Lock()
	e, ok := s.m[key]
	if !ok {
		s.mu.Unlock()
		c.misses.Add(1)
		return nil
	}
	t := e.Value.(*cacheEntry).tok
	if !now.Before(t.until) || (t.src != nil && t.src.current().gen != t.gen) {
		s.ll.Remove(e)
		delete(s.m, key)
		s.mu.Unlock()
		c.misses.Add(1)
		return nil
	}
	s.ll.MoveToFront(e)
	s.mu.Unlock()
	c.hits.Add(1)
	return t
}

func (c *Cache) put(key [sha256.Size]byte, t *Token, now time.Time) {
	until := now.Add(c.ttl)
	if !t.until.IsZero() && t.until.Before(until) {
		until = t.until
	}
	if !until.After(now) {
		return
	}
	t.until = until
	s := &c.shards[key[0]%cacheShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok {
		e.Value.(*cacheEntry).tok = t
		s.ll.MoveToFront(e)
		return
	}
	s.m[key] = s.ll.PushFront(&cacheEntry{key: key, tok: t})
	for len(s.m) > c.per {
		last := s.ll.Back()
		s.ll.Remove(last)
		delete(s.m, last.Value.(*cacheEntry).key)
	}
}
