package invalidation

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Stream is the Redis stream key (under the deployment's prefix).
const Stream = "pvs:invalidations"

// Actions.
const (
	Registered   = "registered"
	Replaced     = "replaced"
	Deregistered = "deregistered"
)

// Area is a footprint (GeoJSON MultiPolygon, EPSG:4326 lon/lat), its bbox
// and a time interval.
type Area struct {
	BBox      [4]float64      `json:"bbox"`
	Footprint json.RawMessage `json:"footprint,omitempty"`
	Start     time.Time       `json:"start"`
	End       time.Time       `json:"end"`
}

// Event is one catalogue change.
type Event struct {
	ID         string `json:"-"` // stream entry id
	Action     string `json:"action"`
	Collection string `json:"collection"`
	Identifier string `json:"identifier"`
	// Areas the change touches: the product's, and for a replacement the
	// one it had before.
	Areas []Area `json:"areas"`
}

// Publisher appends events to the stream.
type Publisher struct {
	RDB    redis.UniversalClient
	Prefix string
	// MaxLen bounds the stream (approximately); 0 means 100000.
	MaxLen int64
}

// Publish appends e.
func (p Publisher) Publish(ctx context.Context, e Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	maxLen := p.MaxLen
	if maxLen == 0 {
		maxLen = 100000
	}
	// The generation moves before the event exists, so that a tile drawn
	// across the change is seen as such (see Generation).
	_, err = p.RDB.TxPipelined(ctx, func(pl redis.Pipeliner) error {
		pl.Incr(ctx, p.Prefix+GenerationKey)
		pl.XAdd(ctx, &redis.XAddArgs{Stream: p.Prefix + Stream, MaxLen: maxLen, Approx: true,
			Values: map[string]any{"event": string(b)}})
		return nil
	})
	if err != nil {
		return fmt.Errorf("publish invalidation of %s: %w", e.Identifier, err)
	}
	return nil
}

// GenerationKey counts catalogue changes.
const GenerationKey = "pvs:generation"

// Generation returns the number of catalogue changes announced so far. A
// tile drawn while it changed may show the catalogue before the change and
// must not be cached: the purge of that change may already have run.
func (p Publisher) Generation(ctx context.Context) (int64, error) {
	n, err := p.RDB.Get(ctx, p.Prefix+GenerationKey).Int64()
	if err == redis.Nil {
		return 0, nil
	}
	return n, err
}

// Read returns the events after id ("0" for all, "$" for only new ones),
// waiting up to block for the first; with block 0 it does not wait.
func (p Publisher) Read(ctx context.Context, after string, count int64, block time.Duration) ([]Event, error) {
	if block <= 0 {
		// For Redis, BLOCK 0 is forever; go-redis leaves BLOCK out when
		// negative.
		block = -1
	}
	res, err := p.RDB.XRead(ctx, &redis.XReadArgs{Streams: []string{p.Prefix + Stream, after}, Count: count, Block: block}).Result()
	if err == redis.Nil {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Event
	for _, s := range res {
		for _, m := range s.Messages {
			var e Event
			raw, _ := m.Values["event"].(string)
			if err := json.Unmarshal([]byte(raw), &e); err != nil {
				return out, fmt.Errorf("invalidation %s: %w", m.ID, err)
			}
			e.ID = m.ID
			out = append(out, e)
		}
	}
	return out, nil
}
