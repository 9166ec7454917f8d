package queue_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/queue"
)

// A worker that holds (under failure pressure) takes nothing, and takes
// again as soon as it stops holding; the held item stays queued meanwhile.
func TestHoldKeepsItemsQueued(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	testenv.Must(t, q.Enqueue(ctx, "register_queue", "C/P1"), "enqueue")
	var holding atomic.Bool
	holding.Store(true)
	var ran atomic.Int32
	opt := fast(queue.ConsumerOptions{Hold: func() error {
		if holding.Load() {
			return errors.New("degraded")
		}
		return nil
	}})
	c := q.NewConsumer(queue.Register, opt)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- c.Run(runCtx, func(context.Context, queue.Item) (string, error) { ran.Add(1); return "", nil })
	}()
	time.Sleep(1500 * time.Millisecond)
	if n := ran.Load(); n != 0 {
		t.Fatalf("a holding worker ran %d items", n)
	}
	if n, err := rdb.LLen(ctx, prefix+"register_queue").Result(); err != nil || n != 1 {
		t.Fatalf("the held item left its queue: %d %v", n, err)
	}
	if err := c.Alive(); err != nil {
		t.Errorf("a holding worker is not alive: %v", err)
	}
	holding.Store(false)
	testenv.Eventually(t, 10*time.Second, "the item runs once the hold ends", func() (bool, error) {
		return q.IsMember(ctx, "register-success_set", "C/P1")
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
