package queue

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Stage names the Redis keys of one pipeline stage, as PVS spells them.
type Stage struct {
	Name     string   // short name used in history keys: preprocess, register, seed
	Queues   []string // input lists, consumed in the order given
	Progress string   // set of items being worked on
	Success  string   // set of items done
	Failure  string   // set of items failed
}

// The PVS stages. preprocess-md_queue shares the preprocess sets, as in PVS.
var (
	Preprocess = Stage{
		Name:     "preprocess",
		Queues:   []string{"preprocess_queue", "preprocess-md_queue"},
		Progress: "preprocessing_set",
		Success:  "preprocess-success_set",
		Failure:  "preprocess-failure_set",
	}
	Register = Stage{
		Name:     "register",
		Queues:   []string{"register_queue"},
		Progress: "registering_set",
		Success:  "register-success_set",
		Failure:  "register-failure_set",
	}
	Seed = Stage{
		Name:     "seed",
		Queues:   []string{"seed_queue"},
		Progress: "seeding_set",
		Success:  "seed-success_set",
		Failure:  "seed-failure_set",
	}
	// Deregister removes products (as later View Server versions do).
	Deregister = Stage{
		Name:     "deregister",
		Queues:   []string{"deregister_queue"},
		Progress: "deregistering_set",
		Success:  "deregister-success_set",
		Failure:  "deregister-failure_set",
	}
	// Stages lists every stage, in pipeline order.
	Stages = []Stage{Preprocess, Register, Seed, Deregister}
)

// StageOf returns the stage that consumes the named queue.
func StageOf(queueName string) (Stage, bool) {
	for _, s := range Stages {
		for _, q := range s.Queues {
			if q == queueName {
				return s, true
			}
		}
	}
	return Stage{}, false
}

// Item statuses kept in an item's history.
const (
	StatusQueued   = "queued"
	StatusRunning  = "running"
	StatusRetrying = "retrying"
	StatusSuccess  = "success"
	StatusFailure  = "failure"
)

// Client speaks the PVS key contract on one Redis database, optionally under
// a key prefix (so that several deployments or tests share one server).
// It reads no clock: every time it records is Redis's.
type Client struct {
	rdb    redis.UniversalClient
	prefix string
}

// New returns a Client using rdb and prefixing every key with prefix.
func New(rdb redis.UniversalClient, prefix string) *Client {
	return &Client{rdb: rdb, prefix: prefix}
}

// Redis returns the underlying connection.
func (c *Client) Redis() redis.UniversalClient { return c.rdb }

// Key returns the full Redis key for a PVS key name.
func (c *Client) Key(name string) string { return c.prefix + name }

func (c *Client) historyKey(stage, item string) string {
	return c.prefix + "pvs:history:" + stage + ":" + item
}

func (c *Client) processingKey(worker, queue string) string {
	return c.prefix + "pvs:processing:" + worker + ":" + queue
}

func (c *Client) workersKey(stage string) string { return c.prefix + "pvs:workers:" + stage }

func (c *Client) delayedKey(queue string) string { return c.prefix + "pvs:delayed:" + queue }

// Enqueue pushes item onto the named queue (LPUSH, as PVS producers do) and
// starts a fresh history for it in the consuming stage, unless the item is
// already pending there (queued, being worked on, or waiting for a retry):
// the same work asked for twice runs once. See Push.
func (c *Client) Enqueue(ctx context.Context, queueName, item string) error {
	_, err := c.Push(ctx, queueName, item)
	return err
}

// Push is Enqueue that reports whether the item was pushed (false: it was
// pending already, and nothing changed).
//
// Called with the context a Consumer gives its handler, Push defers the
// item instead: it is pushed in the same atomic step that records the
// handler's success, and not at all if the handler fails, is retried or
// loses its item to another worker. So a crash between finishing one stage
// and feeding the next cannot make the first stage's work be done again,
// nor feed the next stage twice.
func (c *Client) Push(ctx context.Context, queueName, item string) (bool, error) {
	stage, ok := StageOf(queueName)
	if !ok {
		return false, fmt.Errorf("enqueue %q: unknown queue %q", item, queueName)
	}
	if err := checkItem(item); err != nil {
		return false, fmt.Errorf("enqueue on %s: %w", queueName, err)
	}
	if n := nextOf(ctx, c); n != nil {
		n.add(push{stage: stage.Name, queue: queueName, item: item})
		return true, nil
	}
	n, err := c.run(ctx, enqueueScript, stage.Name, queueName, item).Int()
	if err != nil {
		return false, fmt.Errorf("enqueue %q on %s: %w", item, queueName, err)
	}
	return n == 1, nil
}

// History is what is known of one item in one stage.
type History struct {
	Item       string
	Stage      string
	Queue      string
	Status     string
	Attempts   int
	EnqueuedAt string
	StartedAt  string
	FinishedAt string
	Worker     string // who took it last
	Error      string
	Result     string
	RetryAt    string
	// Lease is set while a worker holds the item: only the worker holding
	// this lease may record the item's outcome.
	Lease string
}

