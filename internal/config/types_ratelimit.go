package config

// RateLimitPolicy limits request rates on a route (GCRA; see
// docs/ratelimit.md). Every limit of the layer is checked in one atomic
// step: a request is allowed only if all have room, and a refused request
// consumes none of them. Refusals are 429 (ratelimit.exceeded) with
// Retry-After; every response carries the RateLimit-Policy and RateLimit
// fields. State lives in state.hot: shared by replicas on Redis.
type RateLimitPolicy struct {
	// Limits are checked together, in one store call.
	Limits []RateLimit `yaml:"limits" jsonschema:"required"`
	// IPv6Prefix groups IPv6 clients by network for limits keyed by ip:
	// an IPv6 client usually holds a whole /64, and could otherwise pick a
	// fresh address, and a fresh allowance, per request. IPv4 clients are
	// counted per address. Default: 64.
	IPv6Prefix int `yaml:"ipv6_prefix" jsonschema:"default=64,minimum=1,maximum=128"`
	// OnStoreError is what happens when the shared store (Redis) fails or
	// times out: "open" checks the same limits in this node's memory
	// instead (each replica then allows the limits on its own) and counts
	// it in drawbridge_ratelimit_fallbacks_total; "closed" refuses the
	// request (503, ratelimit.unavailable). Default: open.
	OnStoreError string `yaml:"on_store_error" jsonschema:"enum=open,enum=closed,default=open"`
	// Timeout bounds each call to a shared store; past it, on_store_error
	// applies. Default: 100ms.
	Timeout Duration `yaml:"timeout" jsonschema:"default=100ms"`
}

// RateLimit is one limit: rate requests per period, bursts of up to burst,
// counted separately for each value of key.
type RateLimit struct {
	// Name identifies the limit in the RateLimit response fields, logs and
	// store keys: letters, digits, '.', '_' and '-', unique on the route.
	// Renaming a limit starts its counts afresh.
	Name string `yaml:"name" jsonschema:"required"`
	// Key is what requests are counted by: ip (the client address, see
	// ipv6_prefix), sub (the jwt layer's user: issuer and subject),
	// install (the attestation layer's app install), apikey (the apikey
	// layer's key), header:NAME (a request header's value) or claim:NAME
	// (a claim of the jwt layer's token). A request without the value (no
	// user, header or claim) is counted by client address instead, under
	// this limit's rate. Values are hashed before they are stored.
	Key string `yaml:"key" jsonschema:"required"`
	// Rate is the number of requests allowed per period.
	Rate int `yaml:"rate" jsonschema:"required,minimum=1"`
	// Per is the period: a whole number of seconds (the RateLimit-Policy
	// field counts in seconds), at most 366 days. Default: 1s.
	Per Duration `yaml:"per" jsonschema:"default=1s"`
	// Burst is how many requests a client idle for a whole period may send
	// at once; afterwards requests are spaced by per/rate. Default: rate.
	Burst int `yaml:"burst"`
}
