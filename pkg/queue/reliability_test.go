package queue_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/queue"
)

// logBuffer is a slog destination that tests can read while workers write.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// counter counts handler runs per item.
type counter struct {
	mu   sync.Mutex
	runs map[string]int
}

func newCounter() *counter { return &counter{runs: map[string]int{}} }

func (c *counter) add(item string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runs[item]++
	return c.runs[item]
}

func (c *counter) get(item string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs[item]
}

// settled checks what must hold once a stage is idle: every item in exactly
// one outcome set (the one given), none in the progress set, in a
// processing list or waiting for a retry.
func settled(t *testing.T, rdb *redis.Client, prefix string, stage queue.Stage, want map[string]string) {
	t.Helper()
	ctx := context.Background()
	for item, set := range want {
		in := []string{}
		for _, s := range []string{stage.Success, stage.Failure} {
			if ok, _ := rdb.SIsMember(ctx, prefix+s, item).Result(); ok {
				in = append(in, s)
			}
		}
		if len(in) != 1 || in[0] != set {
			t.Errorf("%s is in %v, want exactly %s", item, in, set)
		}
	}
	if n, _ := rdb.SCard(ctx, prefix+stage.Progress).Result(); n != 0 {
		t.Errorf("%s holds %d items", stage.Progress, n)
	}
	keys, _ := rdb.Keys(ctx, prefix+"pvs:processing:*").Result()
	for _, k := range keys {
		if n, _ := rdb.LLen(ctx, k).Result(); n != 0 {
			t.Errorf("%s still holds %d items", k, n)
		}
	}
	for _, q := range stage.Queues {
		if n, _ := rdb.ZCard(ctx, prefix+"pvs:delayed:"+q).Result(); n != 0 {
			t.Errorf("%d items of %s wait for a retry", n, q)
		}
	}
}

// TestPoisonWorkerProcess is no test of its own: it is the worker process
// of TestPoisonItemThatKillsItsWorkerGivesUp, which runs this test binary
// again. Its handler exits the process on poison.tar, as an OOM kill or a
// crash in cgo would: nothing is recorded, no deferred call runs.
func TestPoisonWorkerProcess(t *testing.T) {
	prefix, worker := os.Getenv("PVS_POISON_PREFIX"), os.Getenv("PVS_POISON_WORKER")
	if prefix == "" {
		t.Skip("the worker process of TestPoisonItemThatKillsItsWorkerGivesUp")
	}
	opt, err := redis.ParseURL(testenv.RedisURL())
	testenv.Must(t, err, "redis url")
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	q := queue.New(rdb, prefix)
	c := q.NewConsumer(queue.Preprocess, fast(queue.ConsumerOptions{WorkerID: worker, MaxAttempts: 4}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	h := func(ctx context.Context, it queue.Item) (string, error) {
		if it.Value == "poison.tar" {
			os.Exit(3)
		}
		return "", nil
	}
	testenv.Must(t, c.Run(ctx, h), "run")
}

// An item that kills its worker is counted when it is taken, not when its
// outcome is recorded, so it fails ("gave up after 4 attempts", the
// configured limit) before a fifth worker dies of it. Whether the next
// worker comes back under the dead one's id (and gives its items back at
// once) or under a new one (and reclaims them once the dead one is silent
// for DeadAfter), the other items go through.
func TestPoisonItemThatKillsItsWorkerGivesUp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		sameID bool
	}{{"restarted under its id", true}, {"replaced by a new worker", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rdb, prefix := testenv.Redis(t)
			q := queue.New(rdb, prefix)
			ctx := context.Background()
			items := []string{"poison.tar", "good-1.tar", "good-2.tar"}
			for _, it := range items {
				testenv.Must(t, q.Enqueue(ctx, "preprocess_queue", it), "enqueue")
			}
			done := func() bool {
				f, _ := q.IsMember(ctx, "preprocess-failure_set", "poison.tar")
				n, _ := rdb.SCard(ctx, prefix+"preprocess-success_set").Result()
				return f && n == 2
			}
			deaths := 0
			for life := 0; life < 10 && !done(); life++ {
				id := "poison-worker"
				if !tc.sameID {
					id = fmt.Sprintf("poison-worker-%d", life)
				}
				if died := runWorkerProcess(t, prefix, id, done); died {
					deaths++
				}
			}
			if !done() {
				t.Fatalf("after %d deaths the items are not settled", deaths)
			}
			if deaths != 4 {
				t.Errorf("%d workers died of the poison item, want 4 (MaxAttempts)", deaths)
			}
			hs, err := q.History(ctx, "poison.tar")
			testenv.Must(t, err, "history")
			if len(hs) != 1 || hs[0].Status != queue.StatusFailure || hs[0].Attempts != 4 ||
				!strings.HasPrefix(hs[0].Error, "gave up after 4 attempts") {
				t.Errorf("poison.tar: %+v, want a failure that gave up after 4 attempts", hs)
			}
			settled(t, rdb, prefix, queue.Preprocess, map[string]string{
				"poison.tar": "preprocess-failure_set", "good-1.tar": "preprocess-success_set", "good-2.tar": "preprocess-success_set"})
		})
	}
}

