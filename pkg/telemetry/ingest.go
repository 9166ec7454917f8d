package telemetry

import "github.com/prometheus/client_golang/prometheus"

// IngestCounter returns what the ingestor calls for each package a route
// submitted: route is where it came from (http, watch:NAME, harvest:NAME,
// enqueue), queued whether it was pushed, else it was left alone (already
// queued, in progress or registered, or the same version seen before).
func (m *Metrics) IngestCounter() func(route string, queued bool) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pvs_ingest_packages_total",
		Help: "Packages the ingestor's routes submitted, by route and result (queued, left_alone).",
	}, []string{"route", "result"})
	m.reg.MustRegister(c)
	return func(route string, queued bool) {
		result := "left_alone"
		if queued {
			result = "queued"
		}
		c.WithLabelValues(route, result).Inc()
	}
}
