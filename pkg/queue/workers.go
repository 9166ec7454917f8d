package queue

import (
	"context"
	"fmt"
	"time"
)

// Worker is a registered worker of a stage and its last heartbeat.
type Worker struct {
	Stage  string
	Worker string
	// LastBeat is the time of the last heartbeat, by Redis's clock.
	LastBeat time.Time
	// Silent is how long ago that was.
	Silent time.Duration
}

// Workers lists the registered workers of every stage, by stage in
// pipeline order, the most recently heard first. A worker leaves the list
// when it stops, or when a reclaimer takes it for dead.
func (c *Client) Workers(ctx context.Context) ([]Worker, error) {
	now, err := c.rdb.Time(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("read Redis time: %w", err)
	}
	var out []Worker
	for _, s := range Stages {
		zs, err := c.rdb.ZRevRangeWithScores(ctx, c.workersKey(s.Name), 0, -1).Result()
		if err != nil {
			return nil, fmt.Errorf("workers of %s: %w", s.Name, err)
		}
		for _, z := range zs {
			at := time.UnixMilli(int64(z.Score)).UTC()
			// A beat recorded after TIME was read is as good as now.
			out = append(out, Worker{Stage: s.Name, Worker: fmt.Sprint(z.Member), LastBeat: at, Silent: max(now.Sub(at), 0)})
		}
	}
	return out, nil
}

// CheckItem reports why Push would refuse v as an item, or nil: callers
// that validate a request before acting on any of it (the management API)
// name the problem up front.
func CheckItem(v string) error { return checkItem(v) }
