package gateway

// AppendPolicy adds p at the end of the named route's chain in the config
// in force, for tests of failure paths no real layer produces.
func AppendPolicy(g *Gateway, route, layer string, p Policy) {
	for _, r := range g.cur.Load().router.routes {
		if r.name == route {
			r.steps = append(r.steps, step{layer: layer, policy: p})
		}
	}
}

// PolicyFunc adapts a function to Policy.
type PolicyFunc func(*Scope) error

// Decide calls f.
func (f PolicyFunc) Decide(s *Scope) error { return f(s) }
