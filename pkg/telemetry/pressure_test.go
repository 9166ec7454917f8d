package telemetry

import (
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/queue"
)

func TestPressureDegradesOnRetriesNotOnFailures(t *testing.T) {
	now := time.Unix(0, 0)
	var told []string
	p := &Pressure{Window: 10, Limit: 0.5, Cooldown: time.Minute, now: func() time.Time { return now },
		OnDegraded: func(reason string, hold time.Duration) { told = append(told, reason+" for "+hold.String()) }}
	// Broken packages are the input's fault: a run of them is no pressure.
	for i := 0; i < 20; i++ {
		p.ItemDone("preprocess", queue.OutcomeFailure, time.Second)
	}
	if err := p.Hold(); err != nil {
		t.Fatalf("permanent failures degraded the worker: %v", err)
	}
	// One crash among successes is no pattern either.
	p.ItemDone("preprocess", queue.OutcomeRetry, time.Second)
	for i := 0; i < 5; i++ {
		p.ItemDone("preprocess", queue.OutcomeSuccess, time.Second)
	}
	if err := p.Hold(); err != nil {
		t.Fatalf("one retry degraded the worker: %v", err)
	}
	for i := 0; i < 6; i++ {
		p.ItemDone("preprocess", queue.OutcomeRetry, time.Second)
	}
	err := p.Hold()
	if err == nil || !strings.Contains(err.Error(), "had to be retried") {
		t.Fatalf("a run of retries did not degrade the worker: %v", err)
	}
	if len(told) != 1 || !strings.Contains(told[0], "for 1m0s") {
		t.Errorf("OnDegraded calls: %q, want one", told)
	}
	now = now.Add(61 * time.Second)
	if err := p.Hold(); err != nil {
		t.Errorf("still degraded after the cooldown: %v", err)
	}
}
