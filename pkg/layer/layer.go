package layer

import (
	"context"
	"sync"
	"time"

	"github.com/pvs/pvs/pkg/config"
)

// Layer is one named layer.
type Layer struct {
	Name       string
	Title      string
	Collection string
	Browse     config.Browse
	// BBox is the layer's extent in EPSG:4326 lon/lat; nil when empty.
	BBox *[4]float64
	// Start and End are the layer's time extent; zero when empty.
	Start, End time.Time
	// Draw is what the layer shows: the browse images (""), the
	// footprints (Outlines) or both (Outlined).
	Draw string
	// Identifier, for the layer of a single product, names it.
	Identifier string
}

// What layers draw.
const (
	Outlines = "outlines"
	Outlined = "outlined"
)

// Extent is where and when a collection has products; nil fields when it
// has none.
type Extent struct {
	BBox       *[4]float64 // EPSG:4326 lon/lat
	Start, End *time.Time
}

// Extents reads the extent of a collection.
type Extents interface {
	CollectionExtent(ctx context.Context, collection string) (Extent, error)
}

// Catalog lists the layers of configured collections.
type Catalog struct {
	Extents     Extents
	Collections []config.Collection
}

// Cached keeps a Lister's answer for TTL, so that serving a tile does not
// cost a database query; extents and time spans may lag by TTL.
type Cached struct {
	Lister interface {
		Layers(ctx context.Context) ([]Layer, error)
	}
	TTL time.Duration

	mu     sync.Mutex
	layers []Layer
	at     time.Time
}

// Layers returns the cached list, refreshing it when older than TTL.
func (c *Cached) Layers(ctx context.Context) ([]Layer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.layers != nil && time.Since(c.at) < c.TTL {
		return c.layers, nil
	}
	ls, err := c.Lister.Layers(ctx)
	if err != nil {
		return nil, err
	}
	c.layers, c.at = ls, time.Now()
	return ls, nil
}

// Sep separates the parts of a layer name, as EOxServer writes them.
const Sep = "__"

// Layers implements the listing used by WMS and WMTS.
func (c Catalog) Layers(ctx context.Context) ([]Layer, error) {
	var out []Layer
	for _, coll := range c.Collections {
		e, err := c.Extents.CollectionExtent(ctx, coll.Name)
		if err != nil {
			return nil, err
		}
		base := Layer{Collection: coll.Name, BBox: e.BBox}
		if e.Start != nil && e.End != nil {
			base.Start, base.End = *e.Start, *e.End
		}
		def := base
		def.Name, def.Title, def.Browse = coll.Name, coll.Title, coll.Browses[0]
		out = append(out, def)
		for _, b := range coll.Browses {
			l := base
			l.Name = coll.Name + Sep + b.Name
			l.Title = coll.Title + " " + b.Name
			l.Browse = b
			out = append(out, l)
		}
		for _, d := range []string{Outlines, Outlined} {
			l := def
			l.Name = coll.Name + Sep + d
			l.Title = coll.Title + " " + d
			l.Draw = d
			out = append(out, l)
		}
	}
	return out, nil
}
