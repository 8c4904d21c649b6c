package gateway

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/ratelimit"
	"github.com/drawbridge-gw/drawbridge/internal/store"
)

// watchedHot is the hot store as the layers use it (replay guards of the
// signature and dpop layers, attestation challenges), logging when it
// becomes unavailable and when it is available again: one line each per
// outage, not one per request. Every refused request still has its own
// decision line (signature.unavailable, ...) with the cause.
//
// Without it, an outage of Redis on a gateway with no ratelimit layer
// (which logs its own, see storeHealth) left no operational log line at
// all, only per-request decisions: test/cluster's TestFailures found it.
type watchedHot struct {
	store.Hot
	log  *slog.Logger
	down atomic.Bool
}

// watchHot wraps h. A hot store that also keeps rate limits (Redis) keeps
// its RateLimits method, which the ratelimit layer looks for.
func watchHot(h store.Hot, log *slog.Logger) store.Hot {
	w := &watchedHot{Hot: h, log: log}
	if sl, ok := h.(sharedLimiter); ok {
		return &watchedLimiterHot{watchedHot: w, sl: sl}
	}
	return w
}

func (w *watchedHot) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	first, err := w.Hot.Claim(ctx, key, ttl)
	w.observe(ctx, err)
	return first, err
}

func (w *watchedHot) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	err := w.Hot.Put(ctx, key, value, ttl)
	w.observe(ctx, err)
	return err
}

func (w *watchedHot) Take(ctx context.Context, key string) ([]byte, bool, error) {
	v, ok, err := w.Hot.Take(ctx, key)
	w.observe(ctx, err)
	return v, ok, err
}

// observe logs a change of state. Only engine failures count: not an
// invalid key (a caller's or an attacker's input), nor a client that went
// away mid-call.
func (w *watchedHot) observe(ctx context.Context, err error) {
	switch {
	case err == nil:
		if w.down.Load() && w.down.CompareAndSwap(true, false) {
			w.log.Info("state.hot: available again")
		}
	case errors.Is(err, store.ErrUnavailable) && ctx.Err() != context.Canceled:
		if w.down.CompareAndSwap(false, true) {
			w.log.Warn("state.hot: unavailable; replay checks and attestation fail closed until it is back", "err", err.Error())
		}
	}
}

// watchedLimiterHot is a watchedHot over a store that also keeps rate
// limits.
type watchedLimiterHot struct {
	*watchedHot
	sl sharedLimiter
}

func (w *watchedLimiterHot) RateLimits() ratelimit.Store { return w.sl.RateLimits() }

var (
	_ store.Hot     = (*watchedHot)(nil)
	_ sharedLimiter = (*watchedLimiterHot)(nil)
)
