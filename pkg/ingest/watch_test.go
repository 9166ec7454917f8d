package ingest

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/store"
	"github.com/pvs/pvs/pkg/store/file"
)

func newLedger(t *testing.T) *Ledger {
	t.Helper()
	rdb, prefix := testenv.Redis(t)
	return NewLedger(queue.New(rdb, prefix))
}

// backends are the two stores a watcher may watch, on the real servers.
func backends(t *testing.T) map[string]func(t *testing.T) store.Store {
	return map[string]func(t *testing.T) store.Store{
		"file": func(t *testing.T) store.Store {
			s, err := file.New(t.TempDir())
			testenv.Must(t, err, "file store")
			return s
		},
		"s3": func(t *testing.T) store.Store { return testenv.S3Bucket(t) },
	}
}

func put(t *testing.T, s store.Store, key, data string) {
	t.Helper()
	testenv.Must(t, s.Put(context.Background(), key, strings.NewReader(data)), "put %s", key)
}

func newWatcher(l *Ledger, s store.Store, layout Layout) *Watcher {
	return &Watcher{Name: "incoming", Source: s, Layout: layout, Interval: time.Second, Ledger: l, Owner: "test",
		Concurrency: 4, Log: slog.New(slog.DiscardHandler)}
}

// queued returns the items of a queue, sorted (a pass pushes several at
// once, in no set order).
func queued(t *testing.T, l *Ledger, name string) []string {
	t.Helper()
	items, err := l.Q.Redis().LRange(context.Background(), l.Q.Key(name), 0, -1).Result()
	testenv.Must(t, err, "read %s", name)
	slices.Sort(items)
	return items
}

func pass(t *testing.T, w *Watcher) PassResult {
	t.Helper()
	r, err := w.Pass(context.Background())
	testenv.Must(t, err, "watch pass")
	return r
}

// Objects appearing under a watched prefix are queued once each, by one
// watcher or the next one after a restart (a new Watcher: nothing kept in
// memory), including one handed over just before a crash that left the
// cursor behind.
func TestWatcherEnqueuesOnceAcrossRestart(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			testenv.Require(t)
			ctx := context.Background()
			l := newLedger(t)
			src := open(t)
			layout := Layout{Prefix: "incoming/", Include: []string{"*.tar", "*.zip"}}
			for _, k := range []string{"incoming/a.tar", "incoming/b.zip", "incoming/notes.txt", "elsewhere/c.tar"} {
				put(t, src, k, "package "+k)
			}
			r := pass(t, newWatcher(l, src, layout))
			if r.Pushed != 2 || r.Packages != 2 {
				t.Fatalf("first pass: %+v, want 2 packages pushed", r)
			}
			// Restart: the new watcher finds its cursor in Redis.
			r = pass(t, newWatcher(l, src, layout))
			if r.Pushed != 0 || r.Skipped != 0 {
				t.Fatalf("pass after a restart: %+v, want nothing handed over again", r)
			}
			put(t, src, "incoming/d.tar", "package d")
			put(t, src, "incoming/sub/e.tar", "package e")
			w := newWatcher(l, src, layout)
			r = pass(t, w)
			if r.Pushed != 2 {
				t.Fatalf("pass with two new packages: %+v", r)
			}
			// A crash after the ledger entry and the push, before the
			// cursor moved: the package is new to the cursor, but the
			// ledger knows this version was handed over.
			put(t, src, "incoming/f.tar", "package f")
			objs, err := src.List(ctx, "incoming/f.tar")
			testenv.Must(t, err, "list")
			req := PathRequest("incoming/f.tar", "watch:incoming")
			req.Fingerprint = layout.Packages(objs)[0].Fingerprint()
			out, err := l.Submit(ctx, req)
			testenv.Must(t, err, "submit")
			if !out.Pushed {
				t.Fatalf("submit f: %+v", out)
			}
			r = pass(t, newWatcher(l, src, layout))
			if r.Pushed != 0 || r.Skipped != 1 {
				t.Fatalf("pass after a crash between push and cursor: %+v, want f skipped", r)
			}
			r = pass(t, w)
			if r.Pushed != 0 || r.Skipped != 0 {
				t.Fatalf("quiet pass: %+v", r)
			}
			got := queued(t, l, PackageQueue)
			want := []string{"incoming/a.tar", "incoming/b.zip", "incoming/d.tar", "incoming/f.tar", "incoming/sub/e.tar"}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("preprocess_queue holds %v, want each package once: %v", got, want)
			}
			hs, err := l.Q.History(ctx, "incoming/a.tar")
			testenv.Must(t, err, "history")
			if len(hs) != 1 || hs[0].Status != queue.StatusQueued {
				t.Errorf("history of incoming/a.tar: %+v", hs)
			}
		})
	}
}

