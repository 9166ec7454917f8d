package queue_test

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
)

// blockOn returns a handler that blocks x until release is closed, and a
// channel closed once x has started; other items succeed at once.
func blockOn(x string, release chan struct{}, runs *counter) (queue.Handler, chan struct{}) {
	started := make(chan struct{})
	return func(ctx context.Context, it queue.Item) (string, error) {
		if runs.add(it.Value) == 1 && it.Value == x {
			close(started)
			<-release
		}
		return "", nil
	}, started
}

// The same item pushed while it is pending in its stage (queued, held by a
// worker, waiting for a retry) is the same work asked for twice: Enqueue
// leaves it alone and it runs once. Pushed after its outcome, or over a
// status that no list confirms, it is queued again.
func TestEnqueueOfAPendingItemRunsItOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// setup brings x into a state and returns what undoes it.
		setup    func(t *testing.T, q *queue.Client, rdb *redis.Client, prefix string) func()
		pushed   bool // whether a second Enqueue pushes x
		queueLen int64
	}{
		{"queued", func(t *testing.T, q *queue.Client, _ *redis.Client, _ string) func() {
			testenv.Must(t, q.Enqueue(ctx, "seed_queue", "x"), "enqueue")
			return func() {}
		}, false, 1},
		{"held by a worker", func(t *testing.T, q *queue.Client, _ *redis.Client, _ string) func() {
			testenv.Must(t, q.Enqueue(ctx, "seed_queue", "x"), "enqueue")
			release := make(chan struct{})
			h, started := blockOn("x", release, newCounter())
			c := q.NewConsumer(queue.Seed, fast(queue.ConsumerOptions{}))
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- c.Run(runCtx, h) }()
			<-started
			return func() {
				close(release)
				testenv.Eventually(t, 10*time.Second, "x done", func() (bool, error) { return q.IsMember(ctx, "seed-success_set", "x") })
				cancel()
				testenv.Must(t, <-done, "run")
			}
		}, false, 0},
		{"waiting for a retry", func(t *testing.T, q *queue.Client, _ *redis.Client, _ string) func() {
			testenv.Must(t, q.Enqueue(ctx, "seed_queue", "x"), "enqueue")
			opt := fast(queue.ConsumerOptions{})
			opt.RetryBase = time.Hour
			c := q.NewConsumer(queue.Seed, opt)
			runUntil(t, c, func(context.Context, queue.Item) (string, error) { return "", errors.New("later") }, "x retrying", func() (bool, error) {
				hs, err := q.History(ctx, "x")
				return err == nil && len(hs) == 1 && hs[0].Status == queue.StatusRetrying, err
			})
			return func() {}
		}, false, 0},
		{"done", func(t *testing.T, q *queue.Client, _ *redis.Client, _ string) func() {
			testenv.Must(t, q.Enqueue(ctx, "seed_queue", "x"), "enqueue")
			c := q.NewConsumer(queue.Seed, fast(queue.ConsumerOptions{}))
			runUntil(t, c, func(context.Context, queue.Item) (string, error) { return "", nil }, "x done", func() (bool, error) {
				return q.IsMember(ctx, "seed-success_set", "x")
			})
			return func() {}
		}, true, 1},
		{"queued by its status only", func(t *testing.T, q *queue.Client, rdb *redis.Client, prefix string) func() {
			testenv.Must(t, q.Enqueue(ctx, "seed_queue", "x"), "enqueue")
			testenv.Must(t, rdb.Del(ctx, prefix+"seed_queue").Err(), "empty the queue by hand")
			return func() {}
		}, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rdb, prefix := testenv.Redis(t)
			q := queue.New(rdb, prefix)
			undo := tc.setup(t, q, rdb, prefix)
			pushed, err := q.Push(ctx, "seed_queue", "x")
			testenv.Must(t, err, "push")
			if pushed != tc.pushed {
				t.Errorf("second push pushed = %v, want %v", pushed, tc.pushed)
			}
			if n, _ := rdb.LLen(ctx, prefix+"seed_queue").Result(); n != tc.queueLen {
				t.Errorf("seed_queue holds %d items, want %d", n, tc.queueLen)
			}
			undo()
		})
	}
}

