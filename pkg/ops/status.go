package ops

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/pvs/pvs/pkg/queue"
)

// QueueCount is the backlog of one queue.
type QueueCount struct {
	Name    string `json:"name"`
	Queued  int64  `json:"queued"`
	Delayed int64  `json:"delayed"` // waiting for a retry
}

// StageCounts is one stage's queues and sets with their counts.
type StageCounts struct {
	Stage       string       `json:"stage"`
	Queues      []QueueCount `json:"queues"`
	ProgressSet string       `json:"progress_set"`
	InProgress  int64        `json:"in_progress"`
	SuccessSet  string       `json:"success_set"`
	Success     int64        `json:"success"`
	FailureSet  string       `json:"failure_set"`
	Failure     int64        `json:"failure"`
}

// Counts returns the length of every PVS queue and set (pvs status).
func (o *Ops) Counts(ctx context.Context) ([]queue.KeyCount, error) {
	return o.Queue.Counts(ctx)
}

// Stages returns the counts of Counts grouped by stage, in pipeline order.
func (o *Ops) Stages(ctx context.Context) ([]StageCounts, error) {
	counts, err := o.Queue.Counts(ctx)
	if err != nil {
		return nil, err
	}
	n := map[string]int64{}
	for _, c := range counts {
		n[c.Key] = c.Count
	}
	out := make([]StageCounts, 0, len(queue.Stages))
	for _, s := range queue.Stages {
		sc := StageCounts{Stage: s.Name, ProgressSet: s.Progress, InProgress: n[s.Progress],
			SuccessSet: s.Success, Success: n[s.Success], FailureSet: s.Failure, Failure: n[s.Failure]}
		for _, q := range s.Queues {
			sc.Queues = append(sc.Queues, QueueCount{Name: q, Queued: n[q], Delayed: n[q+" (retry later)"]})
		}
		out = append(out, sc)
	}
	return out, nil
}

// ItemHistories is what is known of one item asked about.
type ItemHistories struct {
	Item      string
	Histories []queue.History // one per stage that has seen it; none: unknown
}

// Report is the answer to `pvs status ITEM...`.
type Report struct {
	Items   []ItemHistories
	Unknown int
	Failed  int // items that failed in some stage
}

// Histories reads the history of items in every stage.
func (o *Ops) Histories(ctx context.Context, items []string) (Report, error) {
	var r Report
	for _, item := range items {
		hs, err := o.Queue.History(ctx, item)
		if err != nil {
			return r, err
		}
		switch {
		case len(hs) == 0:
			r.Unknown++
		case anyFailed(hs):
			r.Failed++
		}
		r.Items = append(r.Items, ItemHistories{Item: item, Histories: hs})
	}
	return r, nil
}

// Err turns the report into pvs status's outcome: nil when every item is
// known and none failed, else an ExitError (failed winning over unknown).
func (r Report) Err() error {
	switch {
	case r.Failed > 0:
		return &ExitError{ExitFailed, fmt.Errorf("%d item(s) failed", r.Failed)}
	case r.Unknown > 0:
		return &ExitError{ExitUnknown, fmt.Errorf("%d unknown item(s)", r.Unknown)}
	}
	return nil
}

func anyFailed(hs []queue.History) bool {
	for _, h := range hs {
		if h.Status == queue.StatusFailure {
			return true
		}
	}
	return false
}

// History is an item's history in one stage as the API shows it.
type History struct {
	Item       string  `json:"item"`
	Stage      string  `json:"stage"`
	Queue      string  `json:"queue"`
	Status     string  `json:"status"`
	Attempts   int     `json:"attempts"`
	EnqueuedAt string  `json:"enqueued_at,omitempty"`
	StartedAt  string  `json:"started_at,omitempty"`
	FinishedAt string  `json:"finished_at,omitempty"`
	RetryAt    string  `json:"retry_at,omitempty"`
	Worker     string  `json:"worker,omitempty"`
	Held       bool    `json:"held"` // a worker holds it now
	Seconds    float64 `json:"duration_seconds,omitempty"`
	Error      string  `json:"error,omitempty"`
	Result     string  `json:"result,omitempty"`
	// Log is the tail of the item's log lines in the stage, oldest first.
	Log []queue.LogLine `json:"log,omitempty"`
}

