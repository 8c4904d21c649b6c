package gateway

import (
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store"
	"net/http"

	"github.com/drawbridge-gw/drawbridge/internal/config"
)

// Policy is one layer of a route's chain. Decide returns nil to let the
// request continue to the next layer, a *Denial (or an error carrying a
// Reason) to refuse it, or a *Reply to answer it directly (a CORS
// preflight). Decide may annotate the Scope for later layers, the upstream
// and the response. Policies are built once per config load and shared by
// all requests, so Decide must be safe for concurrent use.
type Policy interface {
	Decide(s *Scope) error
}

// Reply is a direct answer by a layer: the request is not forwarded, and
// the answer is not a denial.
type Reply struct {
	Status int
	Header http.Header
}

func (r *Reply) Error() string { return "reply " + http.StatusText(r.Status) }

// builder builds a layer's Policy from its config. Problems are reported
// with field paths below the policy's path.
type builder func(spec *config.PolicySpec, b *buildEnv) (Policy, []config.Problem)

// buildEnv is what a layer may use while it is built.
type buildEnv struct {
	path string // field path of the policy, e.g. routes[0].policies[2]
	cfg  *config.Config
	st   *compileState // shared by the policies of one config load
	// The process's stores and clock, for layers that keep state.
	hot     store.Hot
	durable store.Durable
	now     func() time.Time
}

func (b *buildEnv) problem(field, msg string) config.Problem {
	p := b.path
	if field != "" {
		p += "." + field
	}
	return config.Problem{Field: p, Msg: msg}
}

// builders maps layer names to their builders. Adding a layer means a
// config type, a field of config.PolicySpec, a file here with its Policy,
// and one line in this table.
var builders = map[string]builder{
	"ip":          buildIP,
	"useragent":   buildUserAgent,
	"headers":     buildHeaders,
	"cors":        buildCORS,
	"jwt":         buildJWT,
	"attestation": buildAttestation,
	"signature":   buildSignature,
	"dpop":        buildDPoP,
	"apikey":      buildAPIKey,
	"ratelimit":   buildRateLimit,
}

// step is a compiled chain element.
type step struct {
	layer  string
	policy Policy
}
