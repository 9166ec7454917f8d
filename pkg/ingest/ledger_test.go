package ingest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/queue"
)

// A package queued, in progress or registered is not queued again, by
// whichever route it comes (a bare path, a document for the same path),
// unless forced; a failed one is.
func TestLedgerDeduplicates(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	l := newLedger(t)
	submit := func(r Request) Outcome {
		t.Helper()
		out, err := l.Submit(ctx, r)
		testenv.Must(t, err, "submit %s", r.Path)
		return out
	}
	doc := Document{Path: "in/a.tar", Identifier: "A", BeginTime: "2018-06-15T10:00:00Z", EndTime: "2018-06-15T10:00:09Z"}.Request("http")

	if out := submit(PathRequest("in/a.tar", "enqueue")); !out.Pushed || out.State != Unseen {
		t.Fatalf("first submission: %+v", out)
	}
	// Queued: neither the path again nor a document for it.
	for _, r := range []Request{PathRequest("in/a.tar", "watch:w"), doc} {
		if out := submit(r); out.Pushed || out.State != Queued || !strings.Contains(out.Reason, "already queued") {
			t.Fatalf("submission while queued: %+v", out)
		}
	}
	// In progress: a real consumer holds the item while we ask.
	holding, release := make(chan struct{}), make(chan struct{})
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		runOne(t, l, queue.Preprocess, func(ctx context.Context, it queue.Item) (string, error) {
			close(holding)
			<-release
			// As the preprocessor does: the register_queue item is pushed
			// with the success.
			return "VHR_IMAGE_2018/A", l.Q.Enqueue(ctx, "register_queue", "VHR_IMAGE_2018/A")
		})
	}()
	<-holding
	if out := submit(doc); out.Pushed || out.State != InProgress {
		t.Fatalf("submission while preprocessing: %+v", out)
	}
	close(release)
	<-consumed
	if out := submit(doc); out.Pushed || out.State != InProgress || !strings.Contains(out.Detail, "registering VHR_IMAGE_2018/A (queued)") {
		t.Fatalf("submission while waiting for the registrar: %+v", out)
	}
	runOne(t, l, queue.Register, func(context.Context, queue.Item) (string, error) { return "", nil })
	out := submit(doc)
	if out.Pushed || out.State != Registered || out.Detail != "registered as VHR_IMAGE_2018/A" {
		t.Fatalf("submission once registered: %+v", out)
	}
	// Forced: pushed again, as the document this time.
	forced := doc
	forced.Force = true
	if out := submit(forced); !out.Pushed || out.Queue != MetadataQueue {
		t.Fatalf("forced submission: %+v", out)
	}
	st, err := l.Status(ctx, "in/a.tar")
	testenv.Must(t, err, "status")
	if st.State != Queued || st.Item != doc.Item || st.Origin != "http" {
		t.Fatalf("status after the forced push: %+v", st)
	}
	// Failed: a new submission goes through.
	runOne(t, l, queue.Preprocess, func(context.Context, queue.Item) (string, error) {
		return "", queue.Permanent(errTest)
	})
	st, err = l.Status(ctx, "in/a.tar")
	testenv.Must(t, err, "status")
	if st.State != Failed || !strings.Contains(st.Detail, string(errTest)) {
		t.Fatalf("status after a failure: %+v", st)
	}
	if out := submit(PathRequest("in/a.tar", "enqueue")); !out.Pushed {
		t.Fatalf("submission after a failure: %+v", out)
	}
	// A package pushed by hand (pvs enqueue PATH, no ledger entry) is
	// found by its item.
	testenv.Must(t, l.Q.Enqueue(ctx, PackageQueue, "in/b.tar"), "enqueue")
	if out := submit(PathRequest("in/b.tar", "watch:w")); out.Pushed || out.State != Queued {
		t.Fatalf("submission of a package pushed by hand: %+v", out)
	}
}

