package bench

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/ingest"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/store"
)

// ingestObjects is the size of the prefix the ingest benchmarks feed from.
const ingestObjects = 10000

var (
	ingestOnce   sync.Once
	ingestBucket store.Store
	ingestErr    error
)

// ingestPrefix is a bucket of the test S3 server holding ingestObjects
// small packages under in/, made once per run (uploading them takes a
// while, and both benchmarks read the same listing).
func ingestPrefix(b *testing.B) store.Store {
	ingestOnce.Do(func() {
		s := testenv.S3Bucket(b)
		ctx := context.Background()
		keys := make(chan string)
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range 32 {
			wg.Go(func() {
				for k := range keys {
					if err := s.Put(ctx, k, strings.NewReader("package")); err != nil {
						mu.Lock()
						ingestErr = err
						mu.Unlock()
					}
				}
			})
		}
		for i := range ingestObjects {
			keys <- fmt.Sprintf("in/%03d/scene-%05d.tar", i/100, i)
		}
		close(keys)
		wg.Wait()
		ingestBucket = s
	})
	if ingestErr != nil {
		b.Fatalf("upload the packages: %v", ingestErr)
	}
	return ingestBucket
}

// BenchmarkEnqueuePrefix is `pvs enqueue --prefix in/` over 10,000
// packages in S3: list the prefix, look each package up in the ledger and
// push it, 16 at once (ingestor.concurrency). Each round starts from an
// empty Redis prefix, so every package is pushed. Reports objects/s and
// the share of the listing.
func BenchmarkEnqueuePrefix(b *testing.B) {
	src := ingestPrefix(b)
	rdb, prefix := testenv.Redis(b)
	ctx := context.Background()
	var listed, total time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		l := ingest.NewLedger(queue.New(rdb, prefix+strconv.Itoa(i)+":"))
		t0 := time.Now()
		objs, err := src.List(ctx, "in/")
		if err != nil {
			b.Fatal(err)
		}
		listed += time.Since(t0)
		var reqs []ingest.Request
		for _, p := range (ingest.Layout{Prefix: "in/", Include: []string{"*.tar"}}).Packages(objs) {
			reqs = append(reqs, ingest.PathRequest(p.Path, "enqueue"))
		}
		c, err := (&ingest.Feed{Ledger: l, Concurrency: 16}).Run(ctx, reqs)
		if err != nil || c.Pushed != ingestObjects {
			b.Fatalf("feed: %+v, %v", c, err)
		}
		total += time.Since(t0)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(ingestObjects*n/total.Seconds(), "objects/s")
	b.ReportMetric(listed.Seconds()/n*1000, "list-ms")
}

// BenchmarkUploadToEnqueue measures the delay from the end of an upload
// to the package's push by a watcher polling every second (settle 0, as
// for S3 objects, which appear whole), over a prefix holding only the new
// packages and over one beside the 10,000 packages already handed over.
// ns/op is the mean delay; p-max the longest.
func BenchmarkUploadToEnqueue(b *testing.B) {
	for _, bc := range []struct {
		name   string
		prefix string
		big    bool
	}{{"empty-prefix", "fresh/", false}, {"10000-objects", "in/", true}} {
		b.Run(bc.name, func(b *testing.B) {
			var src store.Store
			if bc.big {
				src = ingestPrefix(b)
			} else {
				src = testenv.S3Bucket(b)
			}
			rdb, prefix := testenv.Redis(b)
			l := ingest.NewLedger(queue.New(rdb, prefix))
			w := &ingest.Watcher{Name: "bench", Source: src, Layout: ingest.Layout{Prefix: bc.prefix, Include: []string{"*.tar"}},
				Interval: time.Second, Ledger: l, Owner: "bench", Concurrency: 16, Log: slog.New(slog.DiscardHandler)}
			ctx := context.Background()
			// The first pass hands over what is there already.
			if _, err := w.Pass(ctx); err != nil {
				b.Fatal(err)
			}
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { w.Run(runCtx); close(done) }()
			defer func() { stop(); <-done }()
			var worst, sum time.Duration
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				// Uploads come at any time, not just after a pass.
				b.StopTimer()
				time.Sleep(time.Duration(rand.Int64N(int64(w.Interval))))
				b.StartTimer()
				key := fmt.Sprintf("%snew-%s-%d.tar", bc.prefix, testenv.ID(), i)
				if err := src.Put(ctx, key, strings.NewReader("package")); err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				for {
					st, err := l.Status(ctx, key)
					if err != nil {
						b.Fatal(err)
					}
					if st.State == ingest.Queued {
						break
					}
					if time.Since(t0) > 30*time.Second {
						b.Fatalf("%s not queued after 30s", key)
					}
					time.Sleep(2 * time.Millisecond)
				}
				d := time.Since(t0)
				sum += d
				worst = max(worst, d)
			}
			b.StopTimer()
			b.ReportMetric(float64(sum.Milliseconds())/float64(b.N), "ms/upload")
			b.ReportMetric(float64(worst.Milliseconds()), "p-max-ms")
		})
	}
}
