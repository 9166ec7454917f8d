package tilecache

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/pvs/pvs/pkg/invalidation"
	"github.com/pvs/pvs/pkg/tile"
)

type levelsIndex []tile.Key

func (x levelsIndex) Add(context.Context, tile.Key) error           { return nil }
func (x levelsIndex) Levels(context.Context) ([]tile.Key, error)    { return x, nil }
func (countingCache) Get(context.Context, tile.Key) ([]byte, error) { return nil, ErrMiss }
func (countingCache) Set(context.Context, tile.Key, []byte) error   { return nil }
func (c *countingCache) Purge(_ context.Context, k tile.Key) error  { c.n++; return nil }

type countingCache struct{ n int }

// FuzzPurgeEvent feeds invalidation events as they arrive on the stream
// (any JSON a writer to Redis could put there) to the purge: it must
// neither panic nor purge tiles of another collection, and it must end.
func FuzzPurgeEvent(f *testing.F) {
	for _, s := range []string{
		`{"action":"register","collection":"C","identifier":"P","areas":[{"bbox":[-78.4,24.3,-77.3,25.3],"start":"2018-06-15T15:20:00Z","end":"2018-06-15T15:20:30Z"}]}`,
		`{"action":"replace","collection":"C","identifier":"P","areas":[{"bbox":[170,-10,-170,10],"footprint":{"type":"MultiPolygon","coordinates":[[[[170,-10],[180,-10],[180,10],[170,10],[170,-10]]],[[[-180,-10],[-170,-10],[-170,10],[-180,10],[-180,-10]]]]},"start":"2018-01-01T00:00:00Z","end":"2018-01-02T00:00:00Z"}]}`,
		`{"action":"deregister","collection":"C","identifier":"P","areas":[{"bbox":[-1e300,-1e300,1e300,1e300],"start":"0001-01-01T00:00:00Z","end":"9999-12-31T23:59:59Z"}]}`,
		`{"action":"register","collection":"C","areas":[{"bbox":[0,0,0,0],"footprint":{"type":"Polygon","coordinates":[[[0,0]]]}}]}`,
		`{"collection":"OTHER","areas":[{"bbox":[-180,-90,180,90]}]}`,
		`not json`,
	} {
		f.Add(s)
	}
	levels := levelsIndex{}
	for z := 0; z <= 5; z++ {
		for _, layer := range []string{"C", "C__TRUE_COLOR", "OTHER"} {
			levels = append(levels, tile.Key{Layer: layer, Grid: tile.GoogleMapsCompatible.Name, Time: tile.DefaultTime, Z: z, Format: "png"})
		}
		levels = append(levels, tile.Key{Layer: "C", Grid: tile.WorldCRS84Quad.Name, Time: "2018-06-15T00:00:00Z--2018-06-16T00:00:00Z", Z: z, Format: "png"})
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var e invalidation.Event
		if json.Unmarshal([]byte(raw), &e) != nil {
			return
		}
		c := &countingCache{}
		inv := &Invalidator{Cache: c, Index: levels, LayersOf: func(coll string) []string {
			if coll == "C" {
				return []string{"C", "C__TRUE_COLOR"}
			}
			return nil
		}}
		n, _ := inv.Purge(context.Background(), e)
		// Every tile of the collection's levels at most once per area.
		max := 0
		for _, lv := range levels {
			if lv.Layer != "OTHER" {
				g, _ := tile.Lookup(lv.Grid)
				cols, rows := g.MatrixSize(lv.Z)
				max += cols * rows
			}
		}
		if n != c.n || n > max*len(e.Areas) {
			t.Fatalf("purged %d (counted %d) tiles of at most %d for %d areas", n, c.n, max, len(e.Areas))
		}
		if e.Collection != "C" && n != 0 {
			t.Fatalf("an event of collection %q purged %d tiles of C", e.Collection, n)
		}
	})
}
