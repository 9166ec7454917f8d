package tilecache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pvs/pvs/pkg/invalidation"
	"github.com/pvs/pvs/pkg/metadata"
	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/tile"
)

// Index records which levels hold cached tiles, as "layer/grid/time/z.format",
// so that a purge visits only those.
type Index interface {
	Add(ctx context.Context, k tile.Key) error
	Levels(ctx context.Context) ([]tile.Key, error)
}

// RedisIndex keeps the Index in a Redis set shared by every cache replica
// and the seeder.
type RedisIndex struct {
	RDB    redis.UniversalClient
	Prefix string

	seen sync.Map
}

const indexKey = "pvs:tilecache:levels"

func levelOf(k tile.Key) string {
	return fmt.Sprintf("%s/%s/%s/%d.%s", k.Layer, k.Grid, k.Time, k.Z, k.Format)
}

// Add implements Index.
func (x *RedisIndex) Add(ctx context.Context, k tile.Key) error {
	l := levelOf(k)
	if _, ok := x.seen.Load(l); ok {
		return nil
	}
	if err := x.RDB.SAdd(ctx, x.Prefix+indexKey, l).Err(); err != nil {
		return err
	}
	x.seen.Store(l, true)
	return nil
}

// Levels implements Index: one key per level, with Row and Col zero.
func (x *RedisIndex) Levels(ctx context.Context) ([]tile.Key, error) {
	ms, err := x.RDB.SMembers(ctx, x.Prefix+indexKey).Result()
	if err != nil {
		return nil, err
	}
	var out []tile.Key
	for _, m := range ms {
		parts := strings.Split(m, "/")
		if len(parts) != 4 {
			continue
		}
		zs, format, ok := strings.Cut(parts[3], ".")
		z, err := strconv.Atoi(zs)
		if !ok || err != nil {
			continue
		}
		out = append(out, tile.Key{Layer: parts[0], Grid: parts[1], Time: parts[2], Z: z, Format: format})
	}
	return out, nil
}

// Invalidator drops the cached tiles a catalogue change touches.
type Invalidator struct {
	Cache Cache
	Index Index
	// LayersOf lists the layer names of a collection.
	LayersOf func(collection string) []string
	Log      *slog.Logger
}

// Purge removes, for every cached level of the event's collection whose
// time key is the default or intersects an area's interval, the tiles the
// area's footprint touches. It returns how many tiles it removed (or tried
// to: a missing tile is not an error).
func (inv *Invalidator) Purge(ctx context.Context, e invalidation.Event) (int, error) {
	levels, err := inv.Index.Levels(ctx)
	if err != nil {
		return 0, fmt.Errorf("read cache index: %w", err)
	}
	layers := map[string]bool{}
	for _, l := range inv.LayersOf(e.Collection) {
		layers[l] = true
	}
	n := 0
	for _, a := range e.Areas {
		polys, err := footprintOf(a)
		if err != nil {
			return n, fmt.Errorf("event %s of %s: %w", e.Action, e.Identifier, err)
		}
		cover := map[string][]tile.Pos{} // grid/z -> tiles, computed once
		for _, lv := range levels {
			if !layers[lv.Layer] || !timeTouches(lv.Time, a) {
				continue
			}
			g, ok := tile.Lookup(lv.Grid)
			if !ok {
				continue
			}
			ck := lv.Grid + "/" + strconv.Itoa(lv.Z)
			tiles, done := cover[ck]
			if !done {
				tiles = g.Touching(polys, lv.Z)
				cover[ck] = tiles
			}
			for _, p := range tiles {
				k := lv
				k.Row, k.Col = p.Row, p.Col
				if err := inv.Cache.Purge(ctx, k); err != nil {
					return n, fmt.Errorf("purge %s: %w", k, err)
				}
				n++
			}
		}
	}
	return n, nil
}

func footprintOf(a invalidation.Area) ([][][][2]float64, error) {
	if len(a.Footprint) == 0 {
		b := a.BBox
		return [][][][2]float64{{{{b[0], b[1]}, {b[2], b[1]}, {b[2], b[3]}, {b[0], b[3]}, {b[0], b[1]}}}}, nil
	}
	return metadata.ParseGeoJSONPolygons(a.Footprint)
}

func timeTouches(key string, a invalidation.Area) bool {
	if key == tile.DefaultTime {
		return true
	}
	p, err := period.ParseKey(key)
	if err != nil {
		return true // unknown form: be safe
	}
	return !p.End.Before(a.Start) && !p.Start.After(a.End)
}

// Follow consumes the invalidation stream in the consumer group "tilecache"
// (one delivery per cache deployment, shared by its replicas) and purges,
// until ctx ends. An event is acknowledged after its purge; events a dead
// replica held are claimed after a minute.
func (inv *Invalidator) Follow(ctx context.Context, rdb redis.UniversalClient, prefix, consumer string) error {
	stream := prefix + invalidation.Stream
	const group = "tilecache"
	err := rdb.XGroupCreateMkStream(ctx, stream, group, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("join %s: %w", stream, err)
	}
	lastClaim := time.Time{}
	for ctx.Err() == nil {
		var msgs []redis.XMessage
		if time.Since(lastClaim) > 30*time.Second {
			lastClaim = time.Now()
			claimed, _, err := rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: stream, Group: group, Consumer: consumer,
				MinIdle: time.Minute, Start: "0", Count: 100}).Result()
			if err == nil {
				msgs = claimed
			}
		}
		if len(msgs) == 0 {
			res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: consumer,
				Streams: []string{stream, ">"}, Count: 50, Block: 2 * time.Second}).Result()
			if errors.Is(err, redis.Nil) || ctx.Err() != nil {
				continue
			}
			if err != nil {
				inv.Log.Error("read invalidations", "err", err)
				sleepCtx(ctx, time.Second)
				continue
			}
			for _, s := range res {
				msgs = append(msgs, s.Messages...)
			}
		}
		for _, m := range msgs {
			var e invalidation.Event
			raw, _ := m.Values["event"].(string)
			if err := json.Unmarshal([]byte(raw), &e); err != nil {
				inv.Log.Error("unreadable invalidation, dropped", "id", m.ID, "err", err)
				rdb.XAck(ctx, stream, group, m.ID)
				continue
			}
			t0 := time.Now()
			n, err := inv.Purge(ctx, e)
			if err != nil {
				inv.Log.Error("purge", "identifier", e.Identifier, "err", err)
				continue // stays pending; claimed again later
			}
			inv.Log.Info("tiles purged", "action", e.Action, "identifier", e.Identifier, "tiles", n, "seconds", time.Since(t0).Seconds())
			// A finished purge is acknowledged even while shutting down.
			if err := rdb.XAck(context.WithoutCancel(ctx), stream, group, m.ID).Err(); err != nil {
				inv.Log.Error("acknowledge invalidation", "id", m.ID, "err", err)
			}
		}
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
