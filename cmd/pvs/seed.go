package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/pvs/pvs/pkg/ops"
)

func newSeedCmd(g *globals) *cobra.Command {
	var interval, zoom, bbox, grid string
	var layers []string
	var dryRun, truncate bool
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Seed (or truncate) the tile cache now, with a progress bar",
		Long: `Seed the tiles touching the footprints of the products whose time intersects
--interval, at --zoom levels, for the given layers, under the interval's time
key and the default one. Blocks of tiles are rendered together (seeder.metatile).
An interrupted seed of the same job resumes where it stopped.

  pvs seed --interval 2018-01-01/2019-01-01 --zoom 6-12 --dry-run
  pvs seed --interval 2018-06-15/2018-06-16 --bbox -79,23,-76,26
  pvs seed --interval 2018-06-15/2018-06-16 --zoom 0-18 --truncate`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.connect("seed", false)
			if err != nil {
				return err
			}
			defer e.close()
			ctx := cmd.Context()
			s, reg, err := newSeeder(ctx, e)
			if err != nil {
				return err
			}
			defer reg.Close()
			o := operations(e)
			o.Seeder = s
			j, err := o.PlanSeed(ctx, ops.SeedRequest{Interval: interval, Zoom: zoom, BBox: bbox, Grid: grid,
				Layers: layers, DryRun: dryRun, Truncate: truncate})
			if err != nil {
				return flagError(err, map[string]string{"interval": "interval", "zoom": "zoom", "bbox": "bbox", "grid": "grid"})
			}
			out := cmd.OutOrStdout()
			sum := j.Summary()
			fmt.Fprintf(out, "%s: %d products, %d tiles per layer and time key over zoom %d-%d (%d blocks), %d tiles in all\n",
				sum.Verb, sum.Products, sum.Tiles, sum.MinZoom, sum.MaxZoom, sum.Blocks, sum.Total)
			for _, l := range sum.Levels {
				fmt.Fprintf(out, "  zoom %2d: %d tiles\n", l.Zoom, l.Tiles)
			}
			if dryRun {
				return nil
			}
			bar := newProgressBar(cmd.ErrOrStderr())
			st, err := j.Run(ctx, bar.update)
			bar.finish()
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: %d tiles in %.1fs (%.0f tiles/s), %d done before a restart\n",
				sum.Verb, st.Tiles, st.Elapsed.Seconds(), float64(st.Tiles)/st.Elapsed.Seconds(), st.Skipped)
			return nil
		},
	}
	cmd.Flags().StringVar(&interval, "interval", "", "ISO 8601 start/end of the products to seed (required)")
	cmd.Flags().StringVar(&zoom, "zoom", "", "zoom levels, e.g. 6-12 (default seeder.min_zoom-max_zoom)")
	cmd.Flags().StringVar(&bbox, "bbox", "", "limit to minlon,minlat,maxlon,maxlat")
	cmd.Flags().StringVar(&grid, "grid", "", "tile matrix set (default seeder.grid)")
	cmd.Flags().StringSliceVar(&layers, "layer", nil, "layers (default seeder.layers or the collection's layer)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "count the tiles, seed nothing")
	cmd.Flags().BoolVar(&truncate, "truncate", false, "remove the tiles instead of seeding them")
	cmd.MarkFlagRequired("interval")
	return cmd
}

// progressBar draws "done/total, rate, ETA" on one line, at most 5 times a
// second, on a terminal or not.
type progressBar struct {
	w     io.Writer
	mu    sync.Mutex
	start time.Time
	last  time.Time
	line  bool
}

func newProgressBar(w io.Writer) *progressBar {
	return &progressBar{w: w, start: time.Now()}
}

func (p *progressBar) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 200*time.Millisecond && done < total {
		return
	}
	p.last = time.Now()
	el := time.Since(p.start).Seconds()
	rate := float64(done) / el
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second).String()
	}
	width := 30
	fill := 0
	if total > 0 {
		fill = width * done / total
	}
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d tiles  %.0f tiles/s  ETA %s   ", strings.Repeat("#", fill), strings.Repeat(".", width-fill), done, total, rate, eta)
	p.line = true
}

func (p *progressBar) finish() {
	if p.line {
		fmt.Fprintln(p.w)
	}
}
