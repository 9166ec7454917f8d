package ingest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// Counts tallies a feed.
type Counts struct {
	Total   int // requests in the feed
	Done    int // requests answered
	Pushed  int // packages queued
	Skipped int // packages left alone (queued, in progress, registered)
	Failed  int // requests that could not be answered (Redis errors)
}

// Feed submits many requests through a ledger, in batches (a batch's
// look-ups are one pipeline) and several batches at once: each push is a
// round trip to Redis, so a feed of thousands is bound by the latency,
// which concurrency hides.
type Feed struct {
	Ledger      *Ledger
	Concurrency int
	// Batch is the requests looked up together; default 64.
	Batch int
	// Progress, when set, is called after every batch, from any
	// goroutine, with the counts so far.
	Progress func(Counts)
	// Answer, when set, is called with each outcome, from any goroutine.
	Answer func(Request, Outcome, error)
}

// Run submits every request and returns the counts; the error names the
// first failure. Cancelling ctx stops it between batches.
func (f *Feed) Run(ctx context.Context, reqs []Request) (Counts, error) {
	batch := f.Batch
	if batch <= 0 {
		batch = 64
	}
	var (
		next                          atomic.Int64
		done, pushed, skipped, failed atomic.Int64
		mu                            sync.Mutex
		firstErr                      error
		wg                            sync.WaitGroup
	)
	total := len(reqs)
	counts := func() Counts {
		return Counts{Total: total, Done: int(done.Load()), Pushed: int(pushed.Load()),
			Skipped: int(skipped.Load()), Failed: int(failed.Load())}
	}
	for range min(max(f.Concurrency, 1), (total+batch-1)/batch) {
		wg.Go(func() {
			for ctx.Err() == nil {
				lo := int(next.Add(int64(batch))) - batch
				if lo >= total {
					return
				}
				chunk := reqs[lo:min(lo+batch, total)]
				outs, err := f.Ledger.SubmitBatch(ctx, chunk)
				for i, r := range chunk {
					var o Outcome
					if i < len(outs) {
						o = outs[i]
					}
					switch {
					case err != nil && !o.Pushed && o.Reason == "":
						failed.Add(1)
					case o.Pushed:
						pushed.Add(1)
					default:
						skipped.Add(1)
					}
					done.Add(1)
					if f.Answer != nil {
						if o.Pushed || o.Reason != "" {
							f.Answer(r, o, nil)
						} else {
							f.Answer(r, o, err)
						}
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
				if f.Progress != nil {
					f.Progress(counts())
				}
			}
		})
	}
	wg.Wait()
	c := counts()
	if err := ctx.Err(); err != nil && c.Done < total {
		return c, fmt.Errorf("feed stopped after %d of %d: %w", c.Done, total, err)
	}
	if c.Failed > 0 {
		return c, fmt.Errorf("%d of %d submissions failed, first: %w", c.Failed, total, firstErr)
	}
	return c, nil
}
