package queue

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Item is one unit of work taken from a queue.
type Item struct {
	Queue   string
	Value   string
	Attempt int
}

// Handler does the work for one item. A nil error records success; an error
// marked Permanent records failure at once; Snooze asks for the item again
// later; any other error is retried with backoff until MaxAttempts is
// reached. Items the handler pushes with Client.Enqueue (or Push) under the
// context it is given are pushed only if it succeeds, in the same step that
// records the success.
type Handler func(ctx context.Context, it Item) (result string, err error)

// ConsumerOptions tunes a Consumer. Zero values take the defaults.
type ConsumerOptions struct {
	// WorkerID is unique among the live workers of a stage; default
	// host-pid-random. A worker started again under the id of a dead one
	// (a fixed id per replica) gives back that one's items at once instead
	// of leaving them for the reclaimers.
	WorkerID      string
	Concurrency   int           // items worked on at once; default 1
	Heartbeat     time.Duration // how often the worker says it is alive; default 5s
	DeadAfter     time.Duration // a worker silent this long is dead; default 30s, at least 3 heartbeats
	PollTimeout   time.Duration // blocking wait for an item; default 1s (Redis waits whole seconds)
	MaxAttempts   int           // items taken this often fail instead ("gave up after N attempts"); default 5
	RetryBase     time.Duration // first retry delay, doubled each attempt; default 2s
	ShutdownGrace time.Duration // in-flight work allowed to finish on shutdown; default 30s
	Logger        *slog.Logger
	Observer      Observer // learns every recorded outcome; nil: none
	// LogLines is how many log lines of each item (per stage) are kept in
	// Redis, the newest, for pvs status and the management API: the lines
	// the consumer logs about the item and those its handler logs through
	// ItemLogger. Default DefaultLogLines; negative: none are kept.
	LogLines int
	// LogTTL is how long an item's log tail is kept after its last line.
	// Default DefaultLogTTL.
	LogTTL time.Duration
	// Hold, when set and returning an error, keeps the consumer from
	// taking new items (those in flight go on); it asks again every
	// PollTimeout. A worker under failure pressure holds this way.
	Hold func() error
}

// Outcome is what became of an item after one attempt.
type Outcome string

// The outcomes an Observer sees. An item interrupted by shutdown has none:
// it goes back to its queue untouched; nor has one whose outcome was dropped
// because another worker holds it now.
const (
	OutcomeSuccess Outcome = "success"
	OutcomeFailure Outcome = "failure"
	OutcomeRetry   Outcome = "retry"
)

// Observer learns the outcome of each attempt, once it is recorded in
// Redis, with the time the handler took (an item that gave up after too
// many attempts is a failure of no time, a snooze is a retry). It is called
// from a consumer goroutine and must not block. It lets a daemon count and time items
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
	// A heartbeat gap past half of DeadAfter breaks a worker's continuity
	// (lua/heartbeat.lua): three beats per DeadAfter leave room for latency.
	if o.DeadAfter < 3*o.Heartbeat {
		o.DeadAfter = 3 * o.Heartbeat
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
	if o.LogLines == 0 {
		o.LogLines = DefaultLogLines
	}
	if o.LogTTL <= 0 {
		o.LogTTL = DefaultLogTTL
	}
}

// Consumer takes items of one stage with at-least-once delivery.
type Consumer struct {
	c     *Client
	stage Stage
	opt   ConsumerOptions
	log   *slog.Logger
	// clock is the only local clock the consumer reads, for its own
	// liveness and for timing handlers; nothing it returns is written to
	// Redis (queue_clock_test.go checks both).
	clock func() time.Time
	// turned is when the fetch loop last went round (Unix nanoseconds),
	// whether or not it found an item: the liveness of the worker.
	turned atomic.Int64
	// holding is whether Hold kept the last take from happening.
	holding atomic.Bool
	// tail keeps the items' log lines in Redis; nil when LogLines < 0.
	tail *logTail

	// mu makes taking an item and noting it in flight one step as far as
	// the orphan sweep can tell: the sweep gives back whatever is in the
	// processing lists and not in flight.
	mu       sync.Mutex
	inFlight map[string]*flight // by lease
}

