package queue

import (
	"context"
	"time"
)

// maintain keeps the heartbeat, promotes due retries, gives back orphans
// and reclaims the items of dead workers, until ctx ends.
func (w *Consumer) maintain(ctx context.Context) {
	tick := time.NewTicker(w.opt.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		w.tend(ctx)
	}
}

// tend is one round of maintenance. Without a heartbeat the rest waits:
// a reclaimer must be heard to judge others.
func (w *Consumer) tend(ctx context.Context) {
	known, err := w.c.heartbeat(ctx, w.stage, w.opt.WorkerID, w.opt.DeadAfter)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error("heartbeat", "err", err)
		}
		return
	}
	if !known {
		w.takenForDead(ctx)
	}
	for _, q := range w.stage.Queues {
		if _, err := w.c.promote(ctx, w.stage, q); err != nil && ctx.Err() == nil {
			w.log.Error("promote retries", "queue", q, "err", err)
		}
	}
	w.sweep(ctx)
	r, err := w.c.reclaimDead(ctx, w.stage, w.opt.WorkerID, w.opt.DeadAfter)
	switch {
	case err != nil && ctx.Err() == nil:
		w.log.Error("reclaim dead workers", "err", err)
	case len(r.workers) > 0:
		w.log.Info("returned items of dead workers to their queues", "items", r.items, "workers", r.workers)
	}
}

// takenForDead stops working on the items in flight whose lease is gone
// (a reclaimer gave them to others): their outcome would be dropped anyway.
func (w *Consumer) takenForDead(ctx context.Context) {
	w.log.Warn("this worker was taken for dead and its items given to others; dropping the ones it lost")
	for _, f := range w.flights() {
		lease, err := w.c.rdb.HGet(ctx, w.c.historyKey(w.stage.Name, f.Value), "lease").Result()
		if (err == nil && lease != f.lease) || isNil(err) {
			w.log.Warn("stopped working on an item given to another worker", "item", f.Value)
			f.cancel()
		}
	}
}

// sweep gives back the items in this worker's processing lists that are
// not in flight (see lua/orphans.lua). Holding w.mu keeps a take that has
// moved an item but not yet noted it in flight from being swept.
func (w *Consumer) sweep(ctx context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	leases := make([]string, 0, len(w.inFlight))
	for l := range w.inFlight {
		leases = append(leases, l)
	}
	items, err := w.c.orphans(ctx, w.stage, w.opt.WorkerID, leases)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error("give back orphans", "err", err)
		}
		return
	}
	for _, it := range items {
		w.log.Warn("gave back an item this worker held but was not working on", "item", it)
	}
}
