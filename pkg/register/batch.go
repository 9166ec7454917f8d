package register

import (
	"context"
	"sync"
	"time"

	"github.com/pvs/pvs/pkg/catalog"
)

// batcher commits registrations that arrive together in one transaction
// (group commit): the first waits up to delay for others, and a full batch
// goes at once. Each caller gets its own product's outcome.
type batcher struct {
	max      int
	delay    time.Duration
	register func(ctx context.Context, ps []catalog.Product) ([]catalog.Result, error)

	mu      sync.Mutex
	pending []*call
	timer   *time.Timer
}

type call struct {
	p    catalog.Product
	res  catalog.Registered
	err  error
	done chan struct{}
}

func (b *batcher) do(ctx context.Context, p catalog.Product) (catalog.Registered, error) {
	c := &call{p: p, done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, c)
	switch {
	case len(b.pending) >= b.max || b.delay <= 0:
		batch := b.take()
		b.mu.Unlock()
		go b.flush(batch)
	case len(b.pending) == 1:
		b.timer = time.AfterFunc(b.delay, func() {
			b.mu.Lock()
			batch := b.take()
			b.mu.Unlock()
			b.flush(batch)
		})
		b.mu.Unlock()
	default:
		b.mu.Unlock()
	}
	select {
	case <-c.done:
		return c.res, c.err
	case <-ctx.Done():
		// The batch still commits; the item will be redelivered and its
		// registration is idempotent.
		return catalog.Registered{}, ctx.Err()
	}
}

// take empties the pending list; b.mu is held.
func (b *batcher) take() []*call {
	batch := b.pending
	b.pending = nil
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	return batch
}

func (b *batcher) flush(batch []*call) {
	if len(batch) == 0 {
		return
	}
	ps := make([]catalog.Product, len(batch))
	for i, c := range batch {
		ps[i] = c.p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := b.register(ctx, ps)
	for i, c := range batch {
		if err != nil {
			c.err = err
		} else {
			c.res, c.err = res[i].Registered, res[i].Err
		}
		close(c.done)
	}
}
