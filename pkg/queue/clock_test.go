package queue

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pvs/pvs/internal/testenv"
)

// The package reads the local clock in one place, the consumer's clock
// field, and uses it for its own liveness and for timing handlers: every
// time written to Redis is Redis's (TIME, in the scripts). This test keeps
// it so: any other reference to time.Now, time.Since or time.Until in the
// package fails it, so that TestSkewedClocksLoseAndRepeatNothing, which
// skews that one clock, covers every local time the package reads.
func TestOnlyTheConsumerClockReadsLocalTime(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	testenv.Must(t, err, "list sources")
	var found []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		testenv.Must(t, err, "parse %s", name)
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "time" &&
					(sel.Sel.Name == "Now" || sel.Sel.Name == "Since" || sel.Sel.Name == "Until") {
					found = append(found, fmt.Sprintf("%s: time.%s", fn.Name.Name, sel.Sel.Name))
				}
				return true
			})
		}
	}
	sort.Strings(found)
	if fmt.Sprint(found) != "[NewConsumer: time.Now]" {
		t.Errorf("local clock read at %v, want only the consumer's clock field set in NewConsumer", found)
	}
}

// Two workers whose clocks are a minute early and a minute late share a
// queue with items that outlast DeadAfter. Nothing the clocks say reaches
// Redis: no worker takes the other for dead, every item runs once, and
// every time recorded is Redis's.
func TestSkewedClocksLoseAndRepeatNothing(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	c := New(rdb, prefix)
	ctx := context.Background()
	before, err := rdb.Time(ctx).Result()
	testenv.Must(t, err, "redis time")
	var items []string
	for i := 0; i < 24; i++ {
		items = append(items, fmt.Sprintf("item-%02d", i))
		testenv.Must(t, c.Enqueue(ctx, "seed_queue", items[i]), "enqueue")
	}
	var mu sync.Mutex
	runs := map[string]int{}
	h := func(ctx context.Context, it Item) (string, error) {
		mu.Lock()
		runs[it.Value]++
		mu.Unlock()
		if strings.HasSuffix(it.Value, "0") {
			time.Sleep(700 * time.Millisecond) // over twice DeadAfter
		}
		return "", nil
	}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, skew := range []time.Duration{-time.Minute, time.Minute} {
		w := c.NewConsumer(Seed, ConsumerOptions{Concurrency: 2, Heartbeat: 50 * time.Millisecond,
			DeadAfter: 300 * time.Millisecond, RetryBase: 50 * time.Millisecond})
		w.clock = func() time.Time { return time.Now().Add(skew) }
		wg.Add(1)
		go func() { defer wg.Done(); testenv.Must(t, w.Run(runCtx, h), "run") }()
	}
	testenv.Eventually(t, 30*time.Second, "every item done", func() (bool, error) {
		n, err := rdb.SCard(ctx, prefix+Seed.Success).Result()
		return n == int64(len(items)), err
	})
	// Registered workers are checked before they stop (and unregister).
	scores, err := rdb.ZRangeWithScores(ctx, c.workersKey(Seed.Name), 0, -1).Result()
	testenv.Must(t, err, "heartbeats")
	cancel()
	wg.Wait()
	after, err := rdb.Time(ctx).Result()
	testenv.Must(t, err, "redis time")
	inRedisTime := func(what string, at time.Time) {
		t.Helper()
		if at.Before(before.Add(-time.Second)) || at.After(after.Add(time.Second)) {
			t.Errorf("%s = %s, outside Redis's time during the test (%s .. %s)", what, at, before, after)
		}
	}
	if len(scores) != 2 {
		t.Errorf("heartbeats %v, want two workers", scores)
	}
	for _, z := range scores {
		inRedisTime("heartbeat of "+fmt.Sprint(z.Member), time.UnixMilli(int64(z.Score)))
	}
	for _, it := range items {
		if runs[it] != 1 {
			t.Errorf("%s ran %d times, want once", it, runs[it])
		}
		hs, err := c.History(ctx, it)
		testenv.Must(t, err, "history")
		if len(hs) != 1 || hs[0].Attempts != 1 || hs[0].Error != "" {
			t.Errorf("history of %s: %+v", it, hs)
			continue
		}
		for what, s := range map[string]string{"enqueued_at": hs[0].EnqueuedAt, "started_at": hs[0].StartedAt, "finished_at": hs[0].FinishedAt} {
			at, err := time.Parse(time.RFC3339Nano, s)
			testenv.Must(t, err, "%s of %s", what, it)
			inRedisTime(what+" of "+it, at)
		}
	}
}

// The scripts format Redis's time themselves (the sandbox has no os.date).
func TestScriptTimestamps(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	prelude, err := luaFiles.ReadFile("lua/prelude.lua")
	testenv.Must(t, err, "read prelude")
	s := redis.NewScript(string(prelude) + "\nreturn stamp(tonumber(ARGV[2]))")
	for _, ms := range []int64{0, 951782400000, 951868799999, 1529076000123, 1709164800001, 4102444799999, 253402300799999} {
		got, err := s.Run(context.Background(), rdb, nil, prefix, ms).Text()
		testenv.Must(t, err, "stamp %d", ms)
		if want := time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z"); got != want {
			t.Errorf("stamp(%d) = %s, want %s", ms, got, want)
		}
	}
}

