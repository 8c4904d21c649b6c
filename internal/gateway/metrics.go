package gateway

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the gateway's Prometheus metrics. They live as long as the
// process, across config reloads. Label values are route names, layer names
// and reason codes: never client data, so cardinality stays bounded.
type Metrics struct {
	Registry *prometheus.Registry

	decisions       *prometheus.CounterVec
	duration        *prometheus.HistogramVec
	reloads         *prometheus.CounterVec
	connsActive     prometheus.Gauge
	connsRefused    *prometheus.CounterVec
	logDropped      prometheus.Counter
	configTimestamp prometheus.Gauge

	rateLimit *rateLimitMetrics

	mu       sync.Mutex
	counters map[[4]string]prometheus.Counter
}

// NewMetrics registers the gateway's metrics, Go runtime and process
// metrics on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drawbridge_decisions_total",
			Help: "Requests by route, deciding layer, decision (allow, deny, reply) and reason code.",
		}, []string{"route", "layer", "decision", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "drawbridge_request_duration_seconds",
			Help:    "Time from request head to the end of the response, by route and decision.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "decision"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drawbridge_config_reloads_total",
			Help: "Config loads by result (ok, refused).",
		}, []string{"result"}),
		connsActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "drawbridge_connections_active",
			Help: "Open client connections.",
		}),
		connsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drawbridge_connections_refused_total",
			Help: "Client connections closed at accept, by reason (max_connections, max_connections_per_ip, tls_handshake).",
		}, []string{"reason"}),
		logDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drawbridge_log_lines_dropped_total",
			Help: "Decision log lines dropped because the log writer fell behind.",
		}),
		configTimestamp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "drawbridge_config_last_load_timestamp_seconds",
			Help: "When the config in force was loaded.",
		}),
		counters: map[[4]string]prometheus.Counter{},
	}
	m.Registry.MustRegister(m.decisions, m.duration, m.reloads, m.connsActive, m.connsRefused, m.logDropped, m.configTimestamp,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.rateLimit = newRateLimitMetrics(m.Registry)
	return m
}

// routeMetrics are a route's pre-resolved children, so that the common
// case costs no label lookup.
type routeMetrics struct {
	allow         prometheus.Counter
	allowDuration prometheus.Observer
	denyDuration  prometheus.Observer
}

func (m *Metrics) forRoute(name string) *routeMetrics {
	return &routeMetrics{
		allow:         m.decisions.WithLabelValues(name, "", "allow", ""),
		allowDuration: m.duration.WithLabelValues(name, "allow"),
		denyDuration:  m.duration.WithLabelValues(name, "deny"),
	}
}

// decision returns the counter of one outcome, caching it.
func (m *Metrics) decision(route, layer, decision, reason string) prometheus.Counter {
	k := [4]string{route, layer, decision, reason}
	m.mu.Lock()
	c, ok := m.counters[k]
	if !ok {
		c = m.decisions.WithLabelValues(route, layer, decision, reason)
		m.counters[k] = c
	}
	m.mu.Unlock()
	return c
}

// LogLineDropped counts a decision log line dropped by the AsyncWriter.
func (m *Metrics) LogLineDropped() { m.logDropped.Inc() }
