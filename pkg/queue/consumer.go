package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Item is one unit of work taken from a queue.
type Item struct {
	Queue   string
	Value   string
	Attempt int
}

// Handler does the work for one item. A nil error records success; an error
// marked Permanent records failure at once; any other error is retried with
// backoff until MaxAttempts is reached.
type Handler func(ctx context.Context, it Item) (result string, err error)

// ConsumerOptions tunes a Consumer. Zero values take the defaults.
type ConsumerOptions struct {
	WorkerID      string        // unique per process; default host-pid-random
	Concurrency   int           // items worked on at once; default 1
	Heartbeat     time.Duration // how often the worker says it is alive; default 5s
	DeadAfter     time.Duration // a worker silent this long is dead; default 30s
	PollTimeout   time.Duration // blocking wait per BLMOVE; default 1s
	MaxAttempts   int           // tries before a transient error becomes a failure; default 5
	RetryBase     time.Duration // first retry delay, doubled each attempt; default 2s
	ShutdownGrace time.Duration // in-flight work allowed to finish on shutdown; default 30s
	Logger        *slog.Logger
	Observer      Observer // learns every recorded outcome; nil: none
}

// Outcome is what became of an item after one attempt.
type Outcome string

// The outcomes an Observer sees. An item interrupted by shutdown has none:
// it goes back to its queue untouched.
const (
	OutcomeSuccess Outcome = "success"
	OutcomeFailure Outcome = "failure"
	OutcomeRetry   Outcome = "retry"
)

// Observer learns the outcome of each attempt, once it is recorded in
// Redis, with the time the handler took. It is called from the item's
// goroutine and must not block. It lets a daemon count and time items
// without this package knowing how they are exported.
type Observer interface {
	ItemDone(stage string, outcome Outcome, elapsed time.Duration)
}

