package queue_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/queue"
)

func fast(opt queue.ConsumerOptions) queue.ConsumerOptions {
	opt.Heartbeat = 50 * time.Millisecond
	opt.DeadAfter = 300 * time.Millisecond
	opt.PollTimeout = time.Second
	opt.RetryBase = 50 * time.Millisecond
	if opt.ShutdownGrace == 0 {
		opt.ShutdownGrace = 2 * time.Second
	}
	return opt
}

// runUntil runs a consumer until cond holds, then stops it.
func runUntil(t *testing.T, c *queue.Consumer, h queue.Handler, what string, cond func() (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, h) }()
	testenv.Eventually(t, 20*time.Second, what, cond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func members(t *testing.T, q *queue.Client, set string) []string {
	t.Helper()
	m, err := q.Members(context.Background(), set)
	testenv.Must(t, err, "members of %s", set)
	return m
}

func TestFIFOOutcomesAndHistory(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	for _, it := range []string{"a.tar", "b.tar", "c.tar"} {
		testenv.Must(t, q.Enqueue(ctx, "preprocess_queue", it), "enqueue")
	}
	// PVS producers LPUSH: the list reads newest first.
	got, _ := rdb.LRange(ctx, prefix+"preprocess_queue", 0, -1).Result()
	if fmt.Sprint(got) != "[c.tar b.tar a.tar]" {
		t.Fatalf("queue content = %v, want LPUSH order", got)
	}
	var mu sync.Mutex
	var order []string
	h := func(ctx context.Context, it queue.Item) (string, error) {
		mu.Lock()
		order = append(order, it.Value)
		mu.Unlock()
		if it.Value == "b.tar" {
			return "", queue.Permanent(errors.New("broken package"))
		}
		return "out/" + it.Value, nil
	}
	c := q.NewConsumer(queue.Preprocess, fast(queue.ConsumerOptions{}))
	runUntil(t, c, h, "three outcomes", func() (bool, error) {
		n, err := rdb.SCard(ctx, prefix+"preprocess-success_set").Result()
		m, _ := rdb.SCard(ctx, prefix+"preprocess-failure_set").Result()
		return n == 2 && m == 1, err
	})
	if fmt.Sprint(order) != "[a.tar b.tar c.tar]" {
		t.Errorf("processing order = %v, want FIFO", order)
	}
	if s := members(t, q, "preprocess-success_set"); fmt.Sprint(s) != "[a.tar c.tar]" {
		t.Errorf("success set = %v", s)
	}
	if s := members(t, q, "preprocess-failure_set"); fmt.Sprint(s) != "[b.tar]" {
		t.Errorf("failure set = %v", s)
	}
	if s := members(t, q, "preprocessing_set"); len(s) != 0 {
		t.Errorf("progress set not empty: %v", s)
	}
	hs, err := q.History(ctx, "b.tar")
	testenv.Must(t, err, "history")
	if len(hs) != 1 || hs[0].Status != queue.StatusFailure || hs[0].Error != "broken package" || hs[0].Attempts != 1 ||
		hs[0].EnqueuedAt == "" || hs[0].FinishedAt == "" || hs[0].Worker != c.WorkerID() {
		t.Errorf("history of b.tar = %+v", hs)
	}
	hs, _ = q.History(ctx, "a.tar")
	if len(hs) != 1 || hs[0].Status != queue.StatusSuccess || hs[0].Result != "out/a.tar" {
		t.Errorf("history of a.tar = %+v", hs)
	}
	// Nothing is left in any processing list.
	keys, _ := rdb.Keys(ctx, prefix+"pvs:processing:*").Result()
	for _, k := range keys {
		if n, _ := rdb.LLen(ctx, k).Result(); n != 0 {
			t.Errorf("%s still holds %d items", k, n)
		}
	}
}

func TestBothPreprocessQueuesAreConsumed(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	testenv.Must(t, q.Enqueue(ctx, "preprocess-md_queue", `{"path":"x.tar"}`), "enqueue md")
	testenv.Must(t, q.Enqueue(ctx, "preprocess_queue", "y.tar"), "enqueue")
	seen := map[string]string{}
	var mu sync.Mutex
	h := func(ctx context.Context, it queue.Item) (string, error) {
		mu.Lock()
		seen[it.Value] = it.Queue
		mu.Unlock()
		return "", nil
	}
	runUntil(t, q.NewConsumer(queue.Preprocess, fast(queue.ConsumerOptions{})), h, "both items", func() (bool, error) {
		n, err := rdb.SCard(ctx, prefix+"preprocess-success_set").Result()
		return n == 2, err
	})
	if seen[`{"path":"x.tar"}`] != "preprocess-md_queue" || seen["y.tar"] != "preprocess_queue" {
		t.Errorf("items and their queues: %v", seen)
	}
}

func TestTransientErrorsAreRetriedThenFail(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	testenv.Must(t, q.Enqueue(ctx, "register_queue", "flaky"), "enqueue")
	testenv.Must(t, q.Enqueue(ctx, "register_queue", "down"), "enqueue")
	var flakyCalls atomic.Int32
	h := func(ctx context.Context, it queue.Item) (string, error) {
		if it.Value == "flaky" && flakyCalls.Add(1) == 1 {
			return "", errors.New("database restarting")
		}
		if it.Value == "down" {
			return "", fmt.Errorf("attempt %d: connection refused", it.Attempt)
		}
		return "ok", nil
	}
	c := q.NewConsumer(queue.Register, fast(queue.ConsumerOptions{MaxAttempts: 3}))
	runUntil(t, c, h, "retries to settle", func() (bool, error) {
		s, _ := q.IsMember(ctx, "register-success_set", "flaky")
		f, err := q.IsMember(ctx, "register-failure_set", "down")
		return s && f, err
	})
	hs, _ := q.History(ctx, "flaky")
	if hs[0].Attempts != 2 || hs[0].Status != queue.StatusSuccess {
		t.Errorf("flaky: %+v, want success on attempt 2", hs[0])
	}
	hs, _ = q.History(ctx, "down")
	if hs[0].Attempts != 3 || hs[0].Error != "attempt 3: connection refused" {
		t.Errorf("down: %+v, want failure after 3 attempts", hs[0])
	}
}

func TestPanicIsRecordedAsFailureAndWorkGoesOn(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	testenv.Must(t, q.Enqueue(ctx, "seed_queue", "boom"), "enqueue")
	testenv.Must(t, q.Enqueue(ctx, "seed_queue", "fine"), "enqueue")
	h := func(ctx context.Context, it queue.Item) (string, error) {
		if it.Value == "boom" {
			panic("handler bug")
		}
		return "", nil
	}
	runUntil(t, q.NewConsumer(queue.Seed, fast(queue.ConsumerOptions{})), h, "both outcomes", func() (bool, error) {
		ok, err := q.IsMember(ctx, "seed-success_set", "fine")
		return ok, err
	})
	hs, _ := q.History(ctx, "boom")
	if hs[0].Status != queue.StatusFailure || hs[0].Error == "" {
		t.Errorf("boom: %+v", hs[0])
	}
}

func TestDeadWorkersItemsAreRedelivered(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	// A worker took an item and then died: its heartbeat is old.
	testenv.Must(t, rdb.LPush(ctx, prefix+"pvs:processing:dead-1:preprocess_queue", "orphan.tar").Err(), "seed processing list")
	testenv.Must(t, rdb.ZAdd(ctx, prefix+"pvs:workers:preprocess", redis.Z{Score: float64(time.Now().Add(-time.Hour).UnixMilli()), Member: "dead-1"}).Err(), "seed worker")
	testenv.Must(t, rdb.SAdd(ctx, prefix+"preprocessing_set", "orphan.tar").Err(), "seed progress")
	var got atomic.Value
	h := func(ctx context.Context, it queue.Item) (string, error) { got.Store(it.Value); return "", nil }
	runUntil(t, q.NewConsumer(queue.Preprocess, fast(queue.ConsumerOptions{})), h, "orphan processed", func() (bool, error) {
		return q.IsMember(ctx, "preprocess-success_set", "orphan.tar")
	})
	if n, _ := rdb.ZScore(ctx, prefix+"pvs:workers:preprocess", "dead-1").Result(); n != 0 {
		t.Errorf("dead worker still registered")
	}
}

func TestShutdownReturnsUnfinishedItems(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	testenv.Must(t, q.Enqueue(ctx, "preprocess_queue", "slow.tar"), "enqueue")
	started := make(chan struct{})
	h := func(ctx context.Context, it queue.Item) (string, error) {
		close(started)
		<-ctx.Done() // only the end of the grace period stops it
		return "", ctx.Err()
	}
	c := q.NewConsumer(queue.Preprocess, fast(queue.ConsumerOptions{ShutdownGrace: 200 * time.Millisecond}))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx, h) }()
	<-started
	cancel()
	testenv.Must(t, <-done, "Run")
	got, _ := rdb.LRange(ctx, prefix+"preprocess_queue", 0, -1).Result()
	if fmt.Sprint(got) != "[slow.tar]" {
		t.Fatalf("after shutdown the queue holds %v, want the unfinished item back", got)
	}
	if ok, _ := q.IsMember(ctx, "preprocess-failure_set", "slow.tar"); ok {
		t.Error("an interrupted item was recorded as failed")
	}
}

