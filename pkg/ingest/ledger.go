package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pvs/pvs/pkg/queue"
)

// The preprocessor's queues.
const (
	PackageQueue  = "preprocess_queue"
	MetadataQueue = "preprocess-md_queue"
)

// State is where a package stands in the pipeline.
type State string

// The states of a package. Queued, InProgress and Registered hold a new
// push back (unless forced); Unseen and Failed let it through.
const (
	Unseen     State = "new"
	Queued     State = "queued"
	InProgress State = "in progress"
	Registered State = "registered"
	Failed     State = "failed"
)

// Blocks reports whether a package in state s is left alone by a push
// that is not forced.
func (s State) Blocks() bool { return s == Queued || s == InProgress || s == Registered }

// Status is what the ledger knows of one package.
type Status struct {
	Path  string `json:"path"`
	State State  `json:"state"`
	// Queue and Item are what was pushed for the package, the item being
	// what `pvs status ITEM` takes.
	Queue string `json:"queue,omitempty"`
	Item  string `json:"item,omitempty"`
	// Product is the register_queue item the package became, once
	// preprocessed.
	Product string `json:"product,omitempty"`
	// Detail says why (the error of a failure, the stage in progress).
	Detail string `json:"detail,omitempty"`
	// Origin says who pushed it (http, watch:NAME, harvest:NAME, enqueue).
	Origin string `json:"origin,omitempty"`
	// fingerprint is the version of the package that was pushed.
	fingerprint string
	// seen: the package has a history under its recorded item.
	seen bool
	// entry is the ledger entry as read, "" for none: a submission
	// replaces it only if it is still the same (see claimScript).
	entry string
}

// Request asks for one package to be queued.
type Request struct {
	// Path is the package's key in the source store: the thing that
	// de-duplication is about, whichever queue and item carry it.
	Path  string
	Queue string // PackageQueue or MetadataQueue
	Item  string // the queue item: Path itself on PackageQueue, a JSON document on MetadataQueue
	// Origin says who asks, for `GET /ingest` and the logs.
	Origin string
	// Fingerprint is the version of the package (size, time) when the
	// asker knows it: the same version handed over before is not pushed
	// again even after a failure, a new one is.
	Fingerprint string
	// Force pushes even a package queued, in progress or registered (one
	// that is pending in its queue still runs once).
	Force bool
}

// PathRequest is the request for a package on preprocess_queue.
func PathRequest(path, origin string) Request {
	return Request{Path: path, Queue: PackageQueue, Item: path, Origin: origin}
}

// Outcome is the answer to a Request.
type Outcome struct {
	Status        // the package as it stood before the request
	Pushed bool   // the item was pushed
	Reason string // why it was not
	// Contended: another submission of the package won the ledger at the
	// same moment; a watcher asks again next pass rather than trusting
	// the winner to have pushed.
	Contended bool
}

// Ledger remembers which item carries which package, so that a package
// arriving by any route (endpoint, watcher, harvester, bulk enqueue) is
// queued once. The item histories of pkg/queue say where each item
// stands; the ledger only adds the package → item index, kept in the Redis
// hash pvs:ingest:packages.
type Ledger struct {
	Q *queue.Client
	// Observe, when set, is told the outcome of every submission with the
	// route it came by (Request.Origin): the ingestor's metrics.
	Observe func(origin string, o Outcome)
	now     func() time.Time
}

// NewLedger returns a ledger on q's Redis and prefix.
func NewLedger(q *queue.Client) *Ledger { return &Ledger{Q: q, now: time.Now} }

func (l *Ledger) indexKey() string { return l.Q.Key("pvs:ingest:packages") }

type entry struct {
	Queue       string `json:"queue"`
	Item        string `json:"item"`
	Origin      string `json:"origin,omitempty"`
	Fingerprint string `json:"fp,omitempty"`
	At          string `json:"at"`
}