func (o *ConsumerOptions) setDefaults() {
	if o.WorkerID == "" {
		host, _ := os.Hostname()
		o.WorkerID = fmt.Sprintf("%s-%d-%06x", host, os.Getpid(), rand.IntN(1<<24))
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 1
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 5 * time.Second
	}
	if o.DeadAfter <= 0 {
		o.DeadAfter = 30 * time.Second
	}
	if o.DeadAfter < 2*o.Heartbeat {
		o.DeadAfter = 2 * o.Heartbeat
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 2 * time.Second
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Consumer takes items of one stage with at-least-once delivery.
type Consumer struct {
	c     *Client
	stage Stage
	opt   ConsumerOptions
	log   *slog.Logger
	// turned is when the fetch loop last went round (Unix nanoseconds),
	// whether or not it found an item: the liveness of the worker.
	turned atomic.Int64
}

// NewConsumer returns a consumer of stage's queues.
func (c *Client) NewConsumer(stage Stage, opt ConsumerOptions) *Consumer {
	opt.setDefaults()
	w := &Consumer{c: c, stage: stage, opt: opt,
		log: opt.Logger.With("stage", stage.Name, "worker", opt.WorkerID)}
	// A consumer not yet running counts as alive: the daemon may still be
	// connecting to its other services.
	w.turn()
	return w
}

// WorkerID returns the consumer's worker id.
func (w *Consumer) WorkerID() string { return w.opt.WorkerID }

// Stage returns the stage the consumer takes items of.
func (w *Consumer) Stage() Stage { return w.stage }

func (w *Consumer) turn() { w.turned.Store(time.Now().UnixNano()) }

// Alive returns an error when the fetch loop has not gone round for
// DeadAfter, the silence after which the other workers take this one's
// items anyway (or three poll timeouts, if that is longer). The loop goes
// round at least every PollTimeout while it runs, also when every slot is
// busy, so long items do not make it stale; Redis being down does not
// either (that is readiness, not liveness).
func (w *Consumer) Alive() error {
	limit := max(w.opt.DeadAfter, 3*w.opt.PollTimeout)
	last := time.Unix(0, w.turned.Load())
	if since := time.Since(last); since > limit {
		return fmt.Errorf("%s consumer loop has not turned for %s (limit %s)",
			w.stage.Name, since.Round(time.Millisecond), limit)
	}
	return nil
}

// Run consumes until ctx is cancelled, then stops taking items, lets
// in-flight items finish within the shutdown grace, and returns the items it
// could not finish to their queue. It returns nil on a clean shutdown.
func (w *Consumer) Run(ctx context.Context, h Handler) error {
	if err := w.beat(ctx); err != nil {
		return fmt.Errorf("register worker %s: %w", w.opt.WorkerID, err)
	}
	// Work runs under its own context so that in-flight items survive the
	// first signal for the length of the grace period.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	var bg sync.WaitGroup
	bgCtx, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	bg.Add(1)
	go func() { defer bg.Done(); w.maintain(bgCtx) }()

	slots := make(chan struct{}, w.opt.Concurrency)
	var work sync.WaitGroup
	w.fetchLoop(ctx, workCtx, slots, &work, h)

	done := make(chan struct{})
	go func() { work.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(w.opt.ShutdownGrace):
		w.log.Warn("shutdown grace elapsed; cancelling in-flight items")
		cancelWork()
		<-done
	}
	stopBG()
	bg.Wait()
	// Whatever is still in our processing lists was not finished: give it
	// back now rather than waiting for another worker to notice.
	final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := w.c.reclaim(final, w.stage, w.opt.WorkerID); err != nil {
		return fmt.Errorf("return unfinished items of %s: %w", w.opt.WorkerID, err)
	}
	return nil
}

// fetchLoop takes a free slot, then an item: first without blocking from
// each queue in order, else blocking on one queue for PollTimeout, rotating
// among the queues, so that an idle queue never holds a slot.
func (w *Consumer) fetchLoop(ctx, workCtx context.Context, slots chan struct{}, work *sync.WaitGroup, h Handler) {
	qs := w.stage.Queues
	turn := 0
	for {
		if !w.acquire(ctx, slots) {
			return
		}
		it, err := w.take(ctx, qs, turn)
		turn++
		if err != nil || it == nil {
			<-slots
			if err != nil && ctx.Err() == nil {
				w.log.Error("take item", "err", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		work.Add(1)
		go func() {
			defer work.Done()
			defer func() { <-slots }()
			w.process(workCtx, *it, h)
		}()
	}
}

// acquire waits for a free slot until ctx ends, marking the loop as turning
// every PollTimeout meanwhile: a worker busy with long items is alive.
func (w *Consumer) acquire(ctx context.Context, slots chan struct{}) bool {
	tick := time.NewTicker(w.opt.PollTimeout)
	defer tick.Stop()
	for {
		w.turn()
		select {
		case <-ctx.Done():
			return false
		case slots <- struct{}{}:
			return true
		case <-tick.C:
		}
	}
}

// take moves one item into this worker's processing list, or returns nil
// after waiting PollTimeout.
func (w *Consumer) take(ctx context.Context, qs []string, turn int) (*Item, error) {
	move := func(q string, block bool) (*Item, error) {
		src, proc := w.c.Key(q), w.c.processingKey(w.opt.WorkerID, q)
		var v string
		var err error
		if block {
			v, err = w.c.rdb.BLMove(ctx, src, proc, "RIGHT", "LEFT", w.opt.PollTimeout).Result()
		} else {
			v, err = w.c.rdb.LMove(ctx, src, proc, "RIGHT", "LEFT").Result()
		}
		if errors.Is(err, redis.Nil) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return &Item{Queue: q, Value: v}, nil
	}
	if len(qs) > 1 {
		for _, q := range qs {
			if it, err := move(q, false); it != nil || err != nil {
				return it, err
			}
		}
	}
	it, err := move(qs[turn%len(qs)], true)
	if ctx.Err() != nil {
		return it, nil
	}
	return it, err
}

func (w *Consumer) process(ctx context.Context, it Item, h Handler) {
	hk := w.c.historyKey(w.stage.Name, it.Value)
	var attempts *redis.IntCmd
	_, err := w.c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		attempts = p.HIncrBy(ctx, hk, "attempts", 1)
		p.HSet(ctx, hk, "stage", w.stage.Name, "queue", it.Queue, "status", StatusRunning,
			"started_at", w.c.timestamp(), "worker", w.opt.WorkerID)
		p.SAdd(ctx, w.c.Key(w.stage.Progress), it.Value)
		return nil
	})
	if err != nil {
		w.log.Error("record start", "item", it.Value, "err", err)
		return // stays in the processing list; returned to the queue later
	}
	it.Attempt = int(attempts.Val())
	log := w.log.With("item", it.Value, "attempt", it.Attempt)
	log.Info("item started")
	t0 := time.Now()
	result, herr := safeCall(ctx, h, it)
	if ctx.Err() != nil && herr != nil && !IsPermanent(herr) {
		// Cancelled by shutdown: leave it in the processing list; Run
		// returns it to the queue.
		log.Warn("item interrupted by shutdown", "err", herr)
		return
	}
	// Record the outcome even if the work context is gone.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	elapsed := time.Since(t0)
	outcome, err := w.record(rctx, log, it, result, herr, elapsed)
	if err != nil {
		// Not observed: the item stays in the processing list and is
		// worked on again, so counting it now would count it twice.
		log.Error("record outcome", "err", err)
		return
	}
	if w.opt.Observer != nil {
		w.opt.Observer.ItemDone(w.stage.Name, outcome, elapsed)
	}
}

// record writes the outcome of an attempt: success, failure (permanent, or
// the last attempt), or a retry later.
func (w *Consumer) record(ctx context.Context, log *slog.Logger, it Item, result string, herr error, elapsed time.Duration) (Outcome, error) {
	switch {
	case herr == nil:
		log.Info("item succeeded", "seconds", elapsed.Seconds(), "result", result)
		return OutcomeSuccess, w.c.finish(ctx, w.stage, w.opt.WorkerID, it, StatusSuccess, "", result)
	case IsPermanent(herr) || it.Attempt >= w.opt.MaxAttempts:
		log.Warn("item failed", "seconds", elapsed.Seconds(), "err", herr)
		return OutcomeFailure, w.c.finish(ctx, w.stage, w.opt.WorkerID, it, StatusFailure, herr.Error(), "")
	default:
		delay := w.opt.RetryBase << (it.Attempt - 1)
		log.Warn("item will be retried", "in", delay.String(), "err", herr)
		return OutcomeRetry, w.c.retryLater(ctx, w.stage, w.opt.WorkerID, it, herr.Error(), delay)
	}
}

// safeCall runs the handler, turning a panic into a permanent failure so that
// one bad product cannot take the daemon down.
func safeCall(ctx context.Context, h Handler, it Item) (result string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Permanent(fmt.Errorf("panic: %v", r))
		}
	}()
	return h(ctx, it)
}

func (c *Client) finish(ctx context.Context, stage Stage, worker string, it Item, status, reason, result string) error {
	hk := c.historyKey(stage.Name, it.Value)
	_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SRem(ctx, c.Key(stage.Progress), it.Value)
		if status == StatusSuccess {
			p.SRem(ctx, c.Key(stage.Failure), it.Value)
			p.SAdd(ctx, c.Key(stage.Success), it.Value)
		} else {
			p.SRem(ctx, c.Key(stage.Success), it.Value)
			p.SAdd(ctx, c.Key(stage.Failure), it.Value)
		}
		p.HSet(ctx, hk, "status", status, "finished_at", c.timestamp(), "error", reason, "result", result)
		p.LRem(ctx, c.processingKey(worker, it.Queue), 1, it.Value)
		return nil
	})
	return err
}