// flight is an item being worked on, under a context of its own so that
// the worker can stop working on an item it no longer holds.
type flight struct {
	taken
	ctx    context.Context
	cancel context.CancelFunc
}

// track notes t in flight; the caller holds w.mu.
func (w *Consumer) track(workCtx context.Context, t taken) *flight {
	ctx, cancel := context.WithCancel(workCtx)
	f := &flight{taken: t, ctx: ctx, cancel: cancel}
	w.inFlight[t.lease] = f
	return f
}

func (w *Consumer) untrack(f *flight) {
	w.mu.Lock()
	delete(w.inFlight, f.lease)
	w.mu.Unlock()
	f.cancel()
}

// flights returns the items in flight.
func (w *Consumer) flights() []*flight {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]*flight, 0, len(w.inFlight))
	for _, f := range w.inFlight {
		out = append(out, f)
	}
	return out
}

// NewConsumer returns a consumer of stage's queues.
func (c *Client) NewConsumer(stage Stage, opt ConsumerOptions) *Consumer {
	opt.setDefaults()
	w := &Consumer{c: c, stage: stage, opt: opt, clock: time.Now, inFlight: map[string]*flight{},
		log: opt.Logger.With("stage", stage.Name, "worker", opt.WorkerID)}
	if opt.LogLines > 0 {
		w.tail = newLogTail(c, opt.LogLines, opt.LogTTL, w.log)
	}
	// A consumer not yet running counts as alive: the daemon may still be
	// connecting to its other services.
	w.turn()
	return w
}

// WorkerID returns the consumer's worker id.
func (w *Consumer) WorkerID() string { return w.opt.WorkerID }

// Stage returns the stage the consumer takes items of.
func (w *Consumer) Stage() Stage { return w.stage }

func (w *Consumer) turn() { w.turned.Store(w.clock().UnixNano()) }

// Alive returns an error when the fetch loop has not gone round for
// DeadAfter, the silence after which the other workers take this one's
// items anyway (or three poll timeouts, if that is longer). The loop goes
// round at least every PollTimeout while it runs, also when every slot is
// busy, so long items do not make it stale; Redis being down does not
// either (that is readiness, not liveness).
func (w *Consumer) Alive() error {
	limit := max(w.opt.DeadAfter, 3*w.opt.PollTimeout)
	since := w.clock().Sub(time.Unix(0, w.turned.Load()))
	if since > limit {
		return fmt.Errorf("%s consumer loop has not turned for %s (limit %s)",
			w.stage.Name, since.Round(time.Millisecond), limit)
	}
	return nil
}

// Run consumes until ctx is cancelled, then stops taking items, lets
// in-flight items finish within the shutdown grace, and returns the items it
// could not finish to their queue. It returns nil on a clean shutdown.
func (w *Consumer) Run(ctx context.Context, h Handler) error {
	if err := w.reconcile(ctx); err != nil {
		return err
	}
	// Work runs under its own context so that in-flight items survive the
	// first signal for the length of the grace period.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	var bg sync.WaitGroup
	bgCtx, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	bg.Add(1)
	go func() { defer bg.Done(); w.maintain(bgCtx) }()

	// The tail's writer outlives the work, whose last lines it writes.
	tailStop, tailDone := make(chan struct{}), make(chan struct{})
	if w.tail != nil {
		go func() { defer close(tailDone); w.tail.run(tailStop) }()
	} else {
		close(tailDone)
	}
	defer func() { close(tailStop); <-tailDone }()

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
	if _, err := w.c.release(final, w.stage, w.opt.WorkerID, "returned: worker "+w.opt.WorkerID+" stopped before finishing"); err != nil {
		return fmt.Errorf("return unfinished items of %s: %w", w.opt.WorkerID, err)
	}
	return nil
}

