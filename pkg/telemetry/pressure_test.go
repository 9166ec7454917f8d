package telemetry

import (
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/queue"
)

func TestPressureDegradesOnRetriesNotOnFailures(t *testing.T) {
	now := time.Unix(0, 0)
	p := &Pressure{Window: 10, Limit: 0.5, Cooldown: time.Minute, now: func() time.Time { return now }}
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
	now = now.Add(61 * time.Second)
	if err := p.Hold(); err != nil {
		t.Errorf("still degraded after the cooldown: %v", err)
	}
}