// History returns the item's history in every stage that has seen it.
func (c *Client) History(ctx context.Context, item string) ([]History, error) {
	var out []History
	for _, s := range Stages {
		m, err := c.rdb.HGetAll(ctx, c.historyKey(s.Name, item)).Result()
		if err != nil {
			return nil, fmt.Errorf("read history of %q: %w", item, err)
		}
		if len(m) == 0 {
			continue
		}
		attempts, _ := strconv.Atoi(m["attempts"])
		out = append(out, History{
			Item: item, Stage: s.Name, Queue: m["queue"], Status: m["status"], Attempts: attempts,
			EnqueuedAt: m["enqueued_at"], StartedAt: m["started_at"], FinishedAt: m["finished_at"],
			Worker: m["worker"], Error: m["error"], Result: m["result"], RetryAt: m["retry_at"], Lease: m["lease"],
		})
	}
	return out, nil
}

// KeyCount is the length of one PVS key.
type KeyCount struct {
	Key   string
	Kind  string // list or set
	Count int64
}

// Counts returns the length of every PVS queue and set, plus the items held
// in workers' processing lists and waiting for a retry.
func (c *Client) Counts(ctx context.Context) ([]KeyCount, error) {
	var out []KeyCount
	for _, s := range Stages {
		for _, q := range s.Queues {
			n, err := c.rdb.LLen(ctx, c.Key(q)).Result()
			if err != nil {
				return nil, fmt.Errorf("length of %s: %w", q, err)
			}
			out = append(out, KeyCount{Key: q, Kind: "list", Count: n})
			d, err := c.rdb.ZCard(ctx, c.delayedKey(q)).Result()
			if err != nil {
				return nil, fmt.Errorf("length of delayed %s: %w", q, err)
			}
			out = append(out, KeyCount{Key: q + " (retry later)", Kind: "zset", Count: d})
		}
		for _, set := range []string{s.Progress, s.Success, s.Failure} {
			n, err := c.rdb.SCard(ctx, c.Key(set)).Result()
			if err != nil {
				return nil, fmt.Errorf("size of %s: %w", set, err)
			}
			out = append(out, KeyCount{Key: set, Kind: "set", Count: n})
		}
	}
	return out, nil
}

// Depth is the backlog of one stage.
type Depth struct {
	Stage      string
	Queued     map[string]int64 // items waiting, per queue
	Delayed    map[string]int64 // items waiting for a retry, per queue
	InProgress int64            // the progress set
	Failed     int64            // the failure set
}

// Depths reads the backlog of every stage in one round trip, so that a
// metrics scrape costs Redis one pipeline.
func (c *Client) Depths(ctx context.Context) ([]Depth, error) {
	type stageCmds struct {
		queued, delayed  []*redis.IntCmd
		progress, failed *redis.IntCmd
	}
	cmds := make([]stageCmds, len(Stages))
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, s := range Stages {
			for _, q := range s.Queues {
				cmds[i].queued = append(cmds[i].queued, p.LLen(ctx, c.Key(q)))
				cmds[i].delayed = append(cmds[i].delayed, p.ZCard(ctx, c.delayedKey(q)))
			}
			cmds[i].progress = p.SCard(ctx, c.Key(s.Progress))
			cmds[i].failed = p.SCard(ctx, c.Key(s.Failure))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read queue depths: %w", err)
	}
	out := make([]Depth, len(Stages))
	for i, s := range Stages {
		d := Depth{Stage: s.Name, Queued: map[string]int64{}, Delayed: map[string]int64{},
			InProgress: cmds[i].progress.Val(), Failed: cmds[i].failed.Val()}
		for j, q := range s.Queues {
			d.Queued[q], d.Delayed[q] = cmds[i].queued[j].Val(), cmds[i].delayed[j].Val()
		}
		out[i] = d
	}
	return out, nil
}

// Members returns the members of a PVS set, sorted.
func (c *Client) Members(ctx context.Context, set string) ([]string, error) {
	m, err := c.rdb.SMembers(ctx, c.Key(set)).Result()
	if err != nil {
		return nil, fmt.Errorf("members of %s: %w", set, err)
	}
	sort.Strings(m)
	return m, nil
}

// IsMember reports whether item is in the PVS set.
func (c *Client) IsMember(ctx context.Context, set, item string) (bool, error) {
	ok, err := c.rdb.SIsMember(ctx, c.Key(set), item).Result()
	if err != nil {
		return false, fmt.Errorf("membership of %q in %s: %w", item, set, err)
	}
	return ok, nil
}

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as a permanent failure: the item goes straight to the
// failure set instead of being retried.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// snoozeError asks for the item to be handed out again after a delay.
type snoozeError struct{ after time.Duration }

func (e snoozeError) Error() string { return fmt.Sprintf("snoozed for %s", e.after) }

// Snooze is a handler's way of saying "not now": the item waits d, then is
// worked on again, and the attempt does not count towards MaxAttempts (as
// river's JobSnooze). A d below a millisecond means a millisecond.
func Snooze(d time.Duration) error { return snoozeError{after: max(d, time.Millisecond)} }

func snoozedFor(err error) (time.Duration, bool) {
	var s snoozeError
	if errors.As(err, &s) {
		return s.after, true
	}
	return 0, false
}

func isNil(err error) bool { return errors.Is(err, redis.Nil) }