// A copy of an item in flight pushed by a plain LPUSH (a PVS producer,
// which bypasses Enqueue) is dropped when it is taken: the item runs once.
func TestTakeDropsACopyOfAnItemInFlight(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	testenv.Must(t, q.Enqueue(ctx, "register_queue", "x"), "enqueue")
	release := make(chan struct{})
	runs := newCounter()
	h, started := blockOn("x", release, runs)
	c := q.NewConsumer(queue.Register, fast(queue.ConsumerOptions{Concurrency: 2}))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx, h) }()
	<-started
	testenv.Must(t, rdb.LPush(ctx, prefix+"register_queue", "x", "y").Err(), "plain LPUSH")
	testenv.Eventually(t, 10*time.Second, "y done and the copy of x gone", func() (bool, error) {
		n, err := rdb.LLen(ctx, prefix+"register_queue").Result()
		y, _ := q.IsMember(ctx, "register-success_set", "y")
		return n == 0 && y, err
	})
	close(release)
	testenv.Eventually(t, 10*time.Second, "x done", func() (bool, error) { return q.IsMember(ctx, "register-success_set", "x") })
	cancel()
	testenv.Must(t, <-done, "run")
	if n := runs.get("x"); n != 1 {
		t.Errorf("x ran %d times, want once", n)
	}
	settled(t, rdb, prefix, queue.Register, map[string]string{"x": "register-success_set", "y": "register-success_set"})
}

// The next stage's item is pushed in the step that records the success:
// not while the handler runs, not at all if it fails, and with a fresh
// history that `pvs enqueue --wait` can follow.
func TestNextStageItemIsPushedWithTheSuccess(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	testenv.Must(t, q.Enqueue(ctx, "preprocess_queue", "ok.tar"), "enqueue")
	testenv.Must(t, q.Enqueue(ctx, "preprocess_queue", "bad.tar"), "enqueue")
	var earlyPushes atomic.Int64
	h := func(ctx context.Context, it queue.Item) (string, error) {
		next := "COLL/" + strings.TrimSuffix(it.Value, ".tar")
		if err := q.Enqueue(ctx, "register_queue", next); err != nil {
			return "", err
		}
		if _, err := rdb.LPos(ctx, prefix+"register_queue", next, redis.LPosArgs{}).Result(); !errors.Is(err, redis.Nil) {
			earlyPushes.Add(1)
		}
		if it.Value == "bad.tar" {
			return "", queue.Permanent(errors.New("bad package"))
		}
		return next, nil
	}
	runUntil(t, q.NewConsumer(queue.Preprocess, fast(queue.ConsumerOptions{})), h, "both outcomes", func() (bool, error) {
		n, err := rdb.SCard(ctx, prefix+"preprocess-success_set").Result()
		m, _ := rdb.SCard(ctx, prefix+"preprocess-failure_set").Result()
		return n == 1 && m == 1, err
	})
	if n := earlyPushes.Load(); n != 0 {
		t.Errorf("%d handlers saw their next-stage item queued before their success was recorded", n)
	}
	got, _ := rdb.LRange(ctx, prefix+"register_queue", 0, -1).Result()
	if len(got) != 1 || got[0] != "COLL/ok" {
		t.Errorf("register_queue = %v, want only the successful item's push", got)
	}
	hs, err := q.History(ctx, "COLL/ok")
	testenv.Must(t, err, "history")
	if len(hs) != 1 || hs[0].Stage != "register" || hs[0].Status != queue.StatusQueued || hs[0].EnqueuedAt == "" {
		t.Errorf("history of the pushed item: %+v", hs)
	}
	// Outside a handler, Enqueue pushes at once.
	testenv.Must(t, q.Enqueue(ctx, "register_queue", "COLL/now"), "enqueue")
	if n, _ := rdb.LLen(ctx, prefix+"register_queue").Result(); n != 2 {
		t.Errorf("register_queue holds %d items after a direct Enqueue, want 2", n)
	}
}

// A snooze waits and comes back without using up an attempt.
func TestSnoozeIsNotAnAttempt(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	testenv.Must(t, q.Enqueue(ctx, "seed_queue", "later"), "enqueue")
	var calls atomic.Int32
	h := func(ctx context.Context, it queue.Item) (string, error) {
		if calls.Add(1) <= 3 {
			return "", queue.Snooze(20 * time.Millisecond)
		}
		return "done", nil
	}
	runUntil(t, q.NewConsumer(queue.Seed, fast(queue.ConsumerOptions{MaxAttempts: 2})), h, "done", func() (bool, error) {
		return q.IsMember(ctx, "seed-success_set", "later")
	})
	hs, _ := q.History(ctx, "later")
	if calls.Load() != 4 || len(hs) != 1 || hs[0].Attempts != 1 {
		t.Errorf("%d calls, history %+v; want three snoozes and one attempt", calls.Load(), hs)
	}
}

