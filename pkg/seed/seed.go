package seed

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/registry"
	"github.com/pvs/pvs/pkg/tile"
)

// Finder finds products.
type Finder interface {
	Find(ctx context.Context, q registry.Query) ([]registry.Record, error)
}

// Renderer renders a tile into the cache, replacing what was there.
type Renderer interface {
	Render(ctx context.Context, k tile.Key) ([]byte, error)
}

// Seeder handles seed_queue items.
type Seeder struct {
	Products    Finder
	Tiles       Renderer
	Collection  string
	Layers      []string // layers to seed; default the collection's own
	Grid        tile.Grid
	MinZoom     int
	MaxZoom     int
	Format      string
	Concurrency int
	Log         *slog.Logger
}

// Plan lists the tiles to seed for an interval: for every zoom level, the
// tiles covering the extents of the products whose time intersects it.
func (s *Seeder) Plan(ctx context.Context, p period.Period) ([]tile.Range, int, error) {
	recs, err := s.Products.Find(ctx, registry.Query{Collection: s.Collection, Start: p.Start, End: p.End})
	if err != nil {
		return nil, 0, err
	}
	var ranges []tile.Range
	for _, rec := range recs {
		b := s.Grid.FromWGS84(rec.BBox)
		for z := s.MinZoom; z <= s.MaxZoom; z++ {
			if r, ok := s.Grid.Covering(b, z); ok {
				ranges = append(ranges, r)
			}
		}
	}
	return ranges, len(recs), nil
}

// Handle is the queue.Handler of the seeder.
func (s *Seeder) Handle(ctx context.Context, it queue.Item) (string, error) {
	p, err := period.Parse(it.Value)
	if err != nil {
		return "", queue.Permanent(fmt.Errorf("invalid seed_queue item: %w", err))
	}
	ranges, nprod, err := s.Plan(ctx, p)
	if err != nil {
		return "", err
	}
	layers := s.Layers
	if len(layers) == 0 {
		layers = []string{s.Collection}
	}
	// Tiles of the interval itself, and the default (no TIME) tiles, which
	// show the newest product and so change with every registration.
	times := []string{p.Key(), tile.DefaultTime}
	keys := make(chan tile.Key)
	var done, failed atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	n := max(s.Concurrency, 1)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range keys {
				if _, err := s.Tiles.Render(ctx, k); err != nil {
					failed.Add(1)
					once.Do(func() { firstErr = err })
					continue
				}
				done.Add(1)
			}
		}()
	}
	seen := map[tile.Key]bool{}
feed:
	for _, r := range ranges {
		for row := r.MinRow; row <= r.MaxRow; row++ {
			for col := r.MinCol; col <= r.MaxCol; col++ {
				for _, l := range layers {
					for _, t := range times {
						k := tile.Key{Layer: l, Grid: s.Grid.Name, Time: t, Z: r.Z, Row: row, Col: col, Format: s.Format}
						if seen[k] {
							continue
						}
						seen[k] = true
						select {
						case keys <- k:
						case <-ctx.Done():
							break feed
						}
					}
				}
			}
		}
	}
	close(keys)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if firstErr != nil {
		return "", fmt.Errorf("%d of %d tiles failed, first: %w", failed.Load(), len(seen), firstErr)
	}
	return fmt.Sprintf("seeded %d tiles of %d products, zoom %d-%d", done.Load(), nprod, s.MinZoom, s.MaxZoom), nil
}
