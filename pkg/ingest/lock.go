package ingest

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pvs/pvs/pkg/queue"
)

// lease lets one ingestor replica at a time run a watcher or a harvester:
// two passes over the same prefix at once would only race each other.
// Each pass takes or renews the lease; a replica that dies frees it when
// it expires.
type lease struct {
	q     *queue.Client
	key   string
	owner string
	ttl   time.Duration
}

var renewScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`)

var releaseLeaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// hold takes or renews the lease, reporting whether this owner holds it.
func (l *lease) hold(ctx context.Context) (bool, error) {
	n, err := renewScript.Run(ctx, l.q.Redis(), []string{l.key}, l.owner, l.ttl.Milliseconds()).Int()
	return n == 1, err
}

// release frees the lease if this owner holds it.
func (l *lease) release(ctx context.Context) {
	releaseLeaseScript.Run(ctx, l.q.Redis(), []string{l.key}, l.owner)
}