// runWorkerProcess runs one life of a poison worker until it dies or done
// holds (then it is stopped); it reports whether the worker died.
func runWorkerProcess(t *testing.T, prefix, id string, done func() bool) (died bool) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestPoisonWorkerProcess$")
	cmd.Env = append(os.Environ(), "PVS_POISON_PREFIX="+prefix, "PVS_POISON_WORKER="+id)
	cmd.Stdout, cmd.Stderr = &out, &out
	testenv.Must(t, cmd.Start(), "start worker process")
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case err := <-exited:
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.ExitCode() == 3 {
				return true
			}
			t.Fatalf("worker process ended with %v:\n%s", err, out.String())
		case <-deadline:
			cmd.Process.Kill()
			<-exited
			t.Fatalf("worker process %s neither died nor finished:\n%s", id, out.String())
		case <-time.After(50 * time.Millisecond):
			if done() {
				cmd.Process.Signal(syscall.SIGTERM)
				if err := <-exited; err != nil {
					t.Fatalf("worker process stopped with %v:\n%s", err, out.String())
				}
				return false
			}
		}
	}
}

// A worker whose heartbeats are slower than the others' judgement looks
// dead while it works: its item is reclaimed and run again by another
// worker. Whatever the slow worker's late outcome, it is dropped: the item
// ends in the one outcome set of the worker that holds it, and nowhere else
// (a late failure used to remove a success).
func TestReclaimRacingASlowWorkerKeepsOneOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		late error  // the slow worker's outcome, after the fast one's
		fast error  // the fast worker's outcome
		want string // the set the item ends in
	}{
		{"late failure after a success", queue.Permanent(errors.New("late failure")), nil, "seed-success_set"},
		{"late success after a failure", nil, queue.Permanent(errors.New("failed")), "seed-failure_set"},
		{"late retry after a success", errors.New("connection reset"), nil, "seed-success_set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rdb, prefix := testenv.Redis(t)
			q := queue.New(rdb, prefix)
			ctx := context.Background()
			testenv.Must(t, q.Enqueue(ctx, "seed_queue", "x"), "enqueue")
			runs := newCounter()
			started, release := make(chan struct{}), make(chan struct{})
			slow := func(ctx context.Context, it queue.Item) (string, error) {
				runs.add(it.Value)
				close(started)
				<-release
				return "slow", tc.late
			}
			var slowLog logBuffer
			obs := &outcomes{seen: map[string][]queue.Outcome{}}
			// Heartbeats every 10 s: to the fast worker, which calls a
			// worker dead after 300 ms of silence, it is dead while it works.
			a := q.NewConsumer(queue.Seed, queue.ConsumerOptions{WorkerID: "slow", Heartbeat: 10 * time.Second,
				PollTimeout: 100 * time.Millisecond, Logger: slowLog.logger(), Observer: obs})
			aCtx, stopA := context.WithCancel(ctx)
			aDone := make(chan error, 1)
			go func() { aDone <- a.Run(aCtx, slow) }()
			<-started

			fastH := func(ctx context.Context, it queue.Item) (string, error) {
				runs.add(it.Value)
				return "fast", tc.fast
			}
			b := q.NewConsumer(queue.Seed, fast(queue.ConsumerOptions{WorkerID: "fast"}))
			runUntil(t, b, fastH, "the fast worker's outcome", func() (bool, error) {
				return q.IsMember(ctx, tc.want, "x")
			})
			close(release)
			testenv.Eventually(t, 10*time.Second, "the slow worker's outcome dropped", func() (bool, error) {
				return strings.Contains(slowLog.String(), "outcome dropped"), nil
			})
			stopA()
			testenv.Must(t, <-aDone, "run slow worker")

			if n := runs.get("x"); n != 2 {
				t.Errorf("x ran %d times, want twice (slow, then reclaimed)", n)
			}
			settled(t, rdb, prefix, queue.Seed, map[string]string{"x": tc.want})
			hs, _ := q.History(ctx, "x")
			if len(hs) != 1 || hs[0].Worker != "fast" || hs[0].Lease != "" {
				t.Errorf("history of x: %+v, want the fast worker's outcome", hs)
			}
			obs.mu.Lock()
			defer obs.mu.Unlock()
			if len(obs.seen) != 0 {
				t.Errorf("the slow worker observed %v, want its dropped outcome unobserved", obs.seen)
			}
		})
	}
}

