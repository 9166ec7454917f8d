package tilecache_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/invalidation"
	"github.com/pvs/pvs/pkg/store/file"
	"github.com/pvs/pvs/pkg/tile"
	"github.com/pvs/pvs/pkg/tilecache"
)

type constSource struct{}

func (constSource) Tile(ctx context.Context, k tile.Key) ([]byte, error) {
	return []byte(k.Path()), nil
}

const (
	interval = "2018-06-15T00:00:00Z--2018-06-16T00:00:00Z"
	later    = "2019-01-01T00:00:00Z--2019-01-02T00:00:00Z"
)

// fill caches every tile of a region at levels 5-8, for two layers of the
// collection, one of another, and three time keys.
func fill(t *testing.T, tl *tilecache.Tiler) []tile.Key {
	t.Helper()
	var keys []tile.Key
	for _, g := range tile.Grids {
		for z := 5; z <= 8; z++ {
			r, _ := g.Covering(g.FromWGS84([4]float64{8, 44, 14, 49}), z)
			for row := r.MinRow; row <= r.MaxRow; row++ {
				for col := r.MinCol; col <= r.MaxCol; col++ {
					for _, layer := range []string{"C", "C__FALSE_COLOR", "OTHER"} {
						for _, tk := range []string{tile.DefaultTime, interval, later} {
							k := tile.Key{Layer: layer, Grid: g.Name, Time: tk, Z: z, Row: row, Col: col, Format: "png"}
							if _, err := tl.Render(context.Background(), k); err != nil {
								t.Fatal(err)
							}
							keys = append(keys, k)
						}
					}
				}
			}
		}
	}
	return keys
}

var footprint = json.RawMessage(`{"type":"MultiPolygon","coordinates":[[[[10,45],[12.5,45.3],[12,47.8],[9.7,47.2],[10,45]],[[10.8,46],[11.5,46],[11.2,46.8],[10.8,46]]]]}`)

func setup(t *testing.T) (*tilecache.Tiler, *tilecache.Invalidator, invalidation.Publisher, func(tile.Key) bool) {
	rdb, prefix := testenv.Redis(t)
	st, err := file.New(t.TempDir())
	testenv.Must(t, err, "store")
	cache := tilecache.StoreCache{Store: st}
	idx := &tilecache.RedisIndex{RDB: rdb, Prefix: prefix}
	tl := &tilecache.Tiler{Cache: cache, Source: constSource{}, Index: idx}
	inv := &tilecache.Invalidator{Cache: cache, Index: idx, Log: slog.New(slog.DiscardHandler),
		LayersOf: func(c string) []string {
			if c == "C" {
				return []string{"C", "C__FALSE_COLOR"}
			}
			return nil
		}}
	cached := func(k tile.Key) bool {
		_, err := cache.Get(context.Background(), k)
		return err == nil
	}
	return tl, inv, invalidation.Publisher{RDB: rdb, Prefix: prefix}, cached
}

func TestPurgeRemovesExactlyTheTouchedTiles(t *testing.T) {
	tl, inv, _, cached := setup(t)
	keys := fill(t, tl)
	e := invalidation.Event{Action: invalidation.Deregistered, Collection: "C", Identifier: "P",
		Areas: []invalidation.Area{{BBox: [4]float64{9.7, 45, 12.5, 47.8}, Footprint: footprint,
			Start: time.Date(2018, 6, 15, 10, 0, 0, 0, time.UTC), End: time.Date(2018, 6, 15, 10, 1, 0, 0, time.UTC)}}}
	n, err := inv.Purge(context.Background(), e)
	testenv.Must(t, err, "purge")
	var polys [][][][2]float64
	var g struct{ Coordinates [][][][2]float64 }
	json.Unmarshal(footprint, &g)
	polys = g.Coordinates
	touched := map[string]bool{}
	for _, gr := range tile.Grids {
		for z := 5; z <= 8; z++ {
			for _, p := range gr.Touching(polys, z) {
				touched[fmt.Sprintf("%s/%d/%d/%d", gr.Name, z, p.Row, p.Col)] = true
			}
		}
	}
	removed, kept := 0, 0
	for _, k := range keys {
		hit := touched[fmt.Sprintf("%s/%d/%d/%d", k.Grid, k.Z, k.Row, k.Col)]
		shouldGo := hit && k.Layer != "OTHER" && k.Time != later
		if cached(k) == shouldGo {
			t.Errorf("%s: cached=%v, want %v", k, cached(k), !shouldGo)
		}
		if shouldGo {
			removed++
		} else {
			kept++
		}
	}
	if n != removed || removed == 0 || kept == 0 {
		t.Errorf("purged %d, expected %d removed and %d kept", n, removed, kept)
	}
	t.Logf("%d tiles purged, %d kept", removed, kept)
}

func TestFollowPurgesPublishedEvents(t *testing.T) {
	tl, inv, pub, cached := setup(t)
	k := tile.Key{Layer: "C", Grid: "WorldCRS84Quad", Time: tile.DefaultTime, Z: 6, Format: "png"}
	r, _ := tile.WorldCRS84Quad.Covering([4]float64{11, 46.5, 11, 46.5}, 6)
	k.Row, k.Col = r.MinRow, r.MinCol
	if _, err := tl.Render(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- inv.Follow(ctx, pub.RDB, pub.Prefix, "test-replica") }()
	testenv.Must(t, pub.Publish(context.Background(), invalidation.Event{Action: invalidation.Registered, Collection: "C", Identifier: "N",
		Areas: []invalidation.Area{{BBox: [4]float64{9.7, 45, 12.5, 47.8}, Footprint: footprint, Start: time.Now(), End: time.Now()}}}), "publish")
	testenv.Eventually(t, 10*time.Second, "the tile purged", func() (bool, error) { return !cached(k), nil })
	testenv.Eventually(t, 10*time.Second, "the event acknowledged", func() (bool, error) {
		pending, err := pub.RDB.XPending(context.Background(), pub.Prefix+invalidation.Stream, "tilecache").Result()
		return err == nil && pending.Count == 0, err
	})
	cancel()
	testenv.Must(t, <-done, "follow")
}