// Items a previous life of a worker left in its processing lists (it was
// killed) are given back as soon as a worker of the same id starts: long
// before the reclaimers would judge it dead.
func TestWorkerStartingAgainGivesBackItsItems(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	// A worker "w-1" took a and b, then was killed.
	testenv.Must(t, q.Enqueue(ctx, "seed_queue", "a"), "enqueue")
	testenv.Must(t, q.Enqueue(ctx, "seed_queue", "b"), "enqueue")
	for _, it := range []string{"a", "b"} {
		testenv.Must(t, rdb.LMove(ctx, prefix+"seed_queue", prefix+"pvs:processing:w-1:seed_queue", "RIGHT", "LEFT").Err(), "take")
		testenv.Must(t, rdb.HSet(ctx, prefix+"pvs:history:seed:"+it, "status", queue.StatusRunning, "worker", "w-1", "lease", "l-"+it, "attempts", 1).Err(), "history")
		testenv.Must(t, rdb.SAdd(ctx, prefix+"seeding_set", it).Err(), "progress")
	}
	var order []string
	h := func(ctx context.Context, it queue.Item) (string, error) {
		order = append(order, it.Value)
		return "", nil
	}
	c := q.NewConsumer(queue.Seed, fast(queue.ConsumerOptions{WorkerID: "w-1", DeadAfter: time.Hour}))
	runUntil(t, c, h, "both done", func() (bool, error) {
		n, err := rdb.SCard(ctx, prefix+"seed-success_set").Result()
		return n == 2, err
	})
	if strings.Join(order, ",") != "a,b" {
		t.Errorf("order %v, want the oldest first", order)
	}
	hs, _ := q.History(ctx, "a")
	if len(hs) != 1 || hs[0].Attempts != 2 {
		t.Errorf("history of a: %+v, want its second attempt", hs)
	}
	settled(t, rdb, prefix, queue.Seed, map[string]string{"a": "seed-success_set", "b": "seed-success_set"})
}

// Holders shows every item a worker holds, and by whom: items of live
// workers, of workers no longer registered, and items held without a
// lease.
func TestHoldersShowsWhoHoldsWhat(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	now, err := rdb.Time(ctx).Result()
	testenv.Must(t, err, "time")
	set := func(worker, queueName, stage, item, lease string) {
		testenv.Must(t, rdb.LPush(ctx, prefix+"pvs:processing:"+worker+":"+queueName, item).Err(), "processing list")
		testenv.Must(t, rdb.HSet(ctx, prefix+"pvs:history:"+stage+":"+item, "worker", worker, "lease", lease, "attempts", 2, "started_at", "2018-06-15T10:00:00.000Z").Err(), "history")
	}
	set("host:1", "preprocess-md_queue", "preprocess", `{"path":"a.tar"}`, "7")
	set("host:1", "preprocess_queue", "preprocess", "b.tar", "")
	set("gone", "seed_queue", "seed", "2018-06-15T10:00:00Z/2018-06-15T10:01:00Z", "9")
	testenv.Must(t, rdb.ZAdd(ctx, prefix+"pvs:workers:preprocess", redis.Z{Score: float64(now.Add(-2 * time.Second).UnixMilli()), Member: "host:1"}).Err(), "heartbeat")
	hs, err := q.Holders(ctx)
	testenv.Must(t, err, "holders")
	if len(hs) != 3 {
		t.Fatalf("holders %+v, want 3", hs)
	}
	for _, h := range hs {
		switch h.Item {
		case `{"path":"a.tar"}`:
			if h.Stage != "preprocess" || h.Queue != "preprocess-md_queue" || h.Worker != "host:1" || !h.Leased || h.Attempts != 2 ||
				h.Silent < 2*time.Second || h.Silent > 10*time.Second {
				t.Errorf("leased item of a live worker: %+v", h)
			}
		case "b.tar":
			if h.Worker != "host:1" || h.Leased {
				t.Errorf("item without a lease: %+v", h)
			}
		default:
			if h.Stage != "seed" || h.Worker != "gone" || h.Silent != -1 {
				t.Errorf("item of an unregistered worker: %+v", h)
			}
		}
	}
}

// Values no handler can use are refused at the door, and failed without
// running the handler when a plain LPUSH brought them in.
func TestInvalidItemsAreRefused(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	for _, bad := range []string{"", "a\x00b", "\xff\xfe", strings.Repeat("x", queue.MaxItemBytes+1)} {
		if err := q.Enqueue(ctx, "seed_queue", bad); err == nil {
			t.Errorf("Enqueue accepted %.20q", bad)
		}
	}
	testenv.Must(t, rdb.LPush(ctx, prefix+"seed_queue", "bell\a").Err(), "plain LPUSH")
	var calls atomic.Int32
	h := func(context.Context, queue.Item) (string, error) { calls.Add(1); return "", nil }
	runUntil(t, q.NewConsumer(queue.Seed, fast(queue.ConsumerOptions{})), h, "failed", func() (bool, error) {
		return q.IsMember(ctx, "seed-failure_set", "bell\a")
	})
	hs, _ := q.History(ctx, "bell\a")
	if calls.Load() != 0 || len(hs) != 1 || !strings.Contains(hs[0].Error, "control character") {
		t.Errorf("handler called %d times; history %+v", calls.Load(), hs)
	}
}
