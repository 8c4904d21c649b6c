package cluster

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A probe is one kind of request the load sends, with what it must get
// in each state of the stores.
type probe struct {
	name string
	send func(c *cluster, n *node) (reply, error)
}

// event is one answered (or failed) request of the load.
type event struct {
	probe      string
	node       int
	start, end time.Time
	outcome    string // "200", "503 signature.unavailable", or "error: ..."
}

// load sends the probes round-robin over the nodes from a few goroutines
// until stopped, bounded in time and in count, and records every answer.
type load struct {
	c      *cluster
	probes []probe
	stop   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
	mu     sync.Mutex
	events []event
	n      atomic.Int64
}

// Bounds of one load: the failure test sends a few hundred requests a
// second for well under a minute.
const (
	loadWorkers  = 4
	loadPause    = 2 * time.Millisecond // between two requests of a worker
	loadMaxTime  = 90 * time.Second
	loadMaxCount = 200_000
)

func startLoad(c *cluster, probes []probe) *load {
	l := &load{c: c, probes: probes, stop: make(chan struct{})}
	c.t.Cleanup(l.halt) // when the test fails before halting it
	deadline := time.Now().Add(loadMaxTime)
	for w := range loadWorkers {
		l.wg.Go(func() {
			for i := w; ; i += loadWorkers {
				select {
				case <-l.stop:
					return
				default:
				}
				if time.Now().After(deadline) || l.n.Add(1) > loadMaxCount {
					return
				}
				p := probes[i%len(probes)]
				ni := (i / len(probes)) % len(c.nodes)
				start := time.Now()
				r, err := p.send(c, c.nodes[ni])
				e := event{probe: p.name, node: ni, start: start, end: time.Now(), outcome: r.String()}
				if err != nil {
					e.outcome = "error: " + err.Error()
				}
				l.mu.Lock()
				l.events = append(l.events, e)
				l.mu.Unlock()
				time.Sleep(loadPause)
			}
		})
	}
	return l
}

// halt stops the load and waits for its goroutines. It may be called
// more than once.
func (l *load) halt() {
	l.once.Do(func() { close(l.stop) })
	l.wg.Wait()
}

// within returns the outcomes of requests that started after from and
// ended before to, by probe: outcome to count.
func (l *load) within(from, to time.Time) map[string]map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]map[string]int{}
	for _, e := range l.events {
		if e.start.Before(from) || e.end.After(to) {
			continue
		}
		if out[e.probe] == nil {
			out[e.probe] = map[string]int{}
		}
		out[e.probe][e.outcome]++
	}
	return out
}

// count is the number of requests sent so far.
func (l *load) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

// firstSuccess returns, for each node, when probe first answered want
// after t (zero if it has not).
func (l *load) firstSuccess(probe, want string, t time.Time) []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]time.Time, len(l.c.nodes))
	for _, e := range l.events {
		if e.probe == probe && e.start.After(t) && e.outcome == want && (out[e.node].IsZero() || e.end.Before(out[e.node])) {
			out[e.node] = e.end
		}
	}
	return out
}

// format renders outcomes by probe, sorted, for logs.
func format(m map[string]map[string]int) string {
	var probes []string
	for p := range m {
		probes = append(probes, p)
	}
	sort.Strings(probes)
	var b strings.Builder
	for _, p := range probes {
		fmt.Fprintf(&b, "\n    %-22s", p)
		var outs []string
		for o, n := range m[p] {
			outs = append(outs, fmt.Sprintf("%s ×%d", o, n))
		}
		sort.Strings(outs)
		b.WriteString(strings.Join(outs, ", "))
	}
	return b.String()
}

// get is a probe sending GET path with the headers h makes.
func get(name, path string, h func() (map[string]string, error)) probe {
	return probe{name: name, send: func(c *cluster, n *node) (reply, error) {
		var header map[string]string
		if h != nil {
			var err error
			if header, err = h(); err != nil {
				return reply{}, err
			}
		}
		return c.do(http.MethodGet, n.base+path, header, nil)
	}}
}
