package queue

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Degraded is a worker that holds off new items for a while (failure
// pressure: most of its recent items had to be retried).
type Degraded struct {
	Worker string        `json:"worker"`
	Reason string        `json:"reason"`
	Left   time.Duration `json:"left_ns"`
}

func (c *Client) degradedKey(worker string) string { return c.prefix + "pvs:degraded:" + worker }

// MarkDegraded records that worker holds off for d, and why. The record
// expires with the hold, so `pvs status` shows only current ones.
func (c *Client) MarkDegraded(ctx context.Context, worker, reason string, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	if err := c.rdb.Set(ctx, c.degradedKey(worker), reason, d).Err(); err != nil {
		return fmt.Errorf("record degraded worker %s: %w", worker, err)
	}
	return nil
}

// DegradedWorkers lists the workers holding off now.
func (c *Client) DegradedWorkers(ctx context.Context) ([]Degraded, error) {
	prefix := c.degradedKey("")
	var out []Degraded
	iter := c.rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		reason, err := c.rdb.Get(ctx, key).Result()
		if err != nil {
			continue // expired between the scan and the read
		}
		left, _ := c.rdb.PTTL(ctx, key).Result()
		out = append(out, Degraded{Worker: strings.TrimPrefix(key, prefix), Reason: reason, Left: left})
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("list degraded workers: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Worker < out[j].Worker })
	return out, nil
}
