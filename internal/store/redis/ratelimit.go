package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/drawbridge-gw/drawbridge/internal/ratelimit"
	"github.com/drawbridge-gw/drawbridge/internal/store/internal/backend"
)

// RateLimiter is a ratelimit.Store whose buckets are Redis strings, one
// TAT each, shared by every replica of the gateway.
//
// # One round trip
//
// Take is one Lua script, whatever the number of limits: the script reads
// every bucket, decides all or nothing, and writes the new TATs only if
// every limit had room. Redis runs a script alone, so concurrent requests
// on any number of replicas see each other's effects whole. The script is
// sent with EVALSHA; after a server restart empties the script cache, the
// first call gets NOSCRIPT and go-redis sends EVAL once.
//
// The script only decides and stores; the results (remaining requests,
// Retry-After) are computed in Go by ratelimit.Apply from the TATs and the
// time the script returns, the same code the memory store runs. Go checks
// that its verdict agrees with the script's.
//
// # Keys and Redis Cluster
//
// A script may only touch keys of one hash slot on Cluster. Every key of
// one Take is built with HashTagged(prefix, group, key), so all of them
// share the slot of the group; the caller must check a bucket under the
// same group every time (the gateway's ratelimit layer explains its
// choice of group). A bucket expires (PX) once its TAT has passed, when
// it is the same as no bucket.
//
// # Clock
//
// By default the script reads the Redis server's clock (TIME): every
// replica of the gateway then measures time by one clock per bucket, and
// a gateway whose clock runs ahead cannot grant its clients a fresh burst
// (with the gateway's own clock, a replica ahead by d lets each client
// through d × rate extra requests, and one behind refuses them). Failover
// to a replica with a skewed clock moves every bucket by the skew once,
// the same for all gateways. Options.Now replaces the server clock, for
// tests.
type RateLimiter struct {
	h   *Hot
	now func() time.Time
}

// RateLimiterOptions configure a RateLimiter. The zero value is usable.
type RateLimiterOptions struct {
	// Now is the clock the script uses. If nil, the Redis server's clock
	// (TIME): see RateLimiter.
	Now func() time.Time
}

// NewRateLimiter returns a rate limiter keeping its buckets in h's Redis,
// under h's prefix.
func NewRateLimiter(h *Hot, o RateLimiterOptions) *RateLimiter {
	return &RateLimiter{h: h, now: o.Now}
}

// RateLimits returns a RateLimiter on h using the server's clock. The
// gateway's ratelimit layer finds it through this method, so that a Redis
// hot store also holds the rate limits.
func (h *Hot) RateLimits() ratelimit.Store { return NewRateLimiter(h, RateLimiterOptions{}) }

// takeScript is the GCRA of ratelimit.Apply, deciding only. Lua numbers
// are doubles: microsecond times are integers below 2^53, so the
// arithmetic is exact, and string.format('%.0f') writes them back
// without the exponent tostring would use.
var takeScript = goredis.NewScript(`
-- KEYS[i]: the TAT of limit i, microseconds since the Unix epoch.
-- ARGV[1]: now in microseconds, or -1 to read the server's clock.
-- ARGV[2i], ARGV[2i+1]: limit i's emission interval and burst window
-- (burst x interval), in microseconds.
-- Returns {allowed (1 or 0), now, TAT of each limit before the request}.
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local reply = {1, now}
local tats = {}
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
  reply[i + 2] = tat
  local new = math.max(tat, now) + tonumber(ARGV[2 * i])
  if new - now > tonumber(ARGV[2 * i + 1]) then
    reply[1] = 0
  end
  tats[i] = new
end
if reply[1] == 1 then
  for i = 1, #KEYS do
    redis.call('SET', KEYS[i], string.format('%.0f', tats[i]),
      'PX', math.ceil((tats[i] - now) / 1000))
  end
end
return reply
`)

// Take implements ratelimit.Store in one script call.
func (l *RateLimiter) Take(ctx context.Context, group string, checks []ratelimit.Check, out []ratelimit.Result) (bool, error) {
	if err := ratelimit.ValidateRequest(checks, out); err != nil {
		return false, err
	}
	if err := backend.Done("redis: ratelimit", ctx); err != nil {
		return false, err
	}
	keys := make([]string, len(checks))
	for i, c := range checks {
		keys[i] = c.Key
	}
	keys = l.h.Keys(group, keys...)
	args := make([]any, 1, 1+2*len(checks))
	args[0] = int64(-1)
	if l.now != nil {
		args[0] = ratelimit.Micros(l.now())
	}
	for _, c := range checks {
		args = append(args, c.Limit.Interval().Microseconds(), c.Limit.Window().Microseconds())
	}
	reply, err := takeScript.Run(ctx, l.h.client, keys, args...).Int64Slice()
	if err != nil {
		return false, backend.Unavailable("redis: ratelimit", err)
	}
	if len(reply) != 2+len(checks) {
		return false, fmt.Errorf("redis: ratelimit: the script answered %d values, want %d", len(reply), 2+len(checks))
	}
	allowed := ratelimit.Apply(checks, reply[2:], reply[1], out)
	if allowed != (reply[0] == 1) {
		return false, fmt.Errorf("redis: ratelimit: the script's verdict (%d) and Go's (%v) disagree", reply[0], allowed)
	}
	return allowed, nil
}

var _ ratelimit.Store = (*RateLimiter)(nil)