func TestConcurrencyIsBounded(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	for i := 0; i < 9; i++ {
		testenv.Must(t, q.Enqueue(ctx, "preprocess_queue", fmt.Sprintf("p%d", i)), "enqueue")
	}
	var cur, peak atomic.Int32
	h := func(ctx context.Context, it queue.Item) (string, error) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
		cur.Add(-1)
		return "", nil
	}
	runUntil(t, q.NewConsumer(queue.Preprocess, fast(queue.ConsumerOptions{Concurrency: 3})), h, "nine done", func() (bool, error) {
		n, err := rdb.SCard(ctx, prefix+"preprocess-success_set").Result()
		return n == 9, err
	})
	if p := peak.Load(); p != 3 {
		t.Errorf("peak concurrency %d, want 3", p)
	}
}

func TestEnqueueRejectsUnknownQueueAndEmptyItem(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	if err := q.Enqueue(context.Background(), "nope_queue", "x"); err == nil {
		t.Error("unknown queue accepted")
	}
	if err := q.Enqueue(context.Background(), "seed_queue", ""); err == nil {
		t.Error("empty item accepted")
	}
}

// A consumer that is not running goes stale after DeadAfter (or three poll
// timeouts): the liveness probe of a worker whose loop is stuck fails.
func TestAliveGoesStaleWithoutTheLoop(t *testing.T) {
	t.Parallel()
	// No Redis is needed: the consumer never runs.
	q := queue.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), "x:")
	c := q.NewConsumer(queue.Seed, queue.ConsumerOptions{Heartbeat: 10 * time.Millisecond, DeadAfter: 20 * time.Millisecond, PollTimeout: 5 * time.Millisecond})
	if err := c.Alive(); err != nil {
		t.Fatalf("a new consumer is not alive: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	err := c.Alive()
	if err == nil || !strings.Contains(err.Error(), "seed consumer loop has not turned") {
		t.Errorf("Alive() = %v after 50 ms without the loop, want the stale error", err)
	}
}

// A worker whose every slot holds a long item is alive: its loop keeps
// turning while it waits for a slot, and so does one whose Redis is gone.
func TestAliveWhileBusyAndStaleAfterRun(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	testenv.Must(t, q.Enqueue(ctx, "seed_queue", "long"), "enqueue")
	started, release := make(chan struct{}), make(chan struct{})
	h := func(ctx context.Context, it queue.Item) (string, error) {
		close(started)
		<-release
		return "", nil
	}
	opt := fast(queue.ConsumerOptions{})
	opt.PollTimeout = 50 * time.Millisecond
	c := q.NewConsumer(queue.Seed, opt)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx, h) }()
	<-started
	// Several times the limit (DeadAfter 300 ms) with the only slot busy.
	for i := 0; i < 10; i++ {
		time.Sleep(100 * time.Millisecond)
		if err := c.Alive(); err != nil {
			t.Fatalf("busy worker not alive: %v", err)
		}
	}
	close(release)
	cancel()
	testenv.Must(t, <-done, "Run")
	time.Sleep(400 * time.Millisecond)
	if err := c.Alive(); err == nil {
		t.Error("a consumer whose Run returned long ago is alive")
	}
}

