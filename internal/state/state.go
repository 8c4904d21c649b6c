// Package state opens the stores a config names. It is the one place that
// knows every backend, so that the gateway, the CLI and tests open them
// the same way, and no other package imports a database driver.
package state

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
	"github.com/drawbridge-gw/drawbridge/internal/store/postgres"
	"github.com/drawbridge-gw/drawbridge/internal/store/redis"
	"github.com/drawbridge-gw/drawbridge/internal/store/sqlite"
)

// Stores are the open stores of one process. They outlive config reloads.
type Stores struct {
	Hot     store.Hot
	Durable store.Durable
	// Redis is the Redis hot store when state.hot is a Redis URL, for
	// layers that need more than store.Hot (the rate limiter's script).
	Redis *redis.Hot
}

// Open opens the stores of s. Nothing is opened when it fails.
func Open(ctx context.Context, s config.State) (*Stores, error) {
	st := &Stores{}
	switch {
	case s.Hot == "memory" || s.Hot == "":
		st.Hot = memory.NewHot(memory.HotOptions{})
	default:
		h, err := redis.Open(ctx, redis.Options{URL: s.Hot})
		if err != nil {
			return nil, fmt.Errorf("state.hot: %w", err)
		}
		st.Hot, st.Redis = h, h
	}
	d, err := openDurable(ctx, s.Durable)
	if err != nil {
		st.Hot.Close()
		return nil, fmt.Errorf("state.durable: %w", err)
	}
	st.Durable = d
	return st, nil
}

// OpenDurable opens only the durable store a config names, for commands
// that manage durable state (API keys) without a gateway.
func OpenDurable(ctx context.Context, url string) (store.Durable, error) {
	d, err := openDurable(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("state.durable: %w", err)
	}
	return d, nil
}

func openDurable(ctx context.Context, url string) (store.Durable, error) {
	switch {
	case url == "memory":
		return memory.NewDurable(), nil
	case strings.HasPrefix(url, "sqlite:"):
		return sqlite.Open(ctx, sqlite.Options{Path: strings.TrimPrefix(url, "sqlite:")})
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return postgres.Open(ctx, postgres.Options{DSN: url})
	}
	return nil, errors.New("want sqlite:PATH, a postgres:// URL, or memory")
}

// Memory returns in-memory stores, for tests and tools.
func Memory() *Stores {
	return &Stores{Hot: memory.NewHot(memory.HotOptions{}), Durable: memory.NewDurable()}
}

// Close closes both stores.
func (s *Stores) Close() error {
	return errors.Join(s.Hot.Close(), s.Durable.Close())
}
