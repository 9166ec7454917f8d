package telemetry

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pvs/pvs/pkg/queue"
)

// Depther reads the backlog of the stages (queue.Client does).
type Depther interface {
	Depths(ctx context.Context) ([]queue.Depth, error)
}

// depthCollector reads the backlog from Redis at each scrape rather than
// counting pushes and pops: producers are other processes (pvs enqueue,
// PVS itself) that no counter of this daemon sees.
type depthCollector struct {
	q       Depther
	timeout time.Duration
	up      *prometheus.Desc
	length  *prometheus.Desc
	delayed *prometheus.Desc
	running *prometheus.Desc
	failed  *prometheus.Desc
}

// WatchQueues adds the backlog of every stage, read from Redis with at
// most timeout per scrape. When Redis does not answer in time, the scrape
// still succeeds, with pvs_queue_up 0 and no backlog series.
func (m *Metrics) WatchQueues(q Depther, timeout time.Duration) {
	m.reg.MustRegister(&depthCollector{q: q, timeout: timeout,
		up: prometheus.NewDesc("pvs_queue_up",
			"1 if the queue backlog could be read from Redis at this scrape, else 0.", nil, nil),
		length: prometheus.NewDesc("pvs_queue_length",
			"Items waiting in a queue (LLEN).", []string{"stage", "queue"}, nil),
		delayed: prometheus.NewDesc("pvs_queue_delayed",
			"Items of a queue waiting for their retry.", []string{"stage", "queue"}, nil),
		running: prometheus.NewDesc("pvs_queue_in_progress",
			"Items being worked on: the size of the stage's progress set (SCARD).", []string{"stage"}, nil),
		failed: prometheus.NewDesc("pvs_queue_failed",
			"Items in the stage's failure set, waiting for an operator (pvs retry).", []string{"stage"}, nil),
	})
}

// Describe implements prometheus.Collector.
func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.length, c.delayed, c.running, c.failed} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	depths, err := c.q.Depths(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, d := range depths {
		for q, n := range d.Queued {
			ch <- prometheus.MustNewConstMetric(c.length, prometheus.GaugeValue, float64(n), d.Stage, q)
		}
		for q, n := range d.Delayed {
			ch <- prometheus.MustNewConstMetric(c.delayed, prometheus.GaugeValue, float64(n), d.Stage, q)
		}
		ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, float64(d.InProgress), d.Stage)
		ch <- prometheus.MustNewConstMetric(c.failed, prometheus.GaugeValue, float64(d.Failed), d.Stage)
	}
}
