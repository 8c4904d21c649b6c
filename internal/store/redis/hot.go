package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/internal/backend"
)

// DefaultPrefix is the key prefix when Options.Prefix is empty.
const DefaultPrefix = "drawbridge:"

// Options configure a Hot.
type Options struct {
	// URL locates Redis: one server, a Sentinel-monitored master or a
	// Cluster. See ParseURL. Required.
	URL string
	// Prefix is put before every key, so that several deployments (or
	// other programs) can share one Redis. It may not contain '{' or '}',
	// which would change Cluster's hash slots. If empty, DefaultPrefix.
	Prefix string
}

// Hot is store.Hot on Redis.
type Hot struct {
	client goredis.UniversalClient
	prefix string
	once   sync.Once
}

// Open connects to Redis, checks that every server (every master of a
// Cluster) runs Redis 6.2 or newer, and returns the Hot. An unreachable
// server is an error wrapping store.ErrUnavailable.
func Open(ctx context.Context, opts Options) (*Hot, error) {
	uo, err := ParseURL(opts.URL)
	if err != nil {
		return nil, err
	}
	// Maintenance notifications are a Redis Cloud feature; probing for
	// them logs noise against self-hosted servers.
	uo.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	h, err := New(goredis.NewUniversalClient(uo), opts.Prefix)
	if err != nil {
		return nil, err
	}
	if err := checkVersions(ctx, h.client); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// New returns a Hot over a client the caller configured. It does not
// check the server version: Open does. Close closes the client.
func New(client goredis.UniversalClient, prefix string) (*Hot, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if strings.ContainsAny(prefix, "{}") {
		client.Close()
		return nil, errors.New("redis: prefix may not contain '{' or '}' (they set Cluster hash slots)")
	}
	return &Hot{client: client, prefix: prefix}, nil
}

// key is the Redis key for a caller's key: see the package doc on Cluster
// for why a key holding '{' gets an empty tag first.
func (h *Hot) key(k string) string {
	if strings.IndexByte(k, '{') >= 0 {
		return h.prefix + "{}" + k
	}
	return h.prefix + k
}

// millis is ttl in whole milliseconds, rounded up.
func millis(ttl time.Duration) int64 {
	return int64((ttl + time.Millisecond - 1) / time.Millisecond)
}

func (h *Hot) begin(ctx context.Context, op, key string) error {
	if err := backend.Done("redis: "+op, ctx); err != nil {
		return err
	}
	return backend.CheckKey("key", key)
}

// Claim implements store.Hot with SET key 1 NX PX ttl.
func (h *Hot) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := h.begin(ctx, "claim", key); err != nil {
		return false, err
	}
	if err := backend.CheckTTL(ttl); err != nil {
		return false, err
	}
	err := h.client.Do(ctx, "SET", h.key(key), "1", "PX", millis(ttl), "NX").Err()
	if errors.Is(err, goredis.Nil) {
		return false, nil // the key exists: not first
	}
	if err != nil {
		return false, backend.Unavailable("redis: claim", err)
	}
	return true, nil
}

// Put implements store.Hot with SET key value PX ttl.
func (h *Hot) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := h.begin(ctx, "put", key); err != nil {
		return err
	}
	if err := backend.CheckTTL(ttl); err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	return backend.Unavailable("redis: put", h.client.Do(ctx, "SET", h.key(key), value, "PX", millis(ttl)).Err())
}

// Take implements store.Hot with GETDEL.
func (h *Hot) Take(ctx context.Context, key string) ([]byte, bool, error) {
	if err := h.begin(ctx, "take", key); err != nil {
		return nil, false, err
	}
	v, err := h.client.GetDel(ctx, h.key(key)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, backend.Unavailable("redis: take", err)
	}
	return v, true, nil
}

// Close closes the client. It may be called more than once.
func (h *Hot) Close() error {
	var err error
	h.once.Do(func() { err = h.client.Close() })
	if err != nil {
		return fmt.Errorf("redis: close: %w", err)
	}
	return nil
}

var _ store.Hot = (*Hot)(nil)
