package cluster

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/testenv"
)

// failureYAML: one route per failure mode. Rate limits high enough that
// nothing is refused for being over them, so that every refusal is the
// store's.
func failureYAML(f *fixtures) string {
	return `
listen: ${LISTEN}
admin:
  listen: ${ADMIN_LISTEN}
  token: ${file:` + f.tokenFile + `}
  pprof: true
state:
  hot: ${REDIS_URL}
  durable: ${DATABASE_URL}
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
  - name: open
    match: {path_prefix: /open/}
    upstream: app
    policies:
      - ratelimit:
          limits: [{name: per-ip, key: ip, rate: 100000, per: 1s}]
          on_store_error: open
  - name: closed
    match: {path_prefix: /closed/}
    upstream: app
    policies:
      - ratelimit:
          limits: [{name: per-ip, key: ip, rate: 100000, per: 1s}]
          on_store_error: closed
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
      - signature:
          attested: true
          origin: ` + publicOrigin + `
          required: ['@method', '@authority', '@path', attestation-token]
  - name: dpop
    match: {path_prefix: /dpop/}
    upstream: app
    policies:
      - attestation: {apps: [shop]}
      - dpop: {origin: ` + publicOrigin + `}
`
}

// expectation is what a probe must answer with both stores up, with
// Redis down, and with PostgreSQL down.
type expectation struct{ up, redisDown, pgDown string }

const (
	ok                   = "200"
	attestUnavailable    = "503 attestation.unavailable"
	signatureUnavailable = "503 signature.unavailable"
)

var expectations = map[string]expectation{
	// Rate limiting may fail open, to this node's memory.
	"ratelimit open": {ok, ok, ok},
	// Or closed, when configured so.
	"ratelimit closed": {ok, "503 ratelimit.unavailable", ok},
	// Replay checks fail closed: a nonce or jti that cannot be claimed
	// could be replayed.
	"signature": {ok, signatureUnavailable, ok},
	"dpop":      {ok, "503 dpop.unavailable", ok},
	// A token is checked with the keys and the controls in memory: it
	// needs neither store, and a revocation read before the outage holds.
	"token":         {ok, ok, ok},
	"revoked token": {"403 attestation.device_revoked", "403 attestation.device_revoked", "403 attestation.device_revoked"},
	// Attestation fails closed: a challenge that cannot be stored or
	// consumed, a device that cannot be registered or read.
	"challenge":          {ok, attestUnavailable, ok},
	"attest new device":  {ok, attestUnavailable, attestUnavailable},
	"attest known again": {ok, attestUnavailable, attestUnavailable},
}

