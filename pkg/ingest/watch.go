package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pvs/pvs/pkg/store"
)

// Watcher enqueues the packages that appear under a prefix of the source
// store. Its cursor, the Redis hash pvs:ingest:watch:<name>, holds the
// version of every package it handed over: a restart neither misses a
// package (the listing is whole every pass) nor repeats one (a version in
// the cursor, or handed over just before a crash and so in the ledger, is
// not pushed again). A package that is not complete yet (its marker
// missing, its size still changing) is looked at again next pass.
type Watcher struct {
	Name   string
	Source store.Store
	Layout Layout
	// Settle is how long a package must keep one version before it is
	// taken: a package written in place grows until its writer is done.
	// A package whose time is older than Settle is taken at first sight.
	Settle   time.Duration
	Interval time.Duration
	Ledger   *Ledger
	// Owner names this replica in the watcher's lease.
	Owner       string
	Concurrency int
	Log         *slog.Logger

	now    func() time.Time
	stable map[string]sighting
}

// sighting is the first time a package was seen with one version.
type sighting struct {
	fp    string
	since time.Time
}

// PassResult tallies one pass.
type PassResult struct {
	Packages int // packages under the prefix
	Pushed   int // handed to the preprocessor
	Skipped  int // new to the cursor, but queued, in progress or registered already
	Waiting  int // not complete yet
}

func (w *Watcher) cursorKey() string { return w.Ledger.Q.Key("pvs:ingest:watch:" + w.Name) }

// Run passes over the prefix every Interval until ctx ends. A failed pass
// is logged and the next one tries again.
func (w *Watcher) Run(ctx context.Context) error {
	l := &lease{q: w.Ledger.Q, key: w.Ledger.Q.Key("pvs:ingest:lock:watch:" + w.Name), owner: w.Owner, ttl: 3*w.Interval + 30*time.Second}
	defer l.release(context.WithoutCancel(ctx))
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		held, err := l.hold(ctx)
		if err == nil && held {
			var r PassResult
			r, err = w.Pass(ctx)
			if err == nil && (r.Pushed > 0 || r.Skipped > 0) {
				w.Log.Info("watch pass", "packages", r.Packages, "pushed", r.Pushed, "skipped", r.Skipped, "waiting", r.Waiting)
			}
		}
		if err != nil && ctx.Err() == nil {
			w.Log.Warn("watch pass failed; trying again next pass", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Pass lists the prefix once and hands over every complete package the
// cursor does not hold.
func (w *Watcher) Pass(ctx context.Context) (PassResult, error) {
	if w.now == nil {
		w.now = time.Now
	}
	if w.stable == nil {
		w.stable = map[string]sighting{}
	}
	objs, err := w.Source.List(ctx, w.Layout.Prefix)
	if err != nil {
		return PassResult{}, fmt.Errorf("watch %s: %w", w.Name, err)
	}
	pkgs := w.Layout.Packages(objs)
	cursor, err := w.Ledger.Q.Redis().HGetAll(ctx, w.cursorKey()).Result()
	if err != nil {
		return PassResult{}, fmt.Errorf("watch %s: read cursor: %w", w.Name, err)
	}
	res := PassResult{Packages: len(pkgs)}
	now := w.now()
	present := make(map[string]bool, len(pkgs))
	var reqs []Request
	for _, p := range pkgs {
		present[p.Path] = true
		fp := p.Fingerprint()
		if cursor[p.Path] == fp {
			delete(w.stable, p.Path)
			continue
		}
		if !w.complete(p, fp, now) {
			res.Waiting++
			continue
		}
		r := PathRequest(p.Path, "watch:"+w.Name)
		r.Fingerprint = fp
		reqs = append(reqs, r)
	}
	for k := range w.stable {
		if !present[k] {
			delete(w.stable, k)
		}
	}
	var stale []string
	for k := range cursor {
		if !present[k] {
			stale = append(stale, k)
		}
	}
	// Packages gone from the store leave the cursor, so that it stays the
	// size of the prefix; one uploaded again under the same key is new.
	if len(stale) > 0 {
		if err := w.Ledger.Q.Redis().HDel(ctx, w.cursorKey(), stale...).Err(); err != nil {
			return res, fmt.Errorf("watch %s: prune cursor: %w", w.Name, err)
		}
	}
	if len(reqs) == 0 {
		return res, nil
	}
	// The cursor moves only past packages the ledger answered for.
	answered := make(chan Request, len(reqs))
	feed := &Feed{Ledger: w.Ledger, Concurrency: w.Concurrency, Answer: func(r Request, o Outcome, err error) {
		if err == nil && !o.Contended {
			answered <- r
			w.Log.Debug("package handed over", "path", r.Path, "pushed", o.Pushed, "reason", o.Reason)
		}
	}}
	c, ferr := feed.Run(ctx, reqs)
	close(answered)
	fields := make([]any, 0, 2*len(reqs))
	for r := range answered {
		fields = append(fields, r.Path, r.Fingerprint)
		delete(w.stable, r.Path)
	}
	var cursorErr error
	if len(fields) > 0 {
		cursorErr = w.Ledger.Q.Redis().HSet(context.WithoutCancel(ctx), w.cursorKey(), fields...).Err()
	}
	res.Pushed, res.Skipped = c.Pushed, c.Skipped
	if ferr != nil {
		return res, fmt.Errorf("watch %s: %w", w.Name, ferr)
	}
	if cursorErr != nil {
		return res, fmt.Errorf("watch %s: advance cursor: %w", w.Name, cursorErr)
	}
	return res, nil
}

// complete reports whether a package may be taken: its marker is there,
// and its version has held for Settle (or it is older than that).
func (w *Watcher) complete(p Package, fp string, now time.Time) bool {
	if !p.Marked {
		return false
	}
	if w.Settle <= 0 {
		return true
	}
	s, ok := w.stable[p.Path]
	if !ok || s.fp != fp {
		w.stable[p.Path] = sighting{fp: fp, since: now}
		return !p.ModTime.IsZero() && now.Sub(p.ModTime) >= w.Settle
	}
	return now.Sub(s.since) >= w.Settle
}
