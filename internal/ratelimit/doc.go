// Package ratelimit limits request rates with the generic cell rate
// algorithm (GCRA), over a Store that keeps one timestamp per bucket.
//
// # Why GCRA
//
// A limit is "Count requests per Period, bursts of up to Burst". GCRA
// spaces requests by the emission interval T = Period/Count and keeps,
// per bucket, one number: the theoretical arrival time (TAT) of the next
// request if the client sent at exactly the nominal rate. A request at
// time now is allowed when
//
//	max(TAT, now) + T - now <= Burst × T
//
// and then TAT becomes max(TAT, now) + T. "100 per minute, burst 100"
// therefore means what operators expect: a client idle for a minute may
// send 100 requests at once, and then one every 0.6 s; a client idle for
// 6 s has earned 10 back.
//
// Compared with the sliding-window counters most gateways use:
//
//   - State is one 8-byte timestamp per bucket, not a counter per window
//     (or a log of timestamps), so a million tracked clients fit in tens
//     of megabytes and a Redis bucket is one short string.
//   - Bursts are exact. A fixed window lets a client send 2×Count across
//     a window boundary; a sliding-window approximation blends two
//     windows' counters and is exact only when traffic is uniform.
//   - The update is a read, a comparison and a write of one number, so
//     it is cheap to make atomic: a mutex in memory, one Lua script in
//     Redis, for every limit of a request at once.
//   - Retry-After is exact: a refused client may retry at
//     max(TAT, now) + T - Burst × T, to the microsecond, rather than "at
//     the end of the window".
//
// # All or nothing
//
// One request is usually subject to several limits (per IP and per user,
// per second and per day). Store.Take evaluates all of them in one atomic
// step: the request is allowed only if every limit allows it, and a
// request refused by one limit consumes nothing from the others, so that
// a client hammering a per-second limit does not also drain its daily
// quota with requests that were never served.
//
// # Time
//
// Times are integer microseconds since the Unix epoch, in every store:
// the memory store and the Redis script (whose Lua numbers are doubles,
// exact for integers below 2^53, which microsecond timestamps are for the
// next two centuries) compute exactly the same answers. Limit.Validate
// keeps every window below MaxWindow for the same reason. The clock is
// injected (Now fields); stores never read time.Now directly.
package ratelimit