// Status returns where the package at path stands. A package never seen
// by the ledger is still found when it was pushed as itself on
// preprocess_queue (by `pvs enqueue PATH`, or a PVS producer's history).
func (l *Ledger) Status(ctx context.Context, path string) (Status, error) {
	sts, err := l.Statuses(ctx, []string{path})
	if err != nil {
		return Status{}, err
	}
	return sts[0], nil
}

// historyKey is the key of an item's history in a stage, as docs/queues.md
// gives it: reading many in one pipeline costs one round trip where
// queue.Client.History costs one per stage and item.
func (l *Ledger) historyKey(stage, item string) string {
	return l.Q.Key("pvs:history:" + stage + ":" + item)
}

// Statuses is Status for many packages, in three round trips: the ledger
// entries, the preprocess histories, the register histories.
func (l *Ledger) Statuses(ctx context.Context, paths []string) ([]Status, error) {
	rdb := l.Q.Redis()
	out := make([]Status, len(paths))
	entries := make([]*redis.StringCmd, len(paths))
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, path := range paths {
			entries[i] = p.HGet(ctx, l.indexKey(), path)
		}
		return nil
	}); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("read the ledger: %w", err)
	}
	for i, path := range paths {
		out[i] = Status{Path: path, State: Unseen, Queue: PackageQueue, Item: path}
		var e entry
		raw, err := entries[i].Result()
		if err == nil {
			out[i].entry = raw
		}
		if err == nil && json.Unmarshal([]byte(raw), &e) == nil && e.Item != "" {
			out[i].Queue, out[i].Item, out[i].Origin, out[i].fingerprint = e.Queue, e.Item, e.Origin, e.Fingerprint
		}
	}
	pre, err := l.histories(ctx, queue.Preprocess.Name, out, func(st *Status) string { return st.Item })
	if err != nil {
		return nil, err
	}
	for i := range out {
		st, h := &out[i], pre[i]
		if len(h) == 0 {
			continue
		}
		st.seen = true
		switch h["status"] {
		case queue.StatusQueued:
			st.State = Queued
		case queue.StatusFailure:
			st.State, st.Detail = Failed, "preprocessing failed: "+h["error"]
		case queue.StatusSuccess:
			st.State, st.Product = Registered, h["result"]
			st.Detail = "preprocessed"
		default:
			st.State, st.Detail = InProgress, "preprocessing ("+h["status"]+")"
		}
	}
	reg, err := l.histories(ctx, queue.Register.Name, out, func(st *Status) string {
		if st.State == Registered {
			return st.Product
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		st, h := &out[i], reg[i]
		if st.State != Registered || st.Product == "" {
			continue
		}
		switch h["status"] {
		case "":
			// Its registration is no longer recorded (or was never
			// asked for): the product is the registrar's business now.
			st.Detail = "preprocessed as " + st.Product
		case queue.StatusSuccess:
			st.Detail = "registered as " + st.Product
		case queue.StatusFailure:
			st.State, st.Detail = Failed, "registration of "+st.Product+" failed: "+h["error"]
		default:
			st.State, st.Detail = InProgress, "registering "+st.Product+" ("+h["status"]+")"
		}
	}
	return out, nil
}

// histories reads, in one pipeline, the history in stage of the item that
// item picks from each status ("" for none).
func (l *Ledger) histories(ctx context.Context, stage string, sts []Status, item func(*Status) string) ([]map[string]string, error) {
	cmds := make([]*redis.MapStringStringCmd, len(sts))
	if _, err := l.Q.Redis().Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range sts {
			if it := item(&sts[i]); it != "" {
				cmds[i] = p.HGetAll(ctx, l.historyKey(stage, it))
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read %s histories: %w", stage, err)
	}
	out := make([]map[string]string, len(sts))
	for i, c := range cmds {
		if c != nil {
			out[i] = c.Val()
		}
	}
	return out, nil
}

// claimScript writes ledger entries, each only if the entry is still the
// one the submission read ("" for none): of two routes that find a
// package new at the same moment and would push different items for it (a
// document and a bare path), one wins, the other leaves it alone.
// KEYS: the ledger; ARGV: (path, entry read, new entry) for each package.
// Returns 1 or 0 for each.
var claimScript = redis.NewScript(`
local won = {}
for i = 1, #ARGV, 3 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i]) or ''
  if cur == ARGV[i + 1] then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
    won[#won + 1] = 1
  else
    won[#won + 1] = 0
  end
end
return won`)

// Submit queues the package of r unless it stands in a state that holds
// it back. The ledger entry is written before the push, so that an asker
// that dies between the two finds, when it asks again, the version it
// handed over: a version whose item has a history is never pushed twice.
func (l *Ledger) Submit(ctx context.Context, r Request) (Outcome, error) {
	outs, err := l.SubmitBatch(ctx, []Request{r})
	if err != nil {
		return Outcome{}, err
	}
	return outs[0], nil
}

// SubmitBatch is Submit for many requests: the look-ups and the ledger
// entries take a round trip each for the whole batch, the pushes one
// each. An error is for the whole batch; some of it may be pushed.
func (l *Ledger) SubmitBatch(ctx context.Context, rs []Request) ([]Outcome, error) {
	paths := make([]string, len(rs))
	for i, r := range rs {
		if r.Queue != PackageQueue && r.Queue != MetadataQueue {
			return nil, fmt.Errorf("submit %s: queue %q is not a preprocessor queue", r.Path, r.Queue)
		}
		paths[i] = r.Path
	}
	sts, err := l.Statuses(ctx, paths)
	if err != nil {
		return nil, err
	}
	outs, err := l.submit(ctx, rs, sts)
	if l.Observe != nil {
		for i := range outs {
			if i < len(rs) {
				l.Observe(rs[i].Origin, outs[i])
			}
		}
	}
	return outs, err
}

// submit claims and pushes the requests whose packages stand in sts.
func (l *Ledger) submit(ctx context.Context, rs []Request, sts []Status) ([]Outcome, error) {
	outs := make([]Outcome, len(rs))
	var claim []int
	at := l.now().UTC().Format(time.RFC3339Nano)
	args := make([]any, 0, 3*len(rs))
	for i, r := range rs {
		st := sts[i]
		outs[i] = Outcome{Status: st}
		if !r.Force {
			if st.State.Blocks() {
				outs[i].Reason = "already " + string(st.State)
				if st.Detail != "" {
					outs[i].Reason += ": " + st.Detail
				}
				continue
			}
			if r.Fingerprint != "" && r.Fingerprint == st.fingerprint && st.seen {
				outs[i].Reason = "this version was handed over before (" + string(st.State) + ")"
				continue
			}
		}
		e, _ := json.Marshal(entry{Queue: r.Queue, Item: r.Item, Origin: r.Origin, Fingerprint: r.Fingerprint, At: at})
		args = append(args, r.Path, st.entry, e)
		claim = append(claim, i)
	}
	if len(claim) == 0 {
		return outs, nil
	}
	won, err := claimScript.Run(ctx, l.Q.Redis(), []string{l.indexKey()}, args...).Int64Slice()
	if err != nil {
		return outs, fmt.Errorf("write the ledger: %w", err)
	}
	var push []int
	for j, i := range claim {
		if j < len(won) && won[j] == 1 {
			push = append(push, i)
			continue
		}
		outs[i].Reason, outs[i].Contended = "another submission of it won at the same moment", true
	}
	for _, i := range push {
		r := rs[i]
		pushed, err := l.Q.Push(ctx, r.Queue, r.Item)
		if err != nil {
			return outs, err
		}
		o := &outs[i]
		o.Pushed = pushed
		if !pushed {
			o.Reason = "already queued or in flight on " + r.Queue
		}
		o.Queue, o.Item, o.Origin = r.Queue, r.Item, r.Origin
	}
	return outs, nil
}