// Two feeds of the same packages at once (two ingestor replicas, or an
// operator's bulk enqueue during a watcher's pass) push each package once.
func TestFeedConcurrentDuplicates(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	l := newLedger(t)
	var reqs []Request
	for i := range 300 {
		reqs = append(reqs, PathRequest("in/p"+strings.Repeat("x", i%7)+"-"+time.Duration(i).String()+".tar", "enqueue"))
	}
	results := make(chan Counts, 2)
	for range 2 {
		go func() {
			c, err := (&Feed{Ledger: l, Concurrency: 8}).Run(ctx, reqs)
			if err != nil {
				t.Error(err)
			}
			results <- c
		}()
	}
	a, b := <-results, <-results
	if a.Pushed+b.Pushed != len(reqs) || a.Skipped+b.Skipped != len(reqs) {
		t.Errorf("two feeds of %d packages: %+v and %+v, want %d pushed in all", len(reqs), a, b, len(reqs))
	}
	n, err := l.Q.Redis().LLen(ctx, l.Q.Key(PackageQueue)).Result()
	testenv.Must(t, err, "llen")
	if n != int64(len(reqs)) {
		t.Errorf("preprocess_queue holds %d items, want %d", n, len(reqs))
	}
}

// One replica at a time runs a watcher: the lease is held, renewed by its
// holder, refused to another, and free once released or expired.
func TestLease(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	l := newLedger(t)
	a := &lease{q: l.Q, key: l.Q.Key("pvs:ingest:lock:watch:w"), owner: "a", ttl: 300 * time.Millisecond}
	b := &lease{q: l.Q, key: a.key, owner: "b", ttl: 300 * time.Millisecond}
	for _, step := range []struct {
		l    *lease
		want bool
	}{{a, true}, {b, false}, {a, true}} {
		got, err := step.l.hold(ctx)
		testenv.Must(t, err, "hold")
		if got != step.want {
			t.Fatalf("%s holds: %v, want %v", step.l.owner, got, step.want)
		}
	}
	a.release(ctx)
	if got, _ := b.hold(ctx); !got {
		t.Fatal("b cannot take a released lease")
	}
	time.Sleep(400 * time.Millisecond)
	if got, _ := a.hold(ctx); !got {
		t.Fatal("a cannot take an expired lease")
	}
	b.release(ctx) // not b's: a keeps it
	if got, _ := b.hold(ctx); got {
		t.Fatal("b released a's lease")
	}
}

// Two routes that find a package new at the same moment and would push
// different items for it (a document, a bare path): one wins the ledger,
// the other is told so and pushes nothing.
func TestLedgerContention(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	l := newLedger(t)
	doc := Document{Path: "in/p.tif", Identifier: "P", BeginTime: "2018-06-15T10:00:00Z"}.Request("http")
	outs, err := l.SubmitBatch(ctx, []Request{doc, PathRequest("in/p.tif", "watch:w")})
	testenv.Must(t, err, "submit")
	if !outs[0].Pushed || outs[1].Pushed || !outs[1].Contended {
		t.Fatalf("outcomes %+v", outs)
	}
	n, _ := l.Q.Redis().LLen(ctx, l.Q.Key(PackageQueue)).Result()
	m, _ := l.Q.Redis().LLen(ctx, l.Q.Key(MetadataQueue)).Result()
	if n != 0 || m != 1 {
		t.Errorf("queues hold %d paths and %d documents, want the document alone", n, m)
	}
}

// Every submission is observed with its route, pushed or left alone.
func TestLedgerObserved(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	l := newLedger(t)
	var seen []string
	l.Observe = func(origin string, o Outcome) { seen = append(seen, fmt.Sprintf("%s %v", origin, o.Pushed)) }
	_, err := l.SubmitBatch(ctx, []Request{PathRequest("in/o1.tar", "watch:inbox"), PathRequest("in/o2.tar", "http")})
	testenv.Must(t, err, "submit")
	_, err = l.Submit(ctx, PathRequest("in/o1.tar", "harvest:cat"))
	testenv.Must(t, err, "submit again")
	want := []string{"watch:inbox true", "http true", "harvest:cat false"}
	if strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Errorf("observed %v, want %v", seen, want)
	}
}
