package cluster

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/testenv"
)

// clusterYAML is the config every node of TestCluster runs: the /api/
// route of examples/cluster.yaml (100 a minute per client address, bursts
// of 100), a route with a larger burst and rate so that a 2% tolerance
// means something, and attestation-protected routes for a development
// app.
func clusterYAML(f *fixtures) string {
	return `
listen: ${LISTEN}
admin:
  listen: ${ADMIN_LISTEN}
  token: ${file:` + f.tokenFile + `}
state:
  hot: ${REDIS_URL}
  durable: ${DATABASE_URL}
# The load balancer's network: it says who the client is.
trusted_proxies: [127.0.0.0/8]
limits:
  shutdown_timeout: 5s
upstreams:
  app:
    url: ${UPSTREAM}
apps:
  shop:
    dev: {ca_files: ["` + f.caFile + `"]}
    environments: [development]
attestation:
  issuer: ` + publicOrigin + `
  signing_keys: ["` + f.signingKey + `"]
routes:
  - name: api
    match: {path_prefix: /api/}
    upstream: app
    policies:
      - ratelimit:
          limits:
            - {name: per-ip, key: ip, rate: 100, per: 1m, burst: 100}
          on_store_error: open
  - name: burst
    match: {path_prefix: /burst/}
    upstream: app
    policies:
      - ratelimit:
          limits:
            - {name: per-ip, key: ip, rate: 100, per: 1s, burst: 1000}
          # A busy 2-core CI machine may exceed the default 100ms; the
          # test counts fallbacks and wants none.
          timeout: 1s
  - name: attested
    match: {path_prefix: /attested/}
    upstream: app
    policies:
      - attestation: {apps: [shop]}
  - name: signed
    match: {path_prefix: /signed/}
    upstream: app
    policies:
      - attestation: {apps: [shop]}
      - ratelimit:
          limits:
            - {name: per-install, key: install, rate: 1000, per: 1s}
      - signature:
          attested: true
          origin: ` + publicOrigin + `
          required: ['@method', '@authority', '@path', attestation-token]
`
}

// TestCluster runs three nodes sharing one Redis and one PostgreSQL and
// shows that they behave as one gateway.
func TestCluster(t *testing.T) {
	redis := testenv.Redis(t)
	dsn := testenv.Postgres(t)
	up := newUpstream(t)
	f := newFixtures(t)
	c := startCluster(t, 3, clusterYAML(f), map[string]string{
		"REDIS_URL": redis.URL(), "DATABASE_URL": dsn, "UPSTREAM": up.URL,
	}, f.token)

	t.Run("global limit", func(t *testing.T) { testGlobalLimit(t, c) })
	t.Run("example limit", func(t *testing.T) { testExampleLimit(t, c) })
	t.Run("challenge single use", func(t *testing.T) { testChallengeSingleUse(t, c, f) })
	t.Run("device known everywhere", func(t *testing.T) { testDeviceKnown(t, c, f) })
	t.Run("controls propagate", func(t *testing.T) { testControlsPropagate(t, c, f) })
	t.Run("one script call per request", func(t *testing.T) { testScriptCalls(t, c, f, redis.Addr) })
}

// burstResult counts the answers of a burst.
type burstResult struct {
	allowed, refused int64
	perNode          []int64 // allowed, by node
	other            map[string]int
	elapsed          time.Duration
}

