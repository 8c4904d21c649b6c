package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const rateLimitBase = `
upstreams: {a: {url: 'http://127.0.0.1:1'}}
issuers:
  main: {issuer: 'https://id.test', jwks_file: k.json, algorithms: [ES256], audiences: [api]}
routes:
  - upstream: a
    policies:
`

func TestRateLimitDefaults(t *testing.T) {
	f, err := Parse("x.yaml", []byte(rateLimitBase+"      - ratelimit: {limits: [{name: per-ip, key: ip, rate: 100, per: 1m}]}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	got := *f.Config.Routes[0].Policies[0].RateLimit
	want := RateLimitPolicy{
		Limits:       []RateLimit{{Name: "per-ip", Key: "ip", Rate: 100, Per: Duration(time.Minute), Burst: 100}},
		IPv6Prefix:   64,
		OnStoreError: "open",
		Timeout:      Duration(100 * time.Millisecond),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestRateLimitValidation(t *testing.T) {
	tests := []struct{ name, policies, want string }{
		{"no limits", "- ratelimit: {limits: []}", "limits: list at least one limit"},
		{"bad name", "- ratelimit: {limits: [{name: 'a b', key: ip, rate: 1}]}", `name: want 1 to 64 letters`},
		{"duplicate name across layers", "- ratelimit: {limits: [{name: a, key: ip, rate: 1}]}\n      - ratelimit: {limits: [{name: a, key: ip, rate: 2}]}",
			`policies[1].ratelimit.limits[0].name: limit "a" is already defined at routes[0].policies[0].ratelimit.limits[0]`},
		{"unknown key", "- ratelimit: {limits: [{name: a, key: cookie, rate: 1}]}", "want ip, sub, install, apikey, header:NAME or claim:NAME"},
		{"header without name", "- ratelimit: {limits: [{name: a, key: 'header:', rate: 1}]}", "want header:NAME"},
		{"ip with argument", "- ratelimit: {limits: [{name: a, key: 'ip:x', rate: 1}]}", "key ip takes no argument"},
		{"sub before jwt", "- ratelimit: {limits: [{name: a, key: sub, rate: 1}]}", "no jwt layer runs before this one"},
		{"claim before jwt", "- ratelimit: {limits: [{name: a, key: 'claim:tenant', rate: 1}]}\n      - jwt: {issuers: [main]}", "no jwt layer runs before this one"},
		{"apikey before the apikey layer", "- ratelimit: {limits: [{name: a, key: apikey, rate: 1}]}", "no apikey layer runs before this one"},
		{"rate 0", "- ratelimit: {limits: [{name: a, key: ip, rate: 0}]}", "rate: must be at least 1"},
		{"fractional period", "- ratelimit: {limits: [{name: a, key: ip, rate: 1, per: 1500ms}]}", "per: want a whole number of seconds"},
		{"period too long", "- ratelimit: {limits: [{name: a, key: ip, rate: 1, per: 9000h}]}", "per: must be at most 366 days"},
		{"negative burst", "- ratelimit: {limits: [{name: a, key: ip, rate: 1, burst: -1}]}", "burst: must not be negative"},
		{"prefix", "- ratelimit: {limits: [{name: a, key: ip, rate: 1}], ipv6_prefix: 129}", "ipv6_prefix: want 1 to 128"},
		{"store error", "- ratelimit: {limits: [{name: a, key: ip, rate: 1}], on_store_error: maybe}", "on_store_error: want open or closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(rateLimitBase+"      "+tt.policies+"\n"), env(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	ok := "- jwt: {issuers: [main]}\n      - ratelimit: {limits: [{name: u, key: sub, rate: 1}, {name: t, key: 'claim:tenant', rate: 5, per: 1h, burst: 1}, {name: h, key: 'header:X-Api-Key', rate: 2}]}"
	if _, err := Parse("x.yaml", []byte(rateLimitBase+"      "+ok+"\n"), env(nil)); err != nil {
		t.Errorf("a valid layer: %v", err)
	}
}
