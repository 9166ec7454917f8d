package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// process works on one item and records its outcome.
func (w *Consumer) process(workCtx context.Context, f *flight, h Handler) {
	defer w.untrack(f)
	log := w.itemLogger(f)
	log.Info("item started")
	t0 := w.clock()
	hctx, next := withNext(f.ctx, w.c)
	hctx = context.WithValue(hctx, itemLogKey{}, log)
	it, err := decodeItem(f.taken)
	var result string
	if err == nil {
		result, err = safeCall(hctx, h, it)
	}
	elapsed := w.clock().Sub(t0)
	if workCtx.Err() != nil && err != nil && !IsPermanent(err) {
		// Cancelled by shutdown: leave it in the processing list; Run
		// returns it to the queue.
		log.Warn("item interrupted by shutdown", "err", err)
		return
	}
	fa, outcome := w.outcome(log, it, result, err, elapsed, next)
	res, err := w.record(workCtx, log, f.taken, fa)
	switch {
	case err != nil:
		// Not observed: the item stays in the processing list, and the
		// orphan sweep gives it back once it is no longer in flight, so
		// counting it now would count it twice.
		log.Error("record outcome", "err", err)
	case res == leaseLost:
		// Taken for dead, this worker lost the item to another, whose
		// outcome is the one that counts.
		log.Warn("outcome dropped: the item was given to another worker meanwhile", "outcome", outcome)
	default:
		if w.opt.Observer != nil {
			w.opt.Observer.ItemDone(w.stage.Name, outcome, elapsed)
		}
	}
}

// outcome turns what the handler returned into what the finish script
// records: success (with the next-stage items), failure (permanent, or the
// last attempt), a retry later, or a snooze.
func (w *Consumer) outcome(log *slog.Logger, it Item, result string, herr error, elapsed time.Duration, next *nextItems) (finishArgs, Outcome) {
	if d, ok := snoozedFor(herr); ok {
		log.Info("item snoozed", "for", d.String())
		return finishArgs{outcome: "snooze", reason: herr.Error(), delay: d}, OutcomeRetry
	}
	switch {
	case herr == nil:
		log.Info("item succeeded", "seconds", elapsed.Seconds(), "result", result)
		return finishArgs{outcome: "success", result: result, next: next.list()}, OutcomeSuccess
	case IsPermanent(herr) || it.Attempt >= w.opt.MaxAttempts:
		log.Warn("item failed", "seconds", elapsed.Seconds(), "err", herr)
		return finishArgs{outcome: "failure", reason: herr.Error()}, OutcomeFailure
	default:
		delay := w.opt.RetryBase << (it.Attempt - 1)
		log.Warn("item will be retried", "in", delay.String(), "err", herr)
		return finishArgs{outcome: "retry", reason: herr.Error(), delay: delay}, OutcomeRetry
	}
}

// record runs the finish script until Redis answers. While Redis is away
// nobody can take the item from this worker (a reclaimer must hear from
// Redis for DeadAfter first), so waiting for it costs no second run; only
// the end of the shutdown grace stops the waiting.
func (w *Consumer) record(workCtx context.Context, log *slog.Logger, t taken, fa finishArgs) (int64, error) {
	wait := 100 * time.Millisecond
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(workCtx), 10*time.Second)
		res, err := w.c.finish(ctx, w.stage, w.opt.WorkerID, t, fa)
		cancel()
		if err == nil {
			return res, nil
		}
		if workCtx.Err() != nil || !transient(err) {
			return 0, err
		}
		if i == 0 {
			log.Warn("record outcome: Redis did not answer; trying again until it does", "err", err)
		}
		w.sleep(workCtx, wait)
		wait = min(2*wait, 5*time.Second)
	}
}

// transient tells errors worth retrying (the connection, a Redis loading
// its data after a restart) from those that are not (a script error).
func transient(err error) bool {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return true
	}
	for _, p := range []string{"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "READONLY"} {
		if strings.HasPrefix(rerr.Error(), p) {
			return true
		}
	}
	return false
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
