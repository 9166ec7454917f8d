package queue

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

type nextKey struct{}

// nextItems collects the next-stage items a handler pushes, for the finish
// script to push with the item's success (see Client.Push).
type nextItems struct {
	rdb    redis.UniversalClient
	prefix string
	mu     sync.Mutex
	pushes []push
}

func withNext(ctx context.Context, c *Client) (context.Context, *nextItems) {
	n := &nextItems{rdb: c.rdb, prefix: c.prefix}
	return context.WithValue(ctx, nextKey{}, n), n
}

// nextOf returns the collector of ctx if c writes to the same keys as the
// consumer that made it; a push to another deployment is not deferred.
func nextOf(ctx context.Context, c *Client) *nextItems {
	n, ok := ctx.Value(nextKey{}).(*nextItems)
	if !ok || n.rdb != c.rdb || n.prefix != c.prefix {
		return nil
	}
	return n
}

func (n *nextItems) add(p push) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, q := range n.pushes {
		if q == p {
			return
		}
	}
	n.pushes = append(n.pushes, p)
}

func (n *nextItems) list() []push {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]push(nil), n.pushes...)
}