// TestFailures stops and restarts Redis, then PostgreSQL (a private
// instance), under load on three nodes, and checks each layer's failure
// mode, the nodes' logs and metrics, their recovery, and that they neither
// crash nor leak goroutines.
func TestFailures(t *testing.T) {
	redis := testenv.Redis(t)
	pg := testenv.PrivatePostgres(t)
	dsn := pg.Database(t)
	up := newUpstream(t)
	f := newFixtures(t)
	c := startCluster(t, 3, failureYAML(f), map[string]string{
		"REDIS_URL": redis.URL(), "DATABASE_URL": dsn, "UPSTREAM": up.URL,
	}, f.token)

	// The devices: one whose token and key the load uses, one that
	// attests again, one revoked before any outage.
	d, known, revoked := f.newDevice(t, "shop"), f.newDevice(t, "shop"), f.newDevice(t, "shop")
	c.attest(c.nodes[0], c.nodes[1], d, "shop", "1.0.0")
	c.attest(c.nodes[1], c.nodes[2], known, "shop", "1.0.0")
	c.attest(c.nodes[2], c.nodes[0], revoked, "shop", "1.0.0")
	if r := c.operator(c.nodes[0], http.MethodPost, "/v1/apps/shop/devices/"+revoked.install+"/revoke"); r.status != http.StatusOK {
		t.Fatalf("revoke: %s", r)
	}
	for _, n := range c.nodes {
		if _, err := waitFor(2*time.Second, 5*time.Millisecond, func() bool {
			r, err := c.do(http.MethodGet, n.base+"/attested/orders", map[string]string{"Attestation-Token": revoked.token}, nil)
			return err == nil && r.reason == "attestation.device_revoked"
		}); err != nil {
			t.Fatalf("%s: the revocation is not applied", n.name)
		}
	}
	probes := []probe{
		get("ratelimit open", "/open/orders", nil),
		get("ratelimit closed", "/closed/orders", nil),
		get("signature", "/signed/orders", func() (map[string]string, error) { return d.signed(http.MethodGet, "/signed/orders") }),
		get("dpop", "/dpop/orders", func() (map[string]string, error) {
			return map[string]string{"Attestation-Token": d.token, "DPoP": d.key.Proof(http.MethodGet, publicOrigin+"/dpop/orders")}, nil
		}),
		get("token", "/attested/orders", func() (map[string]string, error) {
			return map[string]string{"Attestation-Token": d.token}, nil
		}),
		get("revoked token", "/attested/orders", func() (map[string]string, error) {
			return map[string]string{"Attestation-Token": revoked.token}, nil
		}),
		{name: "challenge", send: func(c *cluster, n *node) (reply, error) {
			_, r, err := c.challenge(n, "shop")
			return r, err
		}},
		{name: "attest new device", send: func(c *cluster, n *node) (reply, error) {
			d, err := f.makeDevice("shop")
			if err != nil {
				return reply{}, err
			}
			return attestOnce(c, n, d)
		}},
		{name: "attest known again", send: func(c *cluster, n *node) (reply, error) {
			again := &device{att: known.att, key: known.key, signer: known.signer}
			return attestOnce(c, n, again)
		}},
	}

	// Warm up every path, then count goroutines at rest.
	start := time.Now()
	warm := startLoad(c, probes)
	time.Sleep(time.Second)
	warm.halt()
	checkWindow(t, "warm-up", warm, start, time.Now(), func(e expectation) string { return e.up })
	before := goroutines(t, c, up)

	l := startLoad(c, probes)
	time.Sleep(time.Second)

	// Redis: killed, as a crash would; restarted empty.
	challengeBefore, _, err := c.challenge(c.nodes[0], "shop")
	if err != nil {
		t.Fatal(err)
	}
	redis.Stop()
	down := time.Now()
	time.Sleep(3 * time.Second)
	// A challenge issued before the outage cannot be consumed during it.
	r, err := c.exchange(c.nodes[1], f.newDevice(t, "shop"), "shop", challengeBefore, "1.0.0")
	if err != nil || r.String() != attestUnavailable {
		t.Errorf("exchange of an earlier challenge with Redis down: %s %v, want %s", r, err, attestUnavailable)
	}
	back := time.Now()
	redis.Start(t)
	restarted := time.Now()
	t.Logf("Redis killed at %s, started again at %s (answering at %s)", down.Format("15:04:05.000"), back.Format("15:04:05.000"), restarted.Format("15:04:05.000"))
	checkWindow(t, "Redis down", l, down, back, func(e expectation) string { return e.redisDown })
	recovery(t, c, l, "Redis", restarted, "ratelimit closed", "signature", "dpop", "challenge", "attest new device")
	// Redis came back empty: the earlier challenge is gone, and refused.
	if r, err := c.exchange(c.nodes[2], f.newDevice(t, "shop"), "shop", challengeBefore, "1.0.0"); err != nil || r.reason != "attestation.challenge_invalid" {
		t.Errorf("exchange of a challenge issued before the restart: %s %v, want attestation.challenge_invalid", r, err)
	}
	steady := time.Now()
	time.Sleep(time.Second)
	checkWindow(t, "after Redis recovered", l, steady, time.Now(), func(e expectation) string { return e.up })

	// PostgreSQL: stopped (fast shutdown: sessions ended), then started.
	pg.Stop(t)
	down = time.Now()
	time.Sleep(2 * time.Second)
	if r := c.operator(c.nodes[1], http.MethodPost, "/v1/apps/shop/versions/9.9.9/block"); r.reason != "admin.unavailable" {
		t.Errorf("operator change with PostgreSQL down: %s, want 503 admin.unavailable", r)
	}
	time.Sleep(time.Second)
	back = time.Now()
	pg.Start(t)
	restarted = time.Now()
	t.Logf("PostgreSQL stopped at %s, started again at %s (answering at %s)", down.Format("15:04:05.000"), back.Format("15:04:05.000"), restarted.Format("15:04:05.000"))
	checkWindow(t, "PostgreSQL down", l, down, back, func(e expectation) string { return e.pgDown })
	recovery(t, c, l, "PostgreSQL", restarted, "attest new device", "attest known again")
	// The controls poller kept the last controls read (the revoked token
	// stayed refused throughout), and reads the store again: it says so,
	// once, although no control changed meanwhile...
	var pollerBack []time.Duration
	for _, n := range c.nodes {
		var at time.Time
		if _, err := waitFor(3*time.Second, 10*time.Millisecond, func() bool {
			at = n.logs.timeOf("run-time controls readable again")
			return !at.IsZero()
		}); err != nil {
			t.Errorf("%s: the controls poller did not log its recovery", n.name)
		}
		pollerBack = append(pollerBack, at.Sub(back))
	}
	t.Logf("the controls pollers logged their recovery %v after PostgreSQL was started again (it polls every 500ms)", roundAll(pollerBack))
	// ...and a change made now applies everywhere within a second.
	d2 := f.newDevice(t, "shop")
	c.attest(c.nodes[0], c.nodes[1], d2, "shop", "2.0.0")
	start = time.Now()
	if r := c.operator(c.nodes[2], http.MethodPost, "/v1/apps/shop/versions/2.0.0/block"); r.status != http.StatusOK {
		t.Fatalf("block after PostgreSQL recovered: %s", r)
	}
	for _, n := range c.nodes {
		if _, err := waitFor(2*time.Second, 5*time.Millisecond, func() bool {
			r, err := c.do(http.MethodGet, n.base+"/attested/orders", map[string]string{"Attestation-Token": d2.token}, nil)
			return err == nil && r.reason == "attestation.version_blocked"
		}); err != nil {
			t.Errorf("%s: a version blocked after PostgreSQL recovered is not applied", n.name)
		}
	}
	t.Logf("a version blocked after PostgreSQL recovered: applied on every node after %v", time.Since(start).Round(time.Millisecond))
	steady = time.Now()
	time.Sleep(time.Second)
	checkWindow(t, "after PostgreSQL recovered", l, steady, time.Now(), func(e expectation) string { return e.up })
	l.halt()
	t.Logf("load: %d requests from %d goroutines", l.count()+warm.count(), loadWorkers)

	for _, n := range c.nodes {
		if !n.alive() {
			t.Fatalf("%s exited: %v\n%s", n.name, n.err, n.logs.tail(30))
		}
	}
	checkLogs(t, c)
	checkMetrics(t, c)
	after := goroutines(t, c, up)
	for i, n := range c.nodes {
		t.Logf("%s goroutines at rest: %d before the outages, %d after", n.name, before[i].total, after[i].total)
		if after[i].total > before[i].total+2 {
			t.Errorf("%s: %d goroutines after the outages, %d before: a leak?\nbefore:\n%s\nafter:\n%s",
				n.name, after[i].total, before[i].total, before[i].dump, after[i].dump)
		}
	}
}