// A package whose size is still changing waits until it has kept one
// size for the settle time; one whose marker is missing waits for it.
func TestWatcherWaitsForCompletePackages(t *testing.T) {
	testenv.Require(t)
	l := newLedger(t)
	dir := t.TempDir()
	src, err := file.New(dir)
	testenv.Must(t, err, "file store")
	w := newWatcher(l, src, Layout{Prefix: "in/", Include: []string{"*.tar"}})
	w.Settle = time.Minute
	clock := time.Now()
	w.now = func() time.Time { return clock }

	// Written in place, as cp or an SFTP upload writes: it grows.
	p := filepath.Join(dir, "in", "big.tar")
	testenv.Must(t, os.MkdirAll(filepath.Dir(p), 0o755), "mkdir")
	testenv.Must(t, os.WriteFile(p, bytes.Repeat([]byte("x"), 1000), 0o644), "write")
	if r := pass(t, w); r.Waiting != 1 || r.Pushed != 0 {
		t.Fatalf("fresh package: %+v, want it waiting", r)
	}
	clock = clock.Add(40 * time.Second)
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	testenv.Must(t, err, "open")
	f.Write(bytes.Repeat([]byte("y"), 1000))
	f.Close()
	if r := pass(t, w); r.Waiting != 1 {
		t.Fatalf("package that grew: %+v, want it waiting", r)
	}
	clock = clock.Add(40 * time.Second) // 40s at its new size: not yet
	if r := pass(t, w); r.Waiting != 1 {
		t.Fatalf("package 40s at one size: %+v, want it waiting", r)
	}
	clock = clock.Add(30 * time.Second)
	if r := pass(t, w); r.Pushed != 1 {
		t.Fatalf("package 70s at one size: %+v, want it pushed", r)
	}
	// Found old at first sight (a restart, a backlog): taken at once.
	old := filepath.Join(dir, "in", "old.tar")
	testenv.Must(t, os.WriteFile(old, []byte("old"), 0o644), "write")
	testenv.Must(t, os.Chtimes(old, clock.Add(-time.Hour), clock.Add(-time.Hour)), "chtimes")
	if r := pass(t, w); r.Pushed != 1 {
		t.Fatalf("package an hour old: %+v, want it pushed at first sight", r)
	}

	// On S3, a directory package whose completion marker is missing.
	s3src := testenv.S3Bucket(t)
	dw := newWatcher(l, s3src, Layout{Prefix: "drop/", Directories: true, Depth: 1, Marker: "_SUCCESS"})
	dw.Name = "drop"
	put(t, s3src, "drop/S2A_X.SAFE/GRANULE/B04.jp2", "b04")
	put(t, s3src, "drop/S2A_X.SAFE/MTD_MSIL1C.xml", "<x/>")
	if r := pass(t, dw); r.Waiting != 1 || r.Pushed != 0 {
		t.Fatalf("directory without its marker: %+v, want it waiting", r)
	}
	put(t, s3src, "drop/S2A_X.SAFE/_SUCCESS", "")
	if r := pass(t, dw); r.Pushed != 1 {
		t.Fatalf("directory with its marker: %+v, want it pushed", r)
	}
	// An object package with a marker suffix.
	ow := newWatcher(l, s3src, Layout{Prefix: "obj/", Include: []string{"*.zip"}, Marker: ".done"})
	ow.Name = "obj"
	put(t, s3src, "obj/scene.zip", "zip")
	if r := pass(t, ow); r.Waiting != 1 {
		t.Fatalf("object without its marker: %+v, want it waiting", r)
	}
	put(t, s3src, "obj/scene.zip.done", "")
	if r := pass(t, ow); r.Pushed != 1 {
		t.Fatalf("object with its marker: %+v, want it pushed", r)
	}
	got := queued(t, l, PackageQueue)
	want := []string{"drop/S2A_X.SAFE", "in/big.tar", "in/old.tar", "obj/scene.zip"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("preprocess_queue holds %v, want %v", got, want)
	}
}

// A re-uploaded package (a new version) is handed over again; with a
// cursor entry it is not, as long as it is unchanged.
func TestWatcherNewVersion(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	l := newLedger(t)
	src := testenv.S3Bucket(t)
	layout := Layout{Prefix: "in/", Include: []string{"*.tar"}}
	put(t, src, "in/a.tar", "v1")
	if r := pass(t, newWatcher(l, src, layout)); r.Pushed != 1 {
		t.Fatalf("first pass: %+v", r)
	}
	// The preprocessor fails it.
	failItem(t, l, "in/a.tar")
	if r := pass(t, newWatcher(l, src, layout)); r.Pushed != 0 {
		t.Fatalf("unchanged failed package: %+v, want it left alone", r)
	}
	put(t, src, "in/a.tar", "version two, fixed")
	if r := pass(t, newWatcher(l, src, layout)); r.Pushed != 1 {
		t.Fatalf("failed package uploaded again: %+v, want it pushed", r)
	}
	st, err := l.Status(ctx, "in/a.tar")
	testenv.Must(t, err, "status")
	if st.State != Queued || st.Origin != "watch:incoming" {
		t.Errorf("status %+v", st)
	}
}

// failItem has a real consumer take the next preprocess item and fail it.
func failItem(t *testing.T, l *Ledger, item string) {
	t.Helper()
	runOne(t, l, queue.Preprocess, func(ctx context.Context, it queue.Item) (string, error) {
		if it.Value != item {
			t.Errorf("took %q, want %q", it.Value, item)
		}
		return "", queue.Permanent(errTest)
	})
}

var errTest = testError("no product type matches the package")

type testError string

func (e testError) Error() string { return string(e) }

// runOne runs a consumer of stage until it has recorded one outcome.
func runOne(t *testing.T, l *Ledger, stage queue.Stage, h queue.Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var once sync.Once
	c := l.Q.NewConsumer(stage, queue.ConsumerOptions{Heartbeat: 200 * time.Millisecond, DeadAfter: time.Second,
		Logger: slog.New(slog.DiscardHandler), Observer: observer(func() { once.Do(func() { close(done) }) })})
	finished := make(chan error, 1)
	go func() { finished <- c.Run(ctx, h) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("no outcome recorded in 20s")
	}
	cancel()
	testenv.Must(t, <-finished, "consumer")
}

type observer func()

func (o observer) ItemDone(string, queue.Outcome, time.Duration) { o() }