func historyOf(h queue.History) History {
	out := History{Item: h.Item, Stage: h.Stage, Queue: h.Queue, Status: h.Status, Attempts: h.Attempts,
		EnqueuedAt: h.EnqueuedAt, StartedAt: h.StartedAt, FinishedAt: h.FinishedAt, Worker: h.Worker,
		Held: h.Lease != "", Error: h.Error, Result: h.Result}
	if h.Status == queue.StatusRetrying {
		out.RetryAt = h.RetryAt
	}
	// The duration of the last attempt, when it has ended: both times are
	// Redis's, so no clock skew enters it.
	start, err1 := time.Parse(time.RFC3339Nano, h.StartedAt)
	end, err2 := time.Parse(time.RFC3339Nano, h.FinishedAt)
	if err1 == nil && err2 == nil && !end.Before(start) {
		out.Seconds = end.Sub(start).Seconds()
	}
	return out
}

// Item returns the item's history in every stage with the tail of its log
// lines there; none: the item is unknown.
func (o *Ops) Item(ctx context.Context, item string) ([]History, error) {
	hs, err := o.Queue.History(ctx, item)
	if err != nil {
		return nil, err
	}
	out := make([]History, 0, len(hs))
	for _, h := range hs {
		v := historyOf(h)
		if v.Log, err = o.Queue.LogTail(ctx, h.Stage, item); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Sets an item listing may read.
const (
	SetQueued  = "queued"
	SetRunning = "running"
	SetSuccess = "success"
	SetFailure = "failure"
)

// ItemQuery selects items of one stage.
type ItemQuery struct {
	Stage string
	Set   string // queued, running, success or failure
	Match string // a Glob; empty: all
	Limit int    // at most this many, in item order; 0: 100
}

// ItemPage is a page of items with their history in the stage.
type ItemPage struct {
	Stage string    `json:"stage"`
	Set   string    `json:"set"`
	Total int       `json:"total"` // items matching, of which Items holds the first Limit
	Items []History `json:"items"`
}

// Items lists the items of a stage's queue or set that match, with their
// history there: the failures with their reasons, say.
func (o *Ops) Items(ctx context.Context, q ItemQuery) (ItemPage, error) {
	st, err := StageNamed(q.Stage)
	if err != nil {
		return ItemPage{}, invalid("stage", "%v", err)
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	if q.Limit < 0 || q.Limit > 10000 {
		return ItemPage{}, invalid("limit", "%d is not within 1-10000", q.Limit)
	}
	re, err := Glob(q.Match)
	if err != nil {
		return ItemPage{}, invalid("match", "%v", err)
	}
	var all []string
	switch q.Set {
	case SetQueued:
		for _, name := range st.Queues {
			items, err := o.Queue.Redis().LRange(ctx, o.Queue.Key(name), 0, -1).Result()
			if err != nil {
				return ItemPage{}, fmt.Errorf("read %s: %w", name, err)
			}
			all = append(all, items...)
		}
		sort.Strings(all)
	case SetRunning, SetSuccess, SetFailure:
		set := map[string]string{SetRunning: st.Progress, SetSuccess: st.Success, SetFailure: st.Failure}[q.Set]
		if all, err = o.Queue.Members(ctx, set); err != nil {
			return ItemPage{}, err
		}
	default:
		return ItemPage{}, invalid("set", "unknown set %q (want queued, running, success or failure)", q.Set)
	}
	page := ItemPage{Stage: st.Name, Set: q.Set, Items: []History{}}
	for _, it := range all {
		if !re.MatchString(it) {
			continue
		}
		page.Total++
		if len(page.Items) >= q.Limit {
			continue
		}
		hs, err := o.Queue.History(ctx, it)
		if err != nil {
			return ItemPage{}, err
		}
		h := History{Item: it, Stage: st.Name, Status: q.Set}
		for _, x := range hs {
			if x.Stage == st.Name {
				h = historyOf(x)
			}
		}
		page.Items = append(page.Items, h)
	}
	return page, nil
}

// Held is an item a worker holds.
type Held struct {
	Item      string `json:"item"`
	Queue     string `json:"queue"`
	Attempts  int    `json:"attempts"`
	StartedAt string `json:"started_at"`
	// Leased is false for an item the worker will give back (a lost take
	// reply, an outcome it could not record).
	Leased bool `json:"leased"`
}

// WorkerState is one worker of a stage: its heartbeat, whether it holds
// off new items, and what it holds.
type WorkerState struct {
	Stage  string `json:"stage"`
	Worker string `json:"worker"`
	// Registered is false for a worker that left items in its processing
	// lists and is gone (stopped, or taken for dead): they are being given
	// back.
	Registered    bool    `json:"registered"`
	LastHeartbeat string  `json:"last_heartbeat,omitempty"`
	SilentSeconds float64 `json:"silent_seconds"`
	// Degraded, when set, is why the worker takes no new items now, for
	// DegradedSeconds more.
	Degraded        string  `json:"degraded,omitempty"`
	DegradedSeconds float64 `json:"degraded_seconds,omitempty"`
	Holds           []Held  `json:"holds"`
}

// Holders lists the items in workers' processing lists (pvs status --held).
func (o *Ops) Holders(ctx context.Context) ([]queue.Holding, error) { return o.Queue.Holders(ctx) }

// Degraded lists the workers holding off new items now.
func (o *Ops) Degraded(ctx context.Context) ([]queue.Degraded, error) {
	return o.Queue.DegradedWorkers(ctx)
}

// Workers joins the registered workers, the items held and the degraded
// workers into one list, by stage in pipeline order, then worker.
func (o *Ops) Workers(ctx context.Context) ([]WorkerState, error) {
	ws, err := o.Queue.Workers(ctx)
	if err != nil {
		return nil, err
	}
	hs, err := o.Queue.Holders(ctx)
	if err != nil {
		return nil, err
	}
	ds, err := o.Queue.DegradedWorkers(ctx)
	if err != nil {
		return nil, err
	}
	type key struct{ stage, worker string }
	byKey := map[key]*WorkerState{}
	var order []key
	get := func(k key) *WorkerState {
		if s, ok := byKey[k]; ok {
			return s
		}
		s := &WorkerState{Stage: k.stage, Worker: k.worker, Holds: []Held{}, SilentSeconds: -1}
		byKey[k] = s
		order = append(order, k)
		return s
	}
	for _, w := range ws {
		s := get(key{w.Stage, w.Worker})
		s.Registered, s.LastHeartbeat, s.SilentSeconds = true, w.LastBeat.Format(time.RFC3339Nano), w.Silent.Seconds()
	}
	for _, h := range hs {
		s := get(key{h.Stage, h.Worker})
		s.Holds = append(s.Holds, Held{Item: h.Item, Queue: h.Queue, Attempts: h.Attempts, StartedAt: h.StartedAt, Leased: h.Leased})
	}
	for _, d := range ds {
		found := false
		for _, k := range order {
			if k.worker == d.Worker {
				byKey[k].Degraded, byKey[k].DegradedSeconds = d.Reason, d.Left.Seconds()
				found = true
			}
		}
		if !found {
			s := get(key{"", d.Worker})
			s.Degraded, s.DegradedSeconds = d.Reason, d.Left.Seconds()
		}
	}
	rank := map[string]int{"": len(queue.Stages)} // degraded, with no stage: last
	for i, s := range queue.Stages {
		rank[s.Name] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].stage != order[j].stage {
			return rank[order[i].stage] < rank[order[j].stage]
		}
		return order[i].worker < order[j].worker
	})
	out := make([]WorkerState, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	return out, nil
}