// attestOnce runs a challenge on n and the exchange on the next node. Its
// answer is the first that failed.
func attestOnce(c *cluster, n *node, d *device) (reply, error) {
	ch, r, err := c.challenge(n, "shop")
	if err != nil || ch == "" {
		return r, err
	}
	next := c.nodes[0]
	for i, m := range c.nodes {
		if m == n {
			next = c.nodes[(i+1)%len(c.nodes)]
		}
	}
	return c.exchange(next, d, "shop", ch, "1.0.0")
}

// checkWindow checks every answer of the load between from and to.
func checkWindow(t *testing.T, phase string, l *load, from, to time.Time, want func(expectation) string) {
	t.Helper()
	got := l.within(from, to)
	t.Logf("%s (%v): answers by probe:%s", phase, to.Sub(from).Round(time.Millisecond), format(got))
	for name, e := range expectations {
		w := want(e)
		if got[name][w] == 0 {
			t.Errorf("%s: %s never answered %s", phase, name, w)
		}
		for o, n := range got[name] {
			if o != w {
				t.Errorf("%s: %s answered %s %d times, want %s", phase, name, o, n, w)
			}
		}
	}
}

// recovery waits until each probe has answered as with the stores up on
// every node after the store was restarted, and reports how long that
// took.
func recovery(t *testing.T, c *cluster, l *load, store string, restarted time.Time, probes ...string) {
	t.Helper()
	var worst time.Duration
	var lines []string
	for _, p := range probes {
		var firsts []time.Time
		_, err := waitFor(15*time.Second, 20*time.Millisecond, func() bool {
			firsts = l.firstSuccess(p, expectations[p].up, restarted)
			for _, f := range firsts {
				if f.IsZero() {
					return false
				}
			}
			return true
		})
		if err != nil {
			t.Errorf("%s restarted: %s has not answered %s on every node after 15s (%v)", store, p, expectations[p].up, firsts)
			continue
		}
		var ds []time.Duration
		for _, f := range firsts {
			ds = append(ds, f.Sub(restarted))
			worst = max(worst, f.Sub(restarted))
		}
		lines = append(lines, fmt.Sprintf("%s %v", p, roundAll(ds)))
	}
	t.Logf("%s back: recovered after %v at worst (by probe, node0 node1 node2: %s)", store, worst.Round(time.Millisecond), strings.Join(lines, "; "))
	if worst > 3*time.Second {
		t.Errorf("%s: recovery took %v, want a few seconds at most", store, worst)
	}
}

