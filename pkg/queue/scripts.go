package queue

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Every change of an item's state is one Lua script, so that it happens
// whole or not at all (a worker or reclaimer dying half-way strands
// nothing), and every time in it is Redis's (TIME), so that no worker's
// clock decides who is dead or when a retry is due. The scripts are in
// lua/; each is run after lua/prelude.lua, which names the keys.
//
//go:embed lua/*.lua
var luaFiles embed.FS

func script(name string) *redis.Script {
	prelude, err := luaFiles.ReadFile("lua/prelude.lua")
	if err != nil {
		panic(err)
	}
	body, err := luaFiles.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic(err)
	}
	return redis.NewScript(string(prelude) + "\n" + string(body))
}

var (
	enqueueScript   = script("enqueue")
	takeScript      = script("take")
	heartbeatScript = script("heartbeat")
	finishScript    = script("finish")
	releaseScript   = script("release")
	orphansScript   = script("orphans")
	reclaimScript   = script("reclaim")
	promoteScript   = script("promote")
	logScript       = script("log")
)

// run evaluates a script with the client's prefix as first argument. The
// scripts compute their keys (see lua/prelude.lua), so KEYS stays empty.
func (c *Client) run(ctx context.Context, s *redis.Script, args ...any) *redis.Cmd {
	return s.Run(ctx, c.rdb, nil, append([]any{c.prefix}, args...)...)
}

// taken is an item the take script granted to this worker.
type taken struct {
	Item
	lease string
}

// takeResult is the decoded reply of the take script.
type takeResult struct {
	item    *taken   // nil: every queue was empty
	gaveUp  []string // items past the attempt limit, now failed
	dropped []string // copies of items already in flight, discarded
	// reregistered: the worker was not registered (it was taken for dead)
	// and the take registered it again.
	reregistered bool
}

func (c *Client) take(ctx context.Context, stage Stage, worker string, maxAttempts int) (takeResult, error) {
	args := []any{stage.Name, worker, maxAttempts, stage.Progress, stage.Success, stage.Failure}
	for _, q := range stage.Queues {
		args = append(args, q)
	}
	v, err := c.run(ctx, takeScript, args...).Result()
	if err != nil {
		return takeResult{}, err
	}
	return decodeTakeReply(v)
}

// decodeTakeReply reads {{queue, item, attempt, lease} or {}, {given up},
// {dropped}, reregistered}.
func decodeTakeReply(v any) (takeResult, error) {
	parts, ok := v.([]any)
	if !ok || len(parts) != 4 {
		return takeResult{}, fmt.Errorf("take script replied %v", v)
	}
	var r takeResult
	var err error
	r.reregistered = parts[3] == int64(1)
	if r.gaveUp, err = stringList(parts[1]); err != nil {
		return r, err
	}
	if r.dropped, err = stringList(parts[2]); err != nil {
		return r, err
	}
	got, ok := parts[0].([]any)
	if !ok {
		return r, fmt.Errorf("take script replied %v", v)
	}
	if len(got) == 0 {
		return r, nil
	}
	if len(got) != 4 {
		return r, fmt.Errorf("take script replied %v", v)
	}
	q, _ := got[0].(string)
	item, _ := got[1].(string)
	attempt, _ := got[2].(int64)
	lease, _ := got[3].(string)
	if q == "" || lease == "" || attempt < 1 {
		return r, fmt.Errorf("take script replied %v", v)
	}
	r.item = &taken{Item: Item{Queue: q, Value: item, Attempt: int(attempt)}, lease: lease}
	return r, nil
}

func stringList(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("script replied %v, want a list", v)
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("script replied %v, want strings", v)
		}
		out = append(out, s)
	}
	return out, nil
}

// heartbeat records the worker as alive at Redis's time. It reports
// whether the worker was registered before: a worker that was not, after
// its first beat, was thought dead and its items given to others.
func (c *Client) heartbeat(ctx context.Context, stage Stage, worker string, deadAfter time.Duration) (known bool, err error) {
	v, err := c.run(ctx, heartbeatScript, stage.Name, worker, deadAfter.Milliseconds()).Slice()
	if err != nil {
		return false, err
	}
	if len(v) != 2 {
		return false, fmt.Errorf("heartbeat script replied %v", v)
	}
	return v[1] == int64(1), nil
}