// burst sends requests from one client (X-Forwarded-For: client, through
// the trusted load balancer) to path, round-robin over the nodes, from
// workers goroutines, until settle has passed since the first refusal (or
// limit). elapsed runs from before the first request to after the last
// answer.
func burst(c *cluster, path, client string, workers int, settle, limit time.Duration) burstResult {
	var allowed, refused atomic.Int64
	perNode := make([]atomic.Int64, len(c.nodes))
	var next atomic.Int64
	var firstRefusal atomic.Int64
	var mu sync.Mutex
	other := map[string]int{}
	h := map[string]string{"X-Forwarded-For": client}
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				now := time.Now()
				if fr := firstRefusal.Load(); (fr != 0 && now.Sub(time.Unix(0, fr)) >= settle) || now.Sub(start) > limit {
					return
				}
				i := next.Add(1) - 1
				n := c.nodes[int(i)%len(c.nodes)]
				r, err := c.do(http.MethodGet, n.base+path, h, nil)
				switch {
				case err == nil && r.status == http.StatusOK:
					allowed.Add(1)
					perNode[int(i)%len(c.nodes)].Add(1)
				case err == nil && r.status == http.StatusTooManyRequests:
					refused.Add(1)
					firstRefusal.CompareAndSwap(0, time.Now().UnixNano())
				default:
					mu.Lock()
					other[fmt.Sprint(r, err)]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	res := burstResult{allowed: allowed.Load(), refused: refused.Load(), other: other, elapsed: time.Since(start)}
	for i := range perNode {
		res.perNode = append(res.perNode, perNode[i].Load())
	}
	return res
}

// testGlobalLimit: a burst from one client spread round-robin over the
// three nodes is allowed burst + elapsed × rate requests in all, as if
// one gateway counted them.
func testGlobalLimit(t *testing.T, c *cluster) {
	const burstSize, rate = 1000, 100.0 // the burst route's limit
	fallbacksBefore := sumAll(c, "drawbridge_ratelimit_fallbacks_total")
	res := burst(c, "/burst/orders", "198.51.100.10", 8, 2*time.Second, 30*time.Second)
	want := burstSize + res.elapsed.Seconds()*rate
	diff := (float64(res.allowed) - want) / want
	t.Logf("global limit (burst %d, %.0f/s): %d allowed (per node %v), %d refused, over %.3fs; burst + elapsed × rate = %.1f; difference %+.2f%% (%+.1f requests)",
		burstSize, rate, res.allowed, res.perNode, res.refused, res.elapsed.Seconds(), want, 100*diff, float64(res.allowed)-want)
	if len(res.other) > 0 {
		t.Errorf("answers other than 200 and 429: %v", res.other)
	}
	if res.refused == 0 {
		t.Fatalf("no request was refused in %v: the burst was never exhausted", res.elapsed)
	}
	if math.Abs(diff) > 0.02 {
		t.Errorf("%d allowed, want %.1f within 2%%", res.allowed, want)
	}
	for i, n := range res.perNode {
		if n == 0 {
			t.Errorf("node%d allowed nothing: the requests were not spread", i)
		}
	}
	if fb := sumAll(c, "drawbridge_ratelimit_fallbacks_total") - fallbacksBefore; fb != 0 {
		t.Errorf("%v requests fell back to a node's memory: the count is not global", fb)
	}
}

// sumAll adds a metric over every node.
func sumAll(c *cluster, parts ...string) float64 {
	c.t.Helper()
	var sum float64
	for _, n := range c.nodes {
		m, err := c.metrics(n)
		if err != nil {
			c.t.Fatalf("%s: %v", n.name, err)
		}
		sum += sumMetric(m, parts...)
	}
	return sum
}

// testExampleLimit: examples/cluster.yaml's limit, 100 a minute in
// bursts of 100, holds across the nodes: about 100 requests pass, however
// they are spread, and the refusals say when to retry.
func testExampleLimit(t *testing.T, c *cluster) {
	res := burst(c, "/api/orders", "198.51.100.11", 4, 300*time.Millisecond, 30*time.Second)
	want := 100 + res.elapsed.Seconds()*100/60
	t.Logf("examples/cluster.yaml limit (100/min, burst 100): %d allowed (per node %v), %d refused, over %.3fs; want %.1f",
		res.allowed, res.perNode, res.refused, res.elapsed.Seconds(), want)
	if len(res.other) > 0 {
		t.Errorf("answers other than 200 and 429: %v", res.other)
	}
	// GCRA allows floor(burst + window/T) over the window between the first
	// and the last decision, which elapsed bounds from above; the ends'
	// latencies make up the rest of the tolerance.
	if math.Abs(float64(res.allowed)-want) > 1.5 {
		t.Errorf("%d allowed, want %.1f ± 1.5", res.allowed, want)
	}
	r := c.must(http.MethodGet, c.nodes[1].base+"/api/orders", map[string]string{"X-Forwarded-For": "198.51.100.11"}, nil)
	if r.status != http.StatusTooManyRequests || r.reason != "ratelimit.exceeded" || r.header.Get("Retry-After") == "" ||
		!strings.HasPrefix(r.header.Get("Ratelimit"), `"per-ip";r=0;t=`) {
		t.Errorf("after the burst: %s Retry-After %q RateLimit %q", r, r.header.Get("Retry-After"), r.header.Get("Ratelimit"))
	}
}

// testChallengeSingleUse: a challenge issued by one node is accepted once
// on another, and refused on every second use, on any node.
func testChallengeSingleUse(t *testing.T, c *cluster, f *fixtures) {
	d := f.newDevice(t, "shop")
	ch, r, err := c.challenge(c.nodes[0], "shop")
	if err != nil || ch == "" {
		t.Fatalf("challenge: %s %v", r, err)
	}
	if r, err := c.exchange(c.nodes[1], d, "shop", ch, "1.0.0"); err != nil || r.status != http.StatusOK {
		t.Fatalf("first use on node1 of node0's challenge: %s %s %v", r, r.body, err)
	}
	for _, n := range []*node{c.nodes[2], c.nodes[1], c.nodes[0]} {
		other := f.newDevice(t, "shop") // the same, or another device
		for _, dev := range []*device{d, other} {
			r, err := c.exchange(n, dev, "shop", ch, "1.0.0")
			if err != nil || r.status != http.StatusBadRequest || r.reason != "attestation.challenge_invalid" {
				t.Errorf("second use on %s: %s %v, want 400 attestation.challenge_invalid", n.name, r, err)
			}
		}
	}

	// Concurrent uses on all three nodes: exactly one wins.
	ch, _, err = c.challenge(c.nodes[2], "shop")
	if err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 6 {
		dev := f.newDevice(t, "shop")
		wg.Go(func() {
			r, err := c.exchange(c.nodes[i%3], dev, "shop", ch, "1.0.0")
			if err == nil && r.status == http.StatusOK {
				wins.Add(1)
			} else if err != nil || r.reason != "attestation.challenge_invalid" {
				t.Errorf("concurrent use on node%d: %s %v", i%3, r, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d of 6 concurrent uses of one challenge succeeded, want 1", wins.Load())
	}
}

// testDeviceKnown: a device attested through one node is known on the
// others: its token verifies and its signed requests pass everywhere, its
// record is read through another node's operator API, and another node
// refuses to bind its key to a different signing key.
func testDeviceKnown(t *testing.T, c *cluster, f *fixtures) {
	d := f.newDevice(t, "shop")
	c.attest(c.nodes[0], c.nodes[1], d, "shop", "1.0.0")
	for _, n := range c.nodes {
		if r := c.must(http.MethodGet, n.base+"/attested/orders", map[string]string{"Attestation-Token": d.token}, nil); r.status != http.StatusOK {
			t.Errorf("token from node1 on %s: %s", n.name, r)
		}
		h, err := d.signed(http.MethodGet, "/signed/orders")
		if err != nil {
			t.Fatal(err)
		}
		if r := c.must(http.MethodGet, n.base+"/signed/orders", h, nil); r.status != http.StatusOK {
			t.Errorf("signed request on %s: %s", n.name, r)
		}
	}

	r := c.operator(c.nodes[2], http.MethodGet, "/v1/apps/shop/devices/"+d.install)
	var rec struct {
		Install  string `json:"install"`
		Platform string `json:"platform"`
		BoundKey string `json:"bound_key"`
	}
	if err := json.Unmarshal(r.body, &rec); err != nil || r.status != http.StatusOK ||
		rec.Install != d.install || rec.Platform != "dev" || rec.BoundKey != d.key.JKT {
		t.Errorf("the device record on node2: %s %s", r, r.body)
	}

	// The same device key with another request-signing key: node2 knows
	// the key is registered with K, and refuses.
	thief := f.newDevice(t, "shop")
	thief.att = d.att
	ch, _, err := c.challenge(c.nodes[2], "shop")
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.exchange(c.nodes[2], thief, "shop", ch, "1.0.0"); err != nil || r.reason != "attestation.key_mismatch" {
		t.Errorf("re-attestation with another signing key on node2: %s %v, want attestation.key_mismatch", r, err)
	}
	// With K, it attests again as the same install.
	again := &device{att: d.att, key: d.key, signer: d.signer}
	c.attest(c.nodes[2], c.nodes[2], again, "shop", "1.0.0")
	if again.install != d.install {
		t.Errorf("re-attestation on node2: install %s, want %s", again.install, d.install)
	}
}

// testControlsPropagate: a version blocked, unblocked, or a device revoked
// through one node's operator API applies on every node within one
// second.
func testControlsPropagate(t *testing.T, c *cluster, f *fixtures) {
	d := f.newDevice(t, "shop")
	c.attest(c.nodes[0], c.nodes[0], d, "shop", "1.4.2")
	h := map[string]string{"Attestation-Token": d.token}
	for _, step := range []struct {
		name   string
		via    *node
		method string
		path   string
		want   string // the status and reason every node must answer
	}{
		{"block version 1.4.2", c.nodes[0], http.MethodPost, "/v1/apps/shop/versions/1.4.2/block", "403 attestation.version_blocked"},
		{"unblock it", c.nodes[1], http.MethodDelete, "/v1/apps/shop/versions/1.4.2/block", "200"},
		{"revoke the device", c.nodes[2], http.MethodPost, "/v1/apps/shop/devices/" + d.install + "/revoke", "403 attestation.device_revoked"},
	} {
		start := time.Now()
		if r := c.operator(step.via, step.method, step.path); r.status != http.StatusOK {
			t.Fatalf("%s through %s: %s %s", step.name, step.via.name, r, r.body)
		}
		delays := make([]time.Duration, len(c.nodes))
		var wg sync.WaitGroup
		for i, n := range c.nodes {
			wg.Go(func() {
				last := ""
				_, err := waitFor(3*time.Second, 5*time.Millisecond, func() bool {
					r, err := c.do(http.MethodGet, n.base+"/attested/orders", h, nil)
					last = fmt.Sprint(r, err)
					return err == nil && r.String() == step.want
				})
				delays[i] = time.Since(start)
				if err != nil {
					t.Errorf("%s through %s: %s still answers %s after %v", step.name, step.via.name, n.name, last, delays[i])
				}
			})
		}
		wg.Wait()
		worst := 0 * time.Second
		for _, d := range delays {
			worst = max(worst, d)
		}
		t.Logf("%s through %s: applied after %v (node0, node1, node2; the operator's request included)", step.name, step.via.name, roundAll(delays))
		if worst >= time.Second {
			t.Errorf("%s: applied on every node after %v, want < 1s", step.name, worst)
		}
	}
	r := c.operator(c.nodes[1], http.MethodGet, "/v1/controls")
	if !strings.Contains(string(r.body), d.install) {
		t.Errorf("GET /v1/controls on node1 does not list the revoked install: %s", r.body)
	}
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}

// commandStats reads INFO commandstats: command to calls.
func commandStats(t *testing.T, addr string) map[string]int {
	t.Helper()
	info, err := testenv.RedisDo(addr, "INFO", "commandstats")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(strings.SplitN(rest, ",", 2)[0])
		out[strings.TrimPrefix(name, "cmdstat_")] = n
	}
	return out
}

// scriptCost reports the Redis CPU time of the script calls, whose
// usec include the commands the script runs.
func scriptCost(t *testing.T, addr string) string {
	t.Helper()
	info, err := testenv.RedisDo(addr, "INFO", "commandstats")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_evalsha:"); ok {
			for _, f := range strings.Split(rest, ",") {
				if v, ok := strings.CutPrefix(f, "usec_per_call="); ok {
					return "Redis CPU per script call " + v + " µs"
				}
			}
		}
	}
	return "no script call"
}

func resetStats(t *testing.T, addr string) {
	t.Helper()
	if _, err := testenv.RedisDo(addr, "CONFIG", "RESETSTAT"); err != nil {
		t.Fatal(err)
	}
}

// withoutStats drops the commands the test itself sends.
func withoutStats(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		if k != "info" && !strings.HasPrefix(k, "config") {
			out[k] = v
		}
	}
	return out
}

// testScriptCalls: Redis's own command statistics show one script call
// (EVALSHA) per rate-limited request, on every node, and exactly the
// commands each kind of request needs (docs/operations.md's sizing
// counts them).
func testScriptCalls(t *testing.T, c *cluster, f *fixtures, addr string) {
	// The script is in Redis's cache already (the earlier subtests), so
	// no EVAL is expected; a request per node makes sure of it.
	for _, n := range c.nodes {
		c.must(http.MethodGet, n.base+"/api/warm", map[string]string{"X-Forwarded-For": "198.51.100.12"}, nil)
	}
	resetStats(t, addr)
	const n = 300
	codes := map[int]int{}
	for i := range n {
		r := c.must(http.MethodGet, c.nodes[i%3].base+"/api/orders", map[string]string{"X-Forwarded-For": "198.51.100.12"}, nil)
		codes[r.status]++
	}
	// INFO commandstats also counts the commands the script runs: TIME,
	// a GET per limit, and a SET per limit when the request is allowed.
	// The gateway itself sends one EVALSHA.
	got := withoutStats(commandStats(t, addr))
	t.Logf("%d requests to /api/ (answers %v): Redis commands %v; %s", n, codes, got, scriptCost(t, addr))
	if want := map[string]int{"evalsha": n, "time": n, "get": n, "set": codes[http.StatusOK]}; !equalMaps(got, want) {
		t.Errorf("Redis commands for %d rate-limited requests: %v, want %v", n, got, want)
	}

	// Attestation, rate limit and signature: the script, and the
	// signature's nonce claimed with SET NX.
	d := f.newDevice(t, "shop")
	c.attest(c.nodes[1], c.nodes[2], d, "shop", "1.0.0")
	resetStats(t, addr)
	const signed = 60
	for i := range signed {
		h, err := d.signed(http.MethodGet, "/signed/orders")
		if err != nil {
			t.Fatal(err)
		}
		if r := c.must(http.MethodGet, c.nodes[i%3].base+"/signed/orders", h, nil); r.status != http.StatusOK {
			t.Fatalf("signed request: %s", r)
		}
	}
	got = withoutStats(commandStats(t, addr))
	t.Logf("%d signed requests (attestation, ratelimit, signature): Redis commands %v", signed, got)
	if want := map[string]int{"evalsha": signed, "time": signed, "get": signed, "set": 2 * signed}; !equalMaps(got, want) {
		t.Errorf("Redis commands for %d signed requests: %v, want %v", signed, got, want)
	}

	// An attestation: the challenge is stored, then taken.
	resetStats(t, addr)
	const attestations = 10
	for i := range attestations {
		c.attest(c.nodes[i%3], c.nodes[(i+1)%3], f.newDevice(t, "shop"), "shop", "1.0.0")
	}
	got = withoutStats(commandStats(t, addr))
	t.Logf("%d attestations (challenge on one node, exchange on the next): Redis commands %v", attestations, got)
	if want := map[string]int{"set": attestations, "getdel": attestations}; !equalMaps(got, want) {
		t.Errorf("Redis commands for %d attestations: %v, want %v", attestations, got, want)
	}
}

func equalMaps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
