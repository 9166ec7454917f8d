package telemetry

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pvs/pvs/pkg/queue"
)

// Metrics holds one daemon's metrics. Each Metrics has its own registry,
// not the process-wide default, so that tests (and two daemons in one
// test binary) never see each other's counts.
type Metrics struct {
	reg       *prometheus.Registry
	items     *prometheus.CounterVec
	itemTime  *prometheus.HistogramVec
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	tiles     *prometheus.CounterVec
	seedTiles *prometheus.CounterVec
	tilesSeen sync.Once
}

// Item durations span a metadata-only registration (milliseconds) to the
// conversion of a large scene or a seeding job (tens of minutes).
var itemBuckets = []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}

// Requests span a tile from memory (sub-millisecond) to a WCS cut of a
// large product (tens of seconds).
var requestBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// New returns the metrics of the named daemon, with Go runtime and process
// metrics and pvs_build_info already registered.
func New(daemon, version string) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.items = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pvs_queue_items_total",
		Help: "Items whose attempt finished, by stage and outcome (success, failure, retry).",
	}, []string{"stage", "outcome"})
	m.itemTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "pvs_queue_item_duration_seconds", Buckets: itemBuckets,
		Help: "Time the handler spent on one attempt of an item, by stage and outcome.",
	}, []string{"stage", "outcome"})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pvs_http_requests_total",
		Help: "HTTP requests answered, by service, protocol, operation and status code.",
	}, []string{"service", "protocol", "operation", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "pvs_http_request_duration_seconds", Buckets: requestBuckets,
		Help: "Time to answer an HTTP request, by service, protocol and operation.",
	}, []string{"service", "protocol", "operation"})
	m.tiles = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pvs_tilecache_tiles_total",
		Help: "Tiles served by the cache, by result: hit, miss (rendered) or blank (outside the layer's data).",
	}, []string{"result"})
	m.seedTiles = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pvs_seed_tiles_total",
		Help: "Tiles the seeder stored (action seed) or removed (action truncate); rate() is the seeding speed.",
	}, []string{"action"})
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pvs_build_info", Help: "Always 1; the labels name the daemon and its version.",
	}, []string{"daemon", "version"})
	info.WithLabelValues(daemon, version).Set(1)
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		info, m.items, m.itemTime, m.requests, m.latency, m.tiles, m.seedTiles)
	return m
}

// Registry returns the registry the metrics are in, for more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ItemDone implements queue.Observer.
func (m *Metrics) ItemDone(stage string, outcome queue.Outcome, elapsed time.Duration) {
	m.items.WithLabelValues(stage, string(outcome)).Inc()
	m.itemTime.WithLabelValues(stage, string(outcome)).Observe(elapsed.Seconds())
}

// TilesDone implements seed.Observer.
func (m *Metrics) TilesDone(n int, truncate bool) {
	action := "seed"
	if truncate {
		action = "truncate"
	}
	m.seedTiles.WithLabelValues(action).Add(float64(n))
}

// QueueObserver returns the observer of consumers of the stages; their
// counters start at 0 so that the first outcome of each shows in rate().
func (m *Metrics) QueueObserver(stages ...queue.Stage) queue.Observer {
	for _, s := range stages {
		for _, o := range []queue.Outcome{queue.OutcomeSuccess, queue.OutcomeFailure, queue.OutcomeRetry} {
			m.items.WithLabelValues(s.Name, string(o))
		}
	}
	return m
}
