package gateway

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/config"
)

// TestRateLimitPartition: the value each key kind counts a request by,
// before it is hashed, and the fall back to the client network when the
// value is missing. Values of different kinds never coincide.
func TestRateLimitPartition(t *testing.T) {
	p := &rateLimitPolicy{ipv6Bits: 64}
	req := &http.Request{Header: http.Header{"X-Api-Key": {"k1", "k2"}, "X-Empty": {""}}}
	v4, v6 := netip.MustParseAddr("203.0.113.9"), netip.MustParseAddr("2001:db8:1:2:3:4:5:6")
	tests := []struct {
		name string
		l    rateLimit
		s    Scope
		want string
	}{
		{"IPv4", rateLimit{kind: keyIP}, Scope{ClientIP: v4}, "ip\x00203.0.113.9/32"},
		{"IPv6 /64", rateLimit{kind: keyIP}, Scope{ClientIP: v6}, "ip\x002001:db8:1:2::/64"},
		{"no address", rateLimit{kind: keyIP}, Scope{}, "ip\x00unknown"},
		{"install", rateLimit{kind: keyInstall}, Scope{Install: &Install{App: "shop", ID: "key-1"}}, "install\x00shop\x00key-1"},
		{"no install", rateLimit{kind: keyInstall}, Scope{ClientIP: v4}, "ip\x00203.0.113.9/32"},
		{"API key", rateLimit{kind: keyAPIKey}, Scope{APIKeyID: "ak_1"}, "apikey\x00ak_1"},
		{"no API key", rateLimit{kind: keyAPIKey}, Scope{ClientIP: v6}, "ip\x002001:db8:1:2::/64"},
		{"header, every value", rateLimit{kind: keyHeader, arg: "X-Api-Key"}, Scope{}, "header\x00X-Api-Key\x00k1\nk2"},
		{"empty header", rateLimit{kind: keyHeader, arg: "X-Empty"}, Scope{ClientIP: v4}, "ip\x00203.0.113.9/32"},
		{"no user", rateLimit{kind: keySub}, Scope{ClientIP: v4}, "ip\x00203.0.113.9/32"},
		{"no user for a claim", rateLimit{kind: keyClaim, arg: "tenant"}, Scope{ClientIP: v4}, "ip\x00203.0.113.9/32"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.s.Request = req
			if got := string(p.partition(&tc.s, &tc.l, nil)); got != tc.want {
				t.Errorf("partition = %q, want %q", got, tc.want)
			}
		})
	}
}

// BenchmarkRateLimitDecide is the layer's own work per request on the
// memory store: two limits keyed by client address.
func BenchmarkRateLimitDecide(b *testing.B) {
	f, err := config.Parse("bench.yaml", []byte(`
upstreams: {app: {url: "http://127.0.0.1:1"}}
routes:
  - name: api
    upstream: app
    policies:
      - ratelimit:
          limits:
            - {name: per-second, key: ip, rate: 1000000, per: 1s}
            - {name: per-hour, key: ip, rate: 1000000000, per: 1h}
`), config.Source{})
	if err != nil {
		b.Fatal(err)
	}
	g := New(Options{})
	if err := g.Load(f); err != nil {
		b.Fatal(err)
	}
	p := g.cur.Load().router.routes[0].steps[0].policy
	req := httptest.NewRequest("GET", "/api/x", nil)
	b.ReportAllocs()
	for b.Loop() {
		s := getScope()
		s.Request, s.RouteName, s.ClientIP = req, "api", netip.MustParseAddr("192.0.2.10")
		if err := p.Decide(s); err != nil {
			b.Fatal(err)
		}
		putScope(s)
	}
}