func (c *Client) retryLater(ctx context.Context, stage Stage, worker string, it Item, reason string, delay time.Duration) error {
	hk := c.historyKey(stage.Name, it.Value)
	due := c.now().Add(delay)
	_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SRem(ctx, c.Key(stage.Progress), it.Value)
		p.ZAdd(ctx, c.delayedKey(it.Queue), redis.Z{Score: float64(due.UnixMilli()), Member: it.Value})
		p.HSet(ctx, hk, "status", StatusRetrying, "error", reason, "retry_at", due.UTC().Format(time.RFC3339))
		p.LRem(ctx, c.processingKey(worker, it.Queue), 1, it.Value)
		return nil
	})
	return err
}

// maintain keeps the heartbeat, promotes due retries and reclaims the items
// of dead workers, until ctx ends.
func (w *Consumer) maintain(ctx context.Context) {
	tick := time.NewTicker(w.opt.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := w.beat(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("heartbeat", "err", err)
		}
		for _, q := range w.stage.Queues {
			if _, err := w.c.promote(ctx, q); err != nil && ctx.Err() == nil {
				w.log.Error("promote retries", "queue", q, "err", err)
			}
		}
		if n, err := w.c.ReclaimDead(ctx, w.stage, w.opt.DeadAfter); err != nil && ctx.Err() == nil {
			w.log.Error("reclaim dead workers", "err", err)
		} else if n > 0 {
			w.log.Info("returned items of dead workers to their queues", "items", n)
		}
	}
}

