package telemetry

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pvs/pvs/pkg/queue"
)

// Pressure watches a worker's recent outcomes and puts it in a degraded
// state when too many of them are retries: a child that crashed, a
// conversion that timed out, a dependency that failed. A worker in that
// state takes no new item for a while (queue.ConsumerOptions.Hold) and
// says so on /readyz and in pvs_worker_degraded, instead of burning
// through the queue and spending every item's attempts on a fault that is
// its own. Permanent failures (a broken package) are the input's fault and
// do not count.
type Pressure struct {
	Window   int           // outcomes looked at; default 20
	Limit    float64       // fraction of retries that degrades; default 0.5
	Cooldown time.Duration // how long a degraded worker holds; default 1m
	// OnDegraded, when set, learns each entry into the degraded state
	// (e.g. to record it where `pvs status` sees it).
	OnDegraded func(reason string, hold time.Duration)
	now        func() time.Time

	mu      sync.Mutex
	recent  []bool // true: a retry
	until   time.Time
	reason  string
	entered int
}

func (p *Pressure) defaults() {
	if p.Window <= 0 {
		p.Window = 20
	}
	if p.Limit <= 0 {
		p.Limit = 0.5
	}
	if p.Cooldown <= 0 {
		p.Cooldown = time.Minute
	}
	if p.now == nil {
		p.now = time.Now
	}
}

// ItemDone implements queue.Observer.
func (p *Pressure) ItemDone(_ string, outcome queue.Outcome, _ time.Duration) {
	if reason, ok := p.record(outcome == queue.OutcomeRetry); ok && p.OnDegraded != nil {
		p.OnDegraded(reason, p.Cooldown)
	}
}

// record adds an outcome and tells whether the worker just became degraded.
func (p *Pressure) record(retry bool) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.defaults()
	p.recent = append(p.recent, retry)
	if len(p.recent) > p.Window {
		p.recent = p.recent[len(p.recent)-p.Window:]
	}
	retries := 0
	for _, r := range p.recent {
		if r {
			retries++
		}
	}
	// Half a window at least, so that one early crash is not a pattern.
	if len(p.recent) < (p.Window+1)/2 || float64(retries) < p.Limit*float64(len(p.recent)) {
		return "", false
	}
	p.until = p.now().Add(p.Cooldown)
	p.reason = fmt.Sprintf("%d of the last %d items had to be retried (crashes, timeouts, failing dependencies)", retries, len(p.recent))
	p.recent = p.recent[:0]
	p.entered++
	return p.reason, true
}

// Hold returns an error while the worker is degraded; it implements
// queue.ConsumerOptions.Hold and serves as a readiness check.
func (p *Pressure) Hold() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.defaults()
	if now := p.now(); now.Before(p.until) {
		return fmt.Errorf("degraded: %s; taking no new item for %s", p.reason, p.until.Sub(now).Round(time.Second))
	}
	return nil
}

// Observers is one queue.Observer made of several.
type Observers []queue.Observer

// ItemDone implements queue.Observer.
func (os Observers) ItemDone(stage string, outcome queue.Outcome, elapsed time.Duration) {
	for _, o := range os {
		if o != nil {
			o.ItemDone(stage, outcome, elapsed)
		}
	}
}

// WatchPressure exports the degraded state as pvs_worker_degraded (1 while
// degraded) and the times it was entered as pvs_worker_degraded_total.
func (m *Metrics) WatchPressure(p *Pressure) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pvs_worker_degraded", Help: "1 while the worker holds off new items because too many recent ones were retried.",
	}, func() float64 {
		if p.Hold() != nil {
			return 1
		}
		return 0
	}), prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "pvs_worker_degraded_total", Help: "Times the worker entered the degraded state.",
	}, func() float64 {
		p.mu.Lock()
		defer p.mu.Unlock()
		return float64(p.entered)
	}))
}
