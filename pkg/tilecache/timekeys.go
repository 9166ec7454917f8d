package tilecache

import (
	"context"
	"strings"
	"time"

	"github.com/pvs/pvs/pkg/layer"
	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/tile"
)

// Intervals tells whether a product of a collection (or the product named
// by identifier, when collection is empty) has exactly the interval p.
type Intervals interface {
	HasInterval(ctx context.Context, collection, identifier string, p period.Period) (bool, error)
}

// TimeKeys decides which time keys a tile drawn on demand is stored under.
// Every distinct TIME a client sends would otherwise add a copy of the
// tile, and an index entry, without bound. Canonical keys are the default
// (no TIME), a product's own interval (what the seeder seeds and a client
// picking a product asks for), and one whole UTC day (what a time slider
// sends: at most one key a day). Other TIME values are drawn, not stored.
type TimeKeys struct {
	Intervals Intervals
}

// Keep implements Tiler.Keep.
func (tk TimeKeys) Keep(ctx context.Context, k tile.Key) bool {
	if k.Time == tile.DefaultTime {
		return true
	}
	p, err := period.ParseKey(k.Time)
	if err != nil {
		return false
	}
	if wholeDay(p) {
		return true
	}
	if tk.Intervals == nil {
		return false
	}
	coll, id := k.Layer, ""
	if i := strings.Index(k.Layer, layer.Sep); i >= 0 {
		coll = k.Layer[:i]
	}
	ok, err := tk.Intervals.HasInterval(ctx, coll, id, p)
	if err == nil && !ok {
		// Not a collection layer: a product's own layer, by identifier.
		ok, err = tk.Intervals.HasInterval(ctx, "", k.Layer, p)
	}
	return err == nil && ok
}

func wholeDay(p period.Period) bool {
	s := p.Start.UTC()
	return s.Equal(s.Truncate(24*time.Hour)) && p.End.Sub(p.Start) == 24*time.Hour
}