func (w *Consumer) beat(ctx context.Context) error {
	return w.c.rdb.ZAdd(ctx, w.c.workersKey(w.stage.Name),
		redis.Z{Score: float64(w.c.now().UnixMilli()), Member: w.opt.WorkerID}).Err()
}

var promoteScript = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, v in ipairs(due) do
  redis.call('ZREM', KEYS[1], v)
  redis.call('RPUSH', KEYS[2], v)
end
return #due`)

// promote moves retries whose time has come back to the consuming end of
// their queue.
func (c *Client) promote(ctx context.Context, q string) (int, error) {
	n, err := promoteScript.Run(ctx, c.rdb, []string{c.delayedKey(q), c.Key(q)},
		strconv.FormatInt(c.now().UnixMilli(), 10)).Int()
	return n, err
}

// ReclaimDead returns to their queues the items held by workers of stage
// whose last heartbeat is older than deadAfter, and forgets those workers.
func (c *Client) ReclaimDead(ctx context.Context, stage Stage, deadAfter time.Duration) (int, error) {
	cutoff := c.now().Add(-deadAfter).UnixMilli()
	dead, err := c.rdb.ZRangeByScore(ctx, c.workersKey(stage.Name),
		&redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(cutoff, 10)}).Result()
	if err != nil {
		return 0, err
	}
	total := 0
	for _, worker := range dead {
		n, err := c.reclaim(ctx, stage, worker)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// reclaim moves every item in worker's processing lists back to the
// consuming end of its queue. Each LMOVE is atomic, so two survivors
// reclaiming the same worker never duplicate an item.
func (c *Client) reclaim(ctx context.Context, stage Stage, worker string) (int, error) {
	n := 0
	for _, q := range stage.Queues {
		for {
			v, err := c.rdb.LMove(ctx, c.processingKey(worker, q), c.Key(q), "LEFT", "RIGHT").Result()
			if errors.Is(err, redis.Nil) {
				break
			}
			if err != nil {
				return n, err
			}
			n++
			if _, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.SRem(ctx, c.Key(stage.Progress), v)
				p.HSet(ctx, c.historyKey(stage.Name, v), "status", StatusQueued,
					"error", "redelivered: worker "+worker+" stopped before finishing")
				return nil
			}); err != nil {
				return n, err
			}
		}
	}
	return n, c.rdb.ZRem(ctx, c.workersKey(stage.Name), worker).Err()
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
