package gateway

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/ratelimit"
	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
)

// failingHot fails every call with err while err is set.
type failingHot struct {
	store.Hot
	err error
}

func (f *failingHot) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if f.err != nil {
		return false, f.err
	}
	return f.Hot.Claim(ctx, key, ttl)
}

type limiterHot struct{ *failingHot }

func (limiterHot) RateLimits() ratelimit.Store { return ratelimit.NewMemory(ratelimit.MemoryOptions{}) }

// An outage of the hot store is logged once when it starts and once when
// it ends, whatever the number of failed calls; invalid keys and clients
// that went away are not outages. A store with rate limits keeps them.
func TestWatchedHotLogsOutagesOnce(t *testing.T) {
	var logs bytes.Buffer
	f := &failingHot{Hot: memory.NewHot(memory.HotOptions{})}
	h := watchHot(f, slog.New(slog.NewTextHandler(&logs, nil)))
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()

	f.err = fmt.Errorf("redis: claim: %w: connection refused", store.ErrUnavailable)
	for range 5 {
		_, _ = h.Claim(ctx, "k", time.Second)
	}
	f.err = nil
	for range 3 {
		_, _ = h.Claim(ctx, "k", time.Second)
	}
	f.err = fmt.Errorf("redis: claim: %w", store.ErrInvalid)
	_, _ = h.Claim(ctx, "k", time.Second)
	f.err = fmt.Errorf("redis: claim: %w: %w", store.ErrUnavailable, context.Canceled)
	_, _ = h.Claim(cancelled, "k", time.Second)

	if n := strings.Count(logs.String(), "state.hot: unavailable"); n != 1 {
		t.Errorf("%d outage lines, want 1:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "state.hot: available again"); n != 1 {
		t.Errorf("%d recovery lines, want 1:\n%s", n, logs.String())
	}
	if _, ok := h.(sharedLimiter); ok {
		t.Error("a store without rate limits gained RateLimits")
	}
	if _, ok := watchHot(limiterHot{f}, slog.New(slog.DiscardHandler)).(sharedLimiter); !ok {
		t.Error("a store with rate limits lost RateLimits")
	}
}