// checkLogs: an outage and a recovery are one line each per node and
// component, never one per request.
func checkLogs(t *testing.T, c *cluster) {
	t.Helper()
	for _, n := range c.nodes {
		counts := map[string]int{}
		var lines []string
		for _, e := range n.logs.operational() {
			msg, _ := e["msg"].(string)
			counts[msg]++
			if e["level"] != "INFO" || strings.Contains(msg, "again") {
				ts, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(e["time"]))
				line := fmt.Sprintf("%s %v %q", ts.Format("15:04:05.000"), e["level"], msg)
				if p, ok := e["policy"]; ok {
					line += fmt.Sprintf(" policy=%v", p)
				}
				lines = append(lines, line)
			}
		}
		t.Logf("%s: outage and recovery log lines:\n    %s", n.name, strings.Join(lines, "\n    "))
		for msg, want := range map[string]int{
			// One per ratelimit layer (open and closed).
			"ratelimit: shared store unavailable":     2,
			"ratelimit: shared store available again": 2,
			// The replay guards and the attestation service's challenges.
			"state.hot: unavailable; replay checks and attestation fail closed until it is back": 1,
			"state.hot: available again": 1,
			// The controls poller.
			"reading run-time controls failed; using the last ones read": 1,
			"run-time controls readable again":                           1,
		} {
			if counts[msg] != want {
				t.Errorf("%s: %d log lines %q, want %d", n.name, counts[msg], msg, want)
			}
		}
		total := 0
		for _, v := range counts {
			total += v
		}
		if total > 40 {
			t.Errorf("%s: %d operational log lines: logging per request? %v", n.name, total, counts)
		}
	}
}

// checkMetrics: store errors are counted per attempt (at most one a
// second per layer while Redis is down), fallbacks and refusals per
// request.
func checkMetrics(t *testing.T, c *cluster) {
	t.Helper()
	for _, n := range c.nodes {
		m, err := c.metrics(n)
		if err != nil {
			t.Fatal(err)
		}
		errOpen := sumMetric(m, "drawbridge_ratelimit_store_errors_total", `policy="routes[0].policies[0]"`)
		errClosed := sumMetric(m, "drawbridge_ratelimit_store_errors_total", `policy="routes[1].policies[0]"`)
		fallbacks := sumMetric(m, "drawbridge_ratelimit_fallbacks_total")
		refusals := map[string]float64{}
		for _, reason := range []string{"ratelimit.unavailable", "signature.unavailable", "dpop.unavailable", "attestation.unavailable"} {
			refusals[reason] = sumMetric(m, "drawbridge_decisions_total", `reason="`+reason+`"`)
		}
		t.Logf("%s metrics: drawbridge_ratelimit_store_errors_total open %v closed %v; drawbridge_ratelimit_fallbacks_total %v; drawbridge_decisions_total by reason %v; resident memory %.0f MB",
			n.name, errOpen, errClosed, fallbacks, refusals, m["process_resident_memory_bytes"]/1e6)
		for name, v := range map[string]float64{"store errors (open)": errOpen, "store errors (closed)": errClosed} {
			if v < 1 || v > 8 {
				t.Errorf("%s: %s = %v, want about one per second of outage", n.name, name, v)
			}
		}
		if fallbacks < 1 {
			t.Errorf("%s: no fallback counted", n.name)
		}
		for reason, v := range refusals {
			if v < 1 {
				t.Errorf("%s: no %s refusal counted", n.name, reason)
			}
		}
	}
}

// goroutineCount is a node's goroutine profile at rest.
type goroutineCount struct {
	total int
	dump  string
}

var profileTotal = regexp.MustCompile(`goroutine profile: total (\d+)`)

// goroutines reads every node's goroutine profile (admin.pprof) once no
// request is in flight and no connection idles: the client's and the
// upstream's keep-alive connections are closed first, since each holds
// goroutines on the node. It waits for the count to settle.
func goroutines(t *testing.T, c *cluster, up *upstream) []goroutineCount {
	t.Helper()
	out := make([]goroutineCount, len(c.nodes))
	for i, n := range c.nodes {
		prev := -1
		for range 50 {
			c.client.CloseIdleConnections()
			up.CloseClientConnections()
			time.Sleep(100 * time.Millisecond)
			r := c.must(http.MethodGet, n.admin+"/debug/pprof/goroutine?debug=1", nil, nil)
			m := profileTotal.FindSubmatch(r.body)
			if r.status != http.StatusOK || m == nil {
				t.Fatalf("%s: goroutine profile: %s", n.name, r)
			}
			total, _ := strconv.Atoi(string(m[1]))
			out[i] = goroutineCount{total: total, dump: string(bytes.TrimSpace(r.body))}
			if total == prev {
				break
			}
			prev = total
		}
	}
	c.client.CloseIdleConnections()
	return out
}
