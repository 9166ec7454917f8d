package telemetry_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/telemetry"
)

// A scrape while Redis is down still answers, in time, with pvs_queue_up 0
// and the other metrics: an outage must not blind the operator.
func TestQueueDepthsWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: closedPort(t), MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	m := telemetry.New("seeder", "test")
	m.WatchQueues(queue.New(rdb, "x:"), 200*time.Millisecond)
	t0 := time.Now()
	if up := value(t, m.Registry(), "pvs_queue_up", nil); up != 0 {
		t.Errorf("pvs_queue_up = %v with Redis down, want 0", up)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("the scrape took %s, beyond its timeout", d)
	}
	if _, ok := find(t, m.Registry(), "pvs_queue_length", map[string]string{"stage": "seed", "queue": "seed_queue"}); ok {
		t.Error("a queue length was reported without Redis")
	}
	if _, ok := find(t, m.Registry(), "pvs_build_info", map[string]string{"daemon": "seeder", "version": "test"}); !ok {
		t.Error("the other metrics are gone while Redis is down")
	}
}

func TestQueueDepths(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	for _, it := range []string{"a", "b", "c"} {
		testenv.Must(t, q.Enqueue(ctx, "register_queue", it), "enqueue")
	}
	testenv.Must(t, q.Enqueue(ctx, "preprocess-md_queue", `{"x":1}`), "enqueue")
	testenv.Must(t, rdb.SAdd(ctx, prefix+"seeding_set", "2018-06-15/2018-06-16").Err(), "progress")
	testenv.Must(t, rdb.SAdd(ctx, prefix+"register-failure_set", "bad1", "bad2").Err(), "failures")
	m := telemetry.New("registrar", "test")
	m.WatchQueues(q, 2*time.Second)
	reg := m.Registry()
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"pvs_queue_up", nil, 1},
		{"pvs_queue_length", map[string]string{"stage": "register", "queue": "register_queue"}, 3},
		{"pvs_queue_length", map[string]string{"stage": "preprocess", "queue": "preprocess-md_queue"}, 1},
		{"pvs_queue_length", map[string]string{"stage": "preprocess", "queue": "preprocess_queue"}, 0},
		{"pvs_queue_delayed", map[string]string{"stage": "register", "queue": "register_queue"}, 0},
		{"pvs_queue_in_progress", map[string]string{"stage": "seed"}, 1},
		{"pvs_queue_in_progress", map[string]string{"stage": "register"}, 0},
		{"pvs_queue_failed", map[string]string{"stage": "register"}, 2},
	} {
		if got := value(t, reg, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

// A consumer run is counted per outcome and timed: a success, a permanent
// failure, and a transient error that succeeds on its second attempt.
func TestConsumerMetrics(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	for _, it := range []string{"good", "broken", "flaky"} {
		testenv.Must(t, q.Enqueue(ctx, "register_queue", it), "enqueue")
	}
	var flaky atomic.Int32
	h := func(ctx context.Context, it queue.Item) (string, error) {
		switch {
		case it.Value == "broken":
			return "", queue.Permanent(errors.New("no metadata"))
		case it.Value == "flaky" && flaky.Add(1) == 1:
			return "", errors.New("database restarting")
		}
		time.Sleep(60 * time.Millisecond)
		return "ok", nil
	}
	m := telemetry.New("registrar", "test")
	c := q.NewConsumer(queue.Register, queue.ConsumerOptions{Heartbeat: 50 * time.Millisecond, RetryBase: 50 * time.Millisecond,
		Observer: m.QueueObserver(queue.Register, queue.Deregister)})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx, h) }()
	testenv.Eventually(t, 20*time.Second, "three outcomes", func() (bool, error) {
		n, err := rdb.SCard(ctx, prefix+"register-success_set").Result()
		return n == 2, err
	})
	cancel()
	testenv.Must(t, <-done, "Run")
	reg := m.Registry()
	for outcome, want := range map[string]float64{"success": 2, "failure": 1, "retry": 1} {
		labels := map[string]string{"stage": "register", "outcome": outcome}
		if got := value(t, reg, "pvs_queue_items_total", labels); got != want {
			t.Errorf("items %s = %v, want %v", outcome, got, want)
		}
		if got := value(t, reg, "pvs_queue_item_duration_seconds", labels); got != want {
			t.Errorf("duration observations %s = %v, want %v", outcome, got, want)
		}
	}
	// The stage the consumer does not serve is there at 0, ready for rate().
	if got := value(t, reg, "pvs_queue_items_total", map[string]string{"stage": "deregister", "outcome": "success"}); got != 0 {
		t.Errorf("deregister successes = %v, want 0", got)
	}
	// The successes took the handler's 60 ms at least.
	body := scrape(t, m)
	if !strings.Contains(body, `pvs_queue_item_duration_seconds_bucket{outcome="success",stage="register",le="0.05"} 0`) {
		t.Errorf("successes of 60 ms counted in the 50 ms bucket:\n%s", grep(body, "pvs_queue_item_duration_seconds_bucket"))
	}
}
