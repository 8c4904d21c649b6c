package gateway

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/drawbridge-gw/drawbridge/internal/config"
)

// route is a compiled config.Route.
type route struct {
	name          string
	hosts         []string // exact, lower-case
	wildcards     []string // ".example.com" for "*.example.com"
	prefix        string   // without trailing slash; "" matches everything
	pattern       []patSeg // nil unless match.path is set
	methods       []string // nil: any
	caseSensitive bool
	stripPrefix   string
	maxBody       int64
	websocket     bool
	steps         []step
	proxy         *upstreamProxy
	metrics       *routeMetrics
}

// patSeg is one segment of a path pattern.
type patSeg struct {
	lit  string // literal segment, or "" for a wildcard
	wild bool   // {name}
	rest bool   // {name...}: the remaining segments (at least one)
}

func compilePattern(p string) ([]patSeg, error) {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	out := make([]patSeg, 0, len(segs))
	for i, s := range segs {
		switch {
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "...}"):
			if i != len(segs)-1 {
				return nil, fmt.Errorf("{%s} must be the last segment", strings.Trim(s, "{}"))
			}
			out = append(out, patSeg{rest: true})
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
			name := s[1 : len(s)-1]
			if name == "" || strings.ContainsAny(name, "{}") {
				return nil, fmt.Errorf("bad wildcard %q", s)
			}
			out = append(out, patSeg{wild: true})
		case strings.ContainsAny(s, "{}"):
			return nil, fmt.Errorf("segment %q: a wildcard must be a whole segment", s)
		default:
			out = append(out, patSeg{lit: s})
		}
	}
	return out, nil
}

func compileMatch(r *route, m config.Match) error {
	for _, h := range m.Hosts {
		h = strings.ToLower(h)
		if rest, ok := strings.CutPrefix(h, "*"); ok {
			r.wildcards = append(r.wildcards, rest)
		} else {
			r.hosts = append(r.hosts, h)
		}
	}
	r.caseSensitive = m.CaseSensitive
	r.prefix = strings.TrimSuffix(m.PathPrefix, "/")
	if !r.caseSensitive {
		r.prefix = strings.ToLower(r.prefix)
	}
	if m.Path != "" {
		p := m.Path
		if !r.caseSensitive {
			p = strings.ToLower(p)
		}
		pat, err := compilePattern(p)
		if err != nil {
			return err
		}
		r.pattern = pat
	}
	if len(m.Methods) > 0 {
		r.methods = slices.Clone(m.Methods)
		if slices.Contains(r.methods, http.MethodGet) && !slices.Contains(r.methods, http.MethodHead) {
			r.methods = append(r.methods, http.MethodHead)
		}
	}
	return nil
}

// matchHost reports whether host (lower-case, without port) is served.
func (r *route) matchHost(host string) bool {
	if len(r.hosts) == 0 && len(r.wildcards) == 0 {
		return true
	}
	for _, h := range r.hosts {
		if h == host {
			return true
		}
	}
	for _, w := range r.wildcards {
		if len(host) > len(w) && strings.HasSuffix(host, w) {
			return true
		}
	}
	return false
}

// matchPath reports whether the normalised path is served.
func (r *route) matchPath(path string) bool {
	if r.pattern != nil {
		return matchPattern(r.pattern, path, r.caseSensitive)
	}
	if r.prefix == "" {
		return true
	}
	n := len(r.prefix)
	if len(path) < n || !equalPath(path[:n], r.prefix, r.caseSensitive) {
		return false
	}
	return len(path) == n || path[n] == '/'
}

func (r *route) matchMethod(m string) bool {
	return r.methods == nil || slices.Contains(r.methods, m)
}

func equalPath(a, b string, caseSensitive bool) bool {
	if caseSensitive {
		return a == b
	}
	return strings.EqualFold(a, b)
}

func matchPattern(pat []patSeg, path string, caseSensitive bool) bool {
	path = strings.TrimPrefix(path, "/")
	for i, seg := range pat {
		if seg.rest {
			return path != ""
		}
		var s string
		s, path, _ = strings.Cut(path, "/")
		if seg.wild {
			if s == "" {
				return false
			}
		} else if !equalPath(s, seg.lit, caseSensitive) {
			return false
		}
		if i == len(pat)-1 {
			return path == ""
		}
	}
	return path == ""
}

// router picks the first route that matches.
type router struct{ routes []*route }

// find returns the route for a request, or the reason none serves it.
func (rt *router) find(host, path, method string) (*route, string) {
	host = canonicalHost(host)
	pathMatched := false
	for _, r := range rt.routes {
		if !r.matchHost(host) || !r.matchPath(path) {
			continue
		}
		if !r.matchMethod(method) {
			pathMatched = true
			continue
		}
		return r, ""
	}
	if pathMatched {
		return nil, "route.method_not_allowed"
	}
	return nil, "route.not_found"
}

// canonicalHost strips the port and a trailing dot and lower-cases.
func canonicalHost(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	h = strings.TrimSuffix(h, ".")
	for i := 0; i < len(h); i++ {
		if c := h[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(h)
		}
	}
	return h
}
