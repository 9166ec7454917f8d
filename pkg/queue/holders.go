package queue

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Holding is an item in a worker's processing list: taken, not finished.
type Holding struct {
	Stage     string
	Queue     string
	Item      string
	Worker    string
	Attempts  int
	StartedAt string
	// Leased is false for an item in the list that the worker holds under
	// no lease: a take whose reply was lost, an outcome the worker could not
	// record. The worker gives such items back at its next heartbeat, a
	// reclaimer when the worker is dead.
	Leased bool
	// Silent is how long ago the worker last beat, by Redis's clock; -1 if
	// it is not registered (it stopped, or was reclaimed).
	Silent time.Duration
}

// Holders lists the items held by workers, with who holds them, by stage,
// queue and worker. It reads every processing list, including those of
// workers that are gone, so that nothing held is invisible.
func (c *Client) Holders(ctx context.Context) ([]Holding, error) {
	keys, err := c.processingKeys(ctx)
	if err != nil {
		return nil, err
	}
	now, err := c.rdb.Time(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("read Redis time: %w", err)
	}
	var out []Holding
	for _, k := range keys {
		worker, q, _ := parseProcessingKey(c.prefix, k)
		stage, _ := StageOf(q)
		hs, err := c.held(ctx, k, stage, worker, q, now)
		if err != nil {
			return nil, err
		}
		out = append(out, hs...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Stage != b.Stage {
			return a.Stage < b.Stage
		}
		if a.Worker != b.Worker {
			return a.Worker < b.Worker
		}
		return a.Item < b.Item
	})
	return out, nil
}

// processingKeys finds every processing list under the prefix.
func (c *Client) processingKeys(ctx context.Context) ([]string, error) {
	var keys []string
	iter := c.rdb.Scan(ctx, 0, globEscape(c.prefix)+"pvs:processing:*", 500).Iterator()
	for iter.Next(ctx) {
		if _, _, ok := parseProcessingKey(c.prefix, iter.Val()); ok {
			keys = append(keys, iter.Val())
		}
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("list processing lists: %w", err)
	}
	sort.Strings(keys)
	return keys, nil
}

// held reads one processing list and what the histories say of its items.
func (c *Client) held(ctx context.Context, key string, stage Stage, worker, q string, now time.Time) ([]Holding, error) {
	items, err := c.rdb.LRange(ctx, key, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	silent := time.Duration(-1)
	if ms, err := c.rdb.ZScore(ctx, c.workersKey(stage.Name), worker).Result(); err == nil {
		silent = now.Sub(time.UnixMilli(int64(ms)))
	} else if err != redis.Nil {
		return nil, fmt.Errorf("heartbeat of %s: %w", worker, err)
	}
	out := make([]Holding, 0, len(items))
	for _, it := range items {
		f, err := c.rdb.HMGet(ctx, c.historyKey(stage.Name, it), "lease", "worker", "attempts", "started_at").Result()
		if err != nil {
			return nil, fmt.Errorf("history of %q: %w", it, err)
		}
		lease, _ := f[0].(string)
		w, _ := f[1].(string)
		attempts, _ := f[2].(string)
		n, _ := strconv.Atoi(attempts)
		started, _ := f[3].(string)
		out = append(out, Holding{Stage: stage.Name, Queue: q, Item: it, Worker: worker, Attempts: n,
			StartedAt: started, Leased: lease != "" && w == worker, Silent: silent})
	}
	return out, nil
}

// globEscape quotes the characters SCAN MATCH treats as a pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