// A Redis outage longer than DeadAfter makes every worker silent, so a
// worker judging by heartbeat age alone would take the others' items when
// Redis comes back, and run them twice. A reclaimer must itself have been
// heard for DeadAfter first, and by then the live workers have beaten
// again: every item runs once, and the outcomes recorded during the outage
// are recorded when Redis is back.
func TestRedisOutageLongerThanDeadAfterReclaimsNothing(t *testing.T) {
	t.Parallel()
	srv := testenv.StartRedis(t)
	rdb := srv.Client()
	prefix := "outage:"
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	runs := newCounter()
	var inside atomic.Int32
	h := func(ctx context.Context, it queue.Item) (string, error) {
		runs.add(it.Value)
		inside.Add(1)
		time.Sleep(1500 * time.Millisecond) // outlives the outage
		return "done", nil
	}
	var items []string
	for i := 0; i < 4; i++ {
		items = append(items, fmt.Sprintf("before-%d", i))
		testenv.Must(t, q.Enqueue(ctx, "register_queue", items[i]), "enqueue")
	}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, id := range []string{"a", "b"} {
		c := q.NewConsumer(queue.Register, fast(queue.ConsumerOptions{WorkerID: id, Concurrency: 2}))
		wg.Add(1)
		go func() { defer wg.Done(); testenv.Must(t, c.Run(runCtx, h), "run %s", id) }()
	}
	testenv.Eventually(t, 10*time.Second, "four items in flight", func() (bool, error) { return inside.Load() == 4, nil })
	srv.Kill()
	time.Sleep(time.Second) // over three times DeadAfter
	srv.Start()
	for i := 0; i < 4; i++ {
		items = append(items, fmt.Sprintf("after-%d", i))
		testenv.Must(t, q.Enqueue(ctx, "register_queue", items[4+i]), "enqueue after the restart")
	}
	testenv.Eventually(t, 30*time.Second, "every item done", func() (bool, error) {
		n, err := rdb.SCard(ctx, prefix+"register-success_set").Result()
		return n == 8, err
	})
	cancel()
	wg.Wait()
	want := map[string]string{}
	for _, it := range items {
		want[it] = "register-success_set"
		if n := runs.get(it); n != 1 {
			t.Errorf("%s ran %d times, want once", it, n)
		}
		hs, _ := q.History(ctx, it)
		if len(hs) != 1 || hs[0].Attempts != 1 || strings.Contains(hs[0].Error, "redelivered") {
			t.Errorf("history of %s: %+v", it, hs)
		}
	}
	settled(t, rdb, prefix, queue.Register, want)
}
