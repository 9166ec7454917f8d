package ops_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/ops"
	"github.com/pvs/pvs/pkg/queue"
)

func TestGlob(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, item string
		match         bool
	}{
		{"", "anything/at/all.tar", true},
		{"*", "a/b.tar", true},
		{"incoming/*.tar", "incoming/2018/x.tar", true}, // * crosses slashes
		{"incoming/*.tar", "incoming/x.zip", false},
		{"scene-?.tar", "scene-1.tar", true},
		{"scene-?.tar", "scene-12.tar", false},
		{"a.b", "axb", false}, // . is itself
		{"[x]", "[x]", true},
		{"2018-06-15T00:00:00Z/*", "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z", true},
	} {
		re, err := ops.Glob(tc.pattern)
		testenv.Must(t, err, "glob %q", tc.pattern)
		if re.MatchString(tc.item) != tc.match {
			t.Errorf("Glob(%q) on %q: %v, want %v", tc.pattern, tc.item, !tc.match, tc.match)
		}
	}
}

func TestParseZoom(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in     string
		lo, hi int
		ok     bool
	}{
		{"6", 6, 6, true}, {"0-18", 0, 18, true}, {"24", 24, 24, true},
		{"", 0, 0, false}, {"12-6", 0, 0, false}, {"-1", 0, 0, false}, {"25", 0, 0, false}, {"a-b", 0, 0, false},
	} {
		lo, hi, err := ops.ParseZoom(tc.in)
		if (err == nil) != tc.ok || lo != tc.lo || hi != tc.hi {
			t.Errorf("ParseZoom(%q) = %d, %d, %v", tc.in, lo, hi, err)
		}
		if err != nil && !ops.IsInput(err) {
			t.Errorf("ParseZoom(%q): %v is not an input error", tc.in, err)
		}
	}
}

// Requests are checked whole before anything is pushed, and the errors
// name the field at fault.
func TestCheckEnqueue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		queue string
		items []string
		field string
	}{
		{"preprocess_queue", []string{"a.tar"}, ""},
		{"preprocess-md_queue", []string{`{"path":"a.tar"}`}, ""},
		{"nope", []string{"a.tar"}, "queue"},
		{"preprocess_queue", nil, "items"},
		{"preprocess_queue", []string{"a.tar", ""}, "items"},
		{"preprocess_queue", []string{"a\x00b"}, "items"},
		{"preprocess-md_queue", []string{`{"path":`}, "items"},
	} {
		err := ops.CheckEnqueue(tc.queue, tc.items)
		var ie *ops.InputError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("CheckEnqueue(%s, %q): %v", tc.queue, tc.items, err)
		case tc.field != "" && (!errors.As(err, &ie) || ie.Field != tc.field):
			t.Errorf("CheckEnqueue(%s, %q): %v, want an input error on %s", tc.queue, tc.items, err, tc.field)
		}
	}
}

// An invalid item among valid ones pushes none; retry by pattern queues
// exactly the matching failures, each on the queue it came from.
func TestEnqueueAndRetryOnRedis(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	o := &ops.Ops{Queue: q, Prefix: prefix}
	ctx := context.Background()
	if _, err := o.Enqueue(ctx, "preprocess_queue", []string{"a.tar", ""}); !ops.IsInput(err) {
		t.Fatalf("enqueue with an empty item: %v", err)
	}
	if n, _ := rdb.LLen(ctx, prefix+"preprocess_queue").Result(); n != 0 {
		t.Errorf("%d items pushed from a refused request", n)
	}
	ps, err := o.Enqueue(ctx, "preprocess_queue", []string{"x/a.tar", "y/b.tar", "x/c.tar"})
	testenv.Must(t, err, "enqueue")
	if len(ps) != 3 || !ps[2].Pushed {
		t.Errorf("enqueue: %+v", ps)
	}
	c := q.NewConsumer(queue.Preprocess, queue.ConsumerOptions{Heartbeat: 50 * time.Millisecond})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- c.Run(runCtx, func(context.Context, queue.Item) (string, error) { return "", queue.Permanent(errors.New("bad")) })
	}()
	testenv.Eventually(t, 10*time.Second, "three failures", func() (bool, error) {
		st, err := o.Stages(ctx)
		return err == nil && st[0].Failure == 3, err
	})
	cancel()
	testenv.Must(t, <-done, "consumer")
	ps, err = o.Retry(ctx, ops.RetryRequest{Stage: "preprocess", Match: "x/*"})
	testenv.Must(t, err, "retry")
	var got []string
	for _, p := range ps {
		got = append(got, p.Queue+" "+p.Item)
	}
	if strings.Join(got, ",") != "preprocess_queue x/a.tar,preprocess_queue x/c.tar" {
		t.Errorf("retry x/*: %v", got)
	}
	page, err := o.Items(ctx, ops.ItemQuery{Stage: "preprocess", Set: ops.SetFailure})
	testenv.Must(t, err, "items")
	// Retried items stay in the failure set until their next outcome;
	// their history says they are queued again.
	if page.Total != 3 || page.Items[0].Status != "queued" || page.Items[2].Item != "y/b.tar" || page.Items[2].Error != "bad" ||
		page.Items[2].Status != "failure" {
		t.Errorf("failures: %+v", page)
	}
	if _, err := o.DeregisterNow(ctx, []string{"P"}); !errors.Is(err, ops.ErrUnavailable) {
		t.Errorf("deregister now without a catalogue: %v", err)
	}
	if _, err := o.PlanSeed(ctx, ops.SeedRequest{Interval: "2018-01-01/2019-01-01"}); !errors.Is(err, ops.ErrUnavailable) {
		t.Errorf("seed without a seeder: %v", err)
	}
}
