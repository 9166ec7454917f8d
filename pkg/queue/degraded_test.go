package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/queue"
)

func TestDegradedWorkersExpireWithTheirHold(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	testenv.Must(t, q.MarkDegraded(ctx, "w1", "12 of the last 20 items had to be retried", time.Minute), "mark w1")
	testenv.Must(t, q.MarkDegraded(ctx, "w2", "short", 300*time.Millisecond), "mark w2")
	ds, err := q.DegradedWorkers(ctx)
	testenv.Must(t, err, "list")
	if len(ds) != 2 || ds[0].Worker != "w1" || ds[0].Reason == "" || ds[0].Left <= 0 {
		t.Fatalf("degraded workers: %+v", ds)
	}
	time.Sleep(500 * time.Millisecond)
	ds, err = q.DegradedWorkers(ctx)
	testenv.Must(t, err, "list")
	if len(ds) != 1 || ds[0].Worker != "w1" {
		t.Errorf("after w2's hold ended: %+v", ds)
	}
}