// reconcile gives back what a previous life of this worker id left in its
// processing lists (it was killed, or lost Redis at its end), then
// registers the worker.
func (w *Consumer) reconcile(ctx context.Context) error {
	n, err := w.c.release(ctx, w.stage, w.opt.WorkerID, "returned: worker "+w.opt.WorkerID+" started again before finishing")
	if err != nil {
		return fmt.Errorf("reconcile worker %s: %w", w.opt.WorkerID, err)
	}
	if n > 0 {
		w.log.Warn("returned items a previous life of this worker left unfinished", "items", n)
	}
	if _, err := w.c.heartbeat(ctx, w.stage, w.opt.WorkerID, w.opt.DeadAfter); err != nil {
		return fmt.Errorf("register worker %s: %w", w.opt.WorkerID, err)
	}
	return nil
}

// fetchLoop takes a free slot, then an item, so that an idle queue never
// holds a slot.
func (w *Consumer) fetchLoop(ctx, workCtx context.Context, slots chan struct{}, work *sync.WaitGroup, h Handler) {
	turn := 0
	for {
		if !w.acquire(ctx, slots) {
			return
		}
		if w.held() {
			<-slots
			w.sleep(ctx, w.opt.PollTimeout)
			continue
		}
		f, err := w.take(ctx, workCtx, turn)
		turn++
		if err != nil || f == nil {
			<-slots
			if err != nil && ctx.Err() == nil {
				w.log.Error("take item", "err", err)
				w.sleep(ctx, time.Second)
			}
			continue
		}
		work.Add(1)
		go func() {
			defer work.Done()
			defer func() { <-slots }()
			w.process(workCtx, f, h)
		}()
	}
}

// held tells whether Hold keeps the consumer from taking items, logging
// each change of that state once.
func (w *Consumer) held() bool {
	if w.opt.Hold == nil {
		return false
	}
	err := w.opt.Hold()
	was := w.holding.Swap(err != nil)
	switch {
	case err != nil && !was:
		w.log.Warn("taking no new items", "reason", err.Error())
	case err == nil && was:
		w.log.Info("taking items again")
	}
	return err != nil
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

// take takes one item, waiting up to PollTimeout on one of the stage's
// queues (in turn) if all are empty; it returns nil if none came.
func (w *Consumer) take(ctx, workCtx context.Context, turn int) (*flight, error) {
	f, err := w.takeNow(ctx, workCtx)
	if f != nil || err != nil || ctx.Err() != nil {
		return f, err
	}
	qs := w.stage.Queues
	if err := w.c.waitForItem(ctx, qs[turn%len(qs)], w.opt.PollTimeout); err != nil {
		if ctx.Err() != nil {
			return nil, nil
		}
		return nil, err
	}
	return w.takeNow(ctx, workCtx)
}

// takeNow runs the take script once and notes the item in flight.
func (w *Consumer) takeNow(ctx, workCtx context.Context) (*flight, error) {
	w.mu.Lock()
	r, err := w.c.take(ctx, w.stage, w.opt.WorkerID, w.opt.MaxAttempts)
	var f *flight
	if err == nil && r.item != nil {
		f = w.track(workCtx, *r.item)
	}
	w.mu.Unlock()
	for _, it := range r.gaveUp {
		w.log.Warn("item failed: gave up after too many attempts", "item", it, "max_attempts", w.opt.MaxAttempts)
		w.tailNote(it, slog.LevelWarn, fmt.Sprintf("item failed: gave up after %d attempts", w.opt.MaxAttempts))
		if w.opt.Observer != nil {
			w.opt.Observer.ItemDone(w.stage.Name, OutcomeFailure, 0)
		}
	}
	for _, it := range r.dropped {
		w.log.Info("dropped a copy of an item already in flight", "item", it)
	}
	if r.reregistered {
		w.takenForDead(ctx)
	}
	return f, err
}

func (w *Consumer) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