// A worker taken for dead (its items given to others) learns it at its
// next heartbeat and stops working on the items it lost; it takes the item
// again like any other, and the item ends done once.
func TestWorkerTakenForDeadStopsWorkOnLostItems(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	c := New(rdb, prefix)
	ctx := context.Background()
	testenv.Must(t, c.Enqueue(ctx, "register_queue", "x"), "enqueue")
	var mu sync.Mutex
	calls, cancelled := 0, 0
	h := func(ctx context.Context, it Item) (string, error) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if !first {
			return "second", nil
		}
		<-ctx.Done()
		mu.Lock()
		cancelled++
		mu.Unlock()
		return "", ctx.Err()
	}
	w := c.NewConsumer(Register, ConsumerOptions{WorkerID: "w", Heartbeat: 50 * time.Millisecond,
		DeadAfter: time.Minute, RetryBase: 50 * time.Millisecond})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx, h) }()
	testenv.Eventually(t, 10*time.Second, "x in flight", func() (bool, error) {
		return c.IsMember(ctx, Register.Progress, "x")
	})
	// What a reclaimer does to a worker it thinks dead.
	_, err := c.release(ctx, Register, "w", "redelivered: worker w stopped before finishing")
	testenv.Must(t, err, "release")
	testenv.Eventually(t, 10*time.Second, "x done", func() (bool, error) {
		return c.IsMember(ctx, Register.Success, "x")
	})
	cancel()
	testenv.Must(t, <-done, "run")
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 || cancelled != 1 {
		t.Errorf("handler called %d times, cancelled %d times; want the lost attempt cancelled, then one more", calls, cancelled)
	}
	hs, _ := c.History(ctx, "x")
	if len(hs) != 1 || hs[0].Status != StatusSuccess || hs[0].Result != "second" || hs[0].Attempts != 2 {
		t.Errorf("history of x: %+v", hs)
	}
}

// A take whose reply never reached the worker leaves the item in the
// worker's processing list under a lease the worker does not know. The
// worker gives it back at its next heartbeat, long before anyone could
// think it dead.
func TestOrphansOfALiveWorkerAreGivenBack(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	c := New(rdb, prefix)
	ctx := context.Background()
	var mu sync.Mutex
	runs := map[string]int{}
	h := func(ctx context.Context, it Item) (string, error) {
		mu.Lock()
		runs[it.Value]++
		mu.Unlock()
		return "", nil
	}
	w := c.NewConsumer(Seed, ConsumerOptions{WorkerID: "w", Heartbeat: 50 * time.Millisecond, DeadAfter: time.Minute})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx, h) }()
	testenv.Eventually(t, 10*time.Second, "worker registered", func() (bool, error) {
		n, err := rdb.ZCard(ctx, c.workersKey(Seed.Name)).Result()
		return n == 1, err
	})
	// What the take script leaves for w when its reply is lost; written
	// by hand so that the running worker cannot take the item first.
	testenv.Must(t, rdb.LPush(ctx, c.processingKey("w", "seed_queue"), "lost").Err(), "push")
	testenv.Must(t, rdb.SAdd(ctx, prefix+Seed.Progress, "lost").Err(), "progress")
	testenv.Must(t, rdb.HSet(ctx, c.historyKey(Seed.Name, "lost"), "stage", "seed", "queue", "seed_queue",
		"status", StatusRunning, "worker", "w", "lease", "999999", "attempts", 1).Err(), "history")
	testenv.Eventually(t, 10*time.Second, "the orphan done", func() (bool, error) {
		return c.IsMember(ctx, Seed.Success, "lost")
	})
	cancel()
	testenv.Must(t, <-done, "run")
	mu.Lock()
	defer mu.Unlock()
	if runs["lost"] != 1 {
		t.Errorf("the orphan ran %d times, want once", runs["lost"])
	}
}

// A worker taken for dead that takes an item before its next heartbeat is
// registered again by the take, so that if it dies then, a reclaimer finds
// the item (no reclaimer looks at the lists of unregistered workers).
func TestTakeRegistersAWorkerTakenForDead(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	c := New(rdb, prefix)
	ctx := context.Background()
	testenv.Must(t, c.Enqueue(ctx, "seed_queue", "y"), "enqueue")
	_, err := c.heartbeat(ctx, Seed, "w", time.Second)
	testenv.Must(t, err, "heartbeat")
	_, err = c.release(ctx, Seed, "w", "taken for dead") // what a reclaim does to w
	testenv.Must(t, err, "release")
	r, err := c.take(ctx, Seed, "w", 5)
	testenv.Must(t, err, "take")
	if r.item == nil || r.item.Value != "y" || !r.reregistered {
		t.Fatalf("take = %+v, want y and the worker registered again", r)
	}
	// w dies here. Another worker reclaims y and does it.
	var mu sync.Mutex
	var by []string
	h := func(ctx context.Context, it Item) (string, error) {
		mu.Lock()
		by = append(by, it.Value)
		mu.Unlock()
		return "", nil
	}
	other := c.NewConsumer(Seed, ConsumerOptions{WorkerID: "other", Heartbeat: 50 * time.Millisecond, DeadAfter: 300 * time.Millisecond})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- other.Run(runCtx, h) }()
	testenv.Eventually(t, 10*time.Second, "y reclaimed and done", func() (bool, error) {
		return c.IsMember(ctx, Seed.Success, "y")
	})
	cancel()
	testenv.Must(t, <-done, "run")
	hs, _ := c.History(ctx, "y")
	if len(by) != 1 || len(hs) != 1 || hs[0].Worker != "other" || hs[0].Attempts != 2 {
		t.Errorf("ran %v; history %+v", by, hs)
	}
}