type outcomes struct {
	mu   sync.Mutex
	seen map[string][]queue.Outcome
}

func (o *outcomes) ItemDone(stage string, outcome queue.Outcome, elapsed time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen[stage] = append(o.seen[stage], outcome)
}

// The observer sees each recorded attempt once; an item interrupted by
// shutdown, which goes back to its queue, is not an outcome.
func TestObserverSeesRecordedOutcomes(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	testenv.Must(t, q.Enqueue(ctx, "deregister_queue", "twice"), "enqueue")
	testenv.Must(t, q.Enqueue(ctx, "deregister_queue", "bad"), "enqueue")
	var calls atomic.Int32
	h := func(ctx context.Context, it queue.Item) (string, error) {
		if it.Value == "bad" {
			return "", queue.Permanent(errors.New("unknown product"))
		}
		if calls.Add(1) == 1 {
			return "", errors.New("database restarting")
		}
		return "", nil
	}
	obs := &outcomes{seen: map[string][]queue.Outcome{}}
	runUntil(t, q.NewConsumer(queue.Deregister, fast(queue.ConsumerOptions{Observer: obs})), h, "both settled", func() (bool, error) {
		s, _ := q.IsMember(ctx, "deregister-success_set", "twice")
		f, err := q.IsMember(ctx, "deregister-failure_set", "bad")
		return s && f, err
	})
	obs.mu.Lock()
	defer obs.mu.Unlock()
	got := fmt.Sprint(obs.seen["deregister"])
	if len(obs.seen) != 1 || len(obs.seen["deregister"]) != 3 ||
		strings.Count(got, "success") != 1 || strings.Count(got, "failure") != 1 || strings.Count(got, "retry") != 1 {
		t.Errorf("observed %v, want one success, one failure, one retry of stage deregister", obs.seen)
	}
}
