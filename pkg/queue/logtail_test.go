package queue_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/queue"
)

// An item's log tail holds what the consumer and the handler (through
// ItemLogger) logged about it, across attempts, stamped with Redis's time,
// bounded to the newest LogLines lines and set to expire; debug lines and
// other items' lines stay out of it.
func TestItemLogTail(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	before, err := rdb.Time(ctx).Result()
	testenv.Must(t, err, "redis time")
	for _, it := range []string{"a", "b"} {
		testenv.Must(t, q.Enqueue(ctx, "seed_queue", it), "enqueue %s", it)
	}
	opt := fast(queue.ConsumerOptions{WorkerID: "seeder-1", LogLines: 8, LogTTL: time.Hour})
	c := q.NewConsumer(queue.Seed, opt)
	runUntil(t, c, func(ctx context.Context, it queue.Item) (string, error) {
		log := queue.ItemLogger(ctx, nil).With("tiles", 12)
		log.Debug("not kept")
		log.Info("rendering", "zoom", 3, "note", "two words")
		if it.Value == "a" && it.Attempt == 1 {
			return "", errors.New("renderer unreachable")
		}
		return "", nil
	}, "both done", func() (bool, error) {
		n, err := rdb.SCard(ctx, prefix+queue.Seed.Success).Result()
		return n == 2, err
	})
	after, err := rdb.Time(ctx).Result()
	testenv.Must(t, err, "redis time")

	lines, err := q.LogTail(ctx, "seed", "a")
	testenv.Must(t, err, "log tail")
	var got []string
	for _, l := range lines {
		got = append(got, fmt.Sprintf("%d %s %s", l.Attempt, l.Level, l.Message))
		at, err := time.Parse(time.RFC3339Nano, l.Time)
		if err != nil || at.Before(before.Add(-time.Second)) || at.After(after.Add(time.Second)) || l.Worker != "seeder-1" {
			t.Errorf("line %+v: time outside Redis's during the test (%s .. %s) or wrong worker (err %v)", l, before, after, err)
		}
	}
	want := []string{
		"1 INFO item started",
		`1 INFO rendering tiles=12 zoom=3 note="two words"`,
		"1 WARN item will be retried in=50ms err=\"renderer unreachable\"",
		"2 INFO item started",
		`2 INFO rendering tiles=12 zoom=3 note="two words"`,
		"2 INFO item succeeded",
	}
	if len(got) != len(want) {
		t.Fatalf("tail of a:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("line %d: %q, want it to start with %q", i, got[i], want[i])
		}
	}
	if ttl, err := rdb.PTTL(ctx, prefix+"pvs:log:seed:a").Result(); err != nil || ttl <= 0 || ttl > time.Hour {
		t.Errorf("tail expires in %s (%v), want within the hour", ttl, err)
	}

	// Past LogLines, the oldest lines go.
	testenv.Must(t, q.Enqueue(ctx, "seed_queue", "a"), "enqueue again")
	c = q.NewConsumer(queue.Seed, opt)
	runUntil(t, c, func(ctx context.Context, it queue.Item) (string, error) {
		for i := 0; i < 10; i++ {
			queue.ItemLogger(ctx, nil).Info(fmt.Sprintf("line %d", i))
		}
		return "", nil
	}, "a done again", func() (bool, error) {
		lines, err := q.LogTail(ctx, "seed", "a")
		return len(lines) > 0 && lines[0].Message == "line 3" && strings.HasPrefix(lines[len(lines)-1].Message, "item succeeded"), err
	})
	lines, err = q.LogTail(ctx, "seed", "a")
	testenv.Must(t, err, "log tail")
	if len(lines) != 8 || lines[0].Message != "line 3" || lines[6].Message != "line 9" {
		t.Errorf("bounded tail: %d lines starting with %+v, want 8 from line 3", len(lines), lines[0])
	}

	// Unknown items and stages have no tail.
	if lines, err := q.LogTail(ctx, "register", "a"); err != nil || len(lines) != 0 {
		t.Errorf("tail of a in register: %v, %v", lines, err)
	}
}

// With LogLines negative nothing is kept, and ItemLogger still logs.
func TestItemLogTailOff(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	testenv.Must(t, q.Enqueue(ctx, "seed_queue", "x"), "enqueue")
	c := q.NewConsumer(queue.Seed, fast(queue.ConsumerOptions{LogLines: -1}))
	runUntil(t, c, func(ctx context.Context, it queue.Item) (string, error) {
		if queue.ItemLogger(ctx, nil) == nil {
			return "", queue.Permanent(errors.New("no item logger"))
		}
		queue.ItemLogger(ctx, nil).Info("hello")
		return "", nil
	}, "x done", func() (bool, error) { return q.IsMember(ctx, queue.Seed.Success, "x") })
	if n, err := rdb.Exists(ctx, prefix+"pvs:log:seed:x").Result(); err != nil || n != 0 {
		t.Errorf("tail kept with LogLines -1 (%v)", err)
	}
	if l := queue.ItemLogger(ctx, nil); l != nil {
		t.Errorf("ItemLogger outside a handler: %v, want the fallback", l)
	}
}
