package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// MaxWindow bounds a limit's burst window (Burst × the emission interval):
// 366 days. Microsecond sums of such windows and today's timestamps stay
// far below 2^53, where the Redis script's doubles stop being exact.
const MaxWindow = 366 * 24 * time.Hour

// MaxChecks is the most checks one Take may evaluate.
const MaxChecks = 16

// ErrInvalid is returned (wrapped) for a request no store accepts: an
// invalid limit, no checks or too many, an empty or repeated key, or an
// out slice shorter than the checks.
var ErrInvalid = errors.New("ratelimit: invalid request")

// Limit is a rate: Count requests per Period on average, with bursts of
// up to Burst requests.
type Limit struct {
	// Name identifies the limit in response fields and logs.
	Name string
	// Count requests are allowed per Period. It must be positive.
	Count int
	// Period is the time Count requests are spread over. It must be
	// positive, and Period/Count at least a microsecond.
	Period time.Duration
	// Burst is how many requests a client idle long enough may send at
	// once. If zero, Count.
	Burst int
}

// Interval is the emission interval, Period/Count, rounded to the
// nearest microsecond (the resolution of every store).
func (l Limit) Interval() time.Duration {
	if l.Count <= 0 {
		return 0
	}
	return (l.Period / time.Duration(l.Count)).Round(time.Microsecond)
}

// Window is the burst window, Burst × Interval: how far ahead of now a
// bucket's TAT may be and still admit a request.
func (l Limit) Window() time.Duration { return time.Duration(l.burst()) * l.Interval() }

// burst is Burst, or Count when Burst is zero.
func (l Limit) burst() int {
	if l.Burst == 0 {
		return l.Count
	}
	return l.Burst
}

// Validate reports why no store can evaluate l, or nil.
func (l Limit) Validate() error {
	switch {
	case l.Count <= 0:
		return fmt.Errorf("%w: limit %q: count must be positive", ErrInvalid, l.Name)
	case l.Period <= 0:
		return fmt.Errorf("%w: limit %q: period must be positive", ErrInvalid, l.Name)
	case int64(l.Count) > int64(l.Period/time.Microsecond):
		return fmt.Errorf("%w: limit %q: more than one request per microsecond", ErrInvalid, l.Name)
	case l.Burst < 0:
		return fmt.Errorf("%w: limit %q: burst must not be negative", ErrInvalid, l.Name)
	case l.burst() > math.MaxInt32 || time.Duration(l.burst()) > MaxWindow/l.Interval():
		return fmt.Errorf("%w: limit %q: the burst window (burst × period/count) exceeds 366 days", ErrInvalid, l.Name)
	}
	return nil
}

// Check is one limit applied to one bucket.
type Check struct {
	Limit Limit
	// Key names the bucket: every request checked against the same Key
	// draws on the same allowance. It is opaque to stores, 1 to 512
	// bytes, and must not repeat within one Take.
	Key string
}

// MaxKeyLen is the longest Check.Key.
const MaxKeyLen = 512

// Result is what one limit says about one request.
type Result struct {
	// Allowed reports whether this limit had room for the request. The
	// request itself is allowed only when every limit had room.
	Allowed bool
	// Remaining is how many more requests the limit would allow right
	// now: after this request if it was allowed, without it if it was
	// refused (a refused request consumes nothing).
	Remaining int
	// Reset is how long until the limit's whole burst is available again.
	Reset time.Duration
	// RetryAfter is how long until the limit allows another request:
	// zero while Remaining is positive, the exact wait otherwise.
	RetryAfter time.Duration
}

// Store keeps buckets and evaluates requests against them.
type Store interface {
	// Take evaluates every check of one request atomically: if every
	// limit has room, each bucket consumes one request and Take reports
	// true; otherwise no bucket changes. out[i] receives the result of
	// checks[i]. Checks of one request that may live apart (Redis
	// Cluster) are kept together by group: a bucket must always be
	// checked under the same group. An error means nothing is known
	// about the request; stores wrap ErrInvalid for invalid requests.
	Take(ctx context.Context, group string, checks []Check, out []Result) (allowed bool, err error)
}

// ValidateRequest checks what every store requires of a Take request.
func ValidateRequest(checks []Check, out []Result) error {
	if len(checks) == 0 || len(checks) > MaxChecks {
		return fmt.Errorf("%w: %d checks, want 1 to %d", ErrInvalid, len(checks), MaxChecks)
	}
	if len(out) < len(checks) {
		return fmt.Errorf("%w: room for %d results, want %d", ErrInvalid, len(out), len(checks))
	}
	for i, c := range checks {
		if err := c.Limit.Validate(); err != nil {
			return err
		}
		if c.Key == "" || len(c.Key) > MaxKeyLen {
			return fmt.Errorf("%w: key of %d bytes, want 1 to %d", ErrInvalid, len(c.Key), MaxKeyLen)
		}
		for _, d := range checks[:i] {
			if d.Key == c.Key {
				return fmt.Errorf("%w: key %q checked twice", ErrInvalid, c.Key)
			}
		}
	}
	return nil
}

// Micros is t in microseconds since the Unix epoch: the unit of every
// TAT.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// Apply is the GCRA of one request against its limits, all or nothing.
// tats[i] is the stored TAT of checks[i] in microseconds (0 or any past
// time for an empty bucket) and now the current time in microseconds.
// Apply fills out and reports whether the request is allowed; if it is,
// it replaces each tats[i] by the TAT to store (the bucket may be
// forgotten once that time has passed). Every store computes its
// results with Apply, so that all give the same answers; checks must
// have passed ValidateRequest.
func Apply(checks []Check, tats []int64, now int64, out []Result) bool {
	allowed := true
	for i, c := range checks {
		t, window := c.Limit.Interval().Microseconds(), c.Limit.Window().Microseconds()
		base := max(tats[i], now)
		// Room when the new TAT is within the burst window of now.
		out[i].Allowed = base+t-now <= window
		allowed = allowed && out[i].Allowed
	}
	for i, c := range checks {
		t, window := c.Limit.Interval().Microseconds(), c.Limit.Window().Microseconds()
		base := max(tats[i], now)
		if allowed {
			base += t
			tats[i] = base
		}
		r := &out[i]
		r.Reset = micros(base - now)
		if r.Allowed {
			// The requests that fit before the TAT leaves the window.
			r.Remaining = int((now + window - base) / t)
		} else {
			r.Remaining = 0
		}
		r.RetryAfter = 0
		if r.Remaining == 0 {
			// The next request is allowed once base+t-window <= now.
			r.RetryAfter = micros(base + t - window - now)
		}
	}
	return allowed
}

func micros(us int64) time.Duration { return time.Duration(us) * time.Microsecond }