// push is a next-stage item, pushed when the item that produced it succeeds.
type push struct{ stage, queue, item string }

// finishArgs is the outcome of one attempt, as the finish script takes it.
type finishArgs struct {
	outcome string // success, failure, retry or snooze
	reason  string
	result  string
	delay   time.Duration
	next    []push
}

// Results of the finish script.
const (
	leaseLost       = 0
	recorded        = 1
	alreadyRecorded = 2
)

func (c *Client) finish(ctx context.Context, stage Stage, worker string, t taken, f finishArgs) (int64, error) {
	args := []any{stage.Name, t.Queue, t.Value, worker, t.lease, f.outcome, f.reason, f.result,
		stage.Progress, stage.Success, stage.Failure, f.delay.Milliseconds()}
	for _, p := range f.next {
		args = append(args, p.stage, p.queue, p.item)
	}
	return c.run(ctx, finishScript, args...).Int64()
}

// release gives back every item worker holds and forgets the worker.
func (c *Client) release(ctx context.Context, stage Stage, worker, reason string) (int, error) {
	args := []any{stage.Name, worker, stage.Progress, reason}
	for _, q := range stage.Queues {
		args = append(args, q)
	}
	n, err := c.run(ctx, releaseScript, args...).Int()
	return n, err
}

// orphans gives back the items in worker's processing lists whose lease is
// not one of inFlight.
func (c *Client) orphans(ctx context.Context, stage Stage, worker string, inFlight []string) ([]string, error) {
	args := []any{stage.Name, worker, stage.Progress, "returned: worker " + worker + " held it without working on it", len(stage.Queues)}
	for _, q := range stage.Queues {
		args = append(args, q)
	}
	for _, l := range inFlight {
		args = append(args, l)
	}
	v, err := c.run(ctx, orphansScript, args...).Result()
	if err != nil {
		return nil, err
	}
	return stringList(v)
}

// reclaimResult is what one reclaim pass did.
type reclaimResult struct {
	items   int
	workers []string
	judged  bool // false: the reclaimer has not been heard long enough to judge
}

func (c *Client) reclaimDead(ctx context.Context, stage Stage, reclaimer string, deadAfter time.Duration) (reclaimResult, error) {
	args := []any{stage.Name, reclaimer, deadAfter.Milliseconds(), stage.Progress}
	for _, q := range stage.Queues {
		args = append(args, q)
	}
	v, err := c.run(ctx, reclaimScript, args...).Slice()
	if err != nil {
		return reclaimResult{}, err
	}
	if len(v) != 3 {
		return reclaimResult{}, fmt.Errorf("reclaim script replied %v", v)
	}
	n, _ := v[0].(int64)
	gone, err := stringList(v[1])
	if err != nil {
		return reclaimResult{}, err
	}
	return reclaimResult{items: int(n), workers: gone, judged: v[2] == int64(1)}, nil
}

// promote moves the due retries of q back to the consuming end of q.
func (c *Client) promote(ctx context.Context, stage Stage, q string) (int, error) {
	return c.run(ctx, promoteScript, stage.Name, q).Int()
}

// waitForItem blocks until q holds an item or timeout passes, without
// taking the item. A script cannot block, so taking is split in two: this
// wait, then the take script. BLMOVE from the right end of q to the right
// end of q pops the oldest item and puts it back where it was, atomically:
// the list is unchanged and nothing is lost if the worker dies here. The
// take script then does the real move, and if another worker was quicker
// it finds nothing and the loop waits again.
//
// go-redis sends the timeout in whole seconds, so it is rounded up to one.
func (c *Client) waitForItem(ctx context.Context, q string, timeout time.Duration) error {
	timeout = max(timeout, time.Second).Truncate(time.Second)
	err := c.rdb.BLMove(ctx, c.Key(q), c.Key(q), "RIGHT", "RIGHT", timeout).Err()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}
