package ops

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/pvs/pvs/pkg/crs"
	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/seed"
	"github.com/pvs/pvs/pkg/tile"
)

// SeedRequest is a seeding (or truncation) of the tile cache. Empty fields
// take the seeder's configuration.
type SeedRequest struct {
	Interval string   `json:"interval"`           // ISO 8601 start/end of the products (required)
	Zoom     string   `json:"zoom,omitempty"`     // N or MIN-MAX
	BBox     string   `json:"bbox,omitempty"`     // minlon,minlat,maxlon,maxlat
	Grid     string   `json:"grid,omitempty"`     // tile matrix set
	Layers   []string `json:"layers,omitempty"`   // layers
	DryRun   bool     `json:"dry_run,omitempty"`  // count the tiles only
	Truncate bool     `json:"truncate,omitempty"` // remove the tiles instead
}

// SeedJob is a checked request with its plan, ready to run.
type SeedJob struct {
	seeder *seed.Seeder
	Job    seed.Job
	Plan   *seed.Plan
}

// Verb is "seed" or "truncate".
func (j *SeedJob) Verb() string {
	if j.Job.Truncate {
		return "truncate"
	}
	return "seed"
}

// LevelTiles is the number of tiles of one zoom level.
type LevelTiles struct {
	Zoom  int `json:"zoom"`
	Tiles int `json:"tiles"`
}

// SeedSummary is a plan, and once run, what it did.
type SeedSummary struct {
	Verb     string       `json:"verb"` // seed or truncate
	Products int          `json:"products"`
	Tiles    int          `json:"tiles_per_layer_and_time"`
	Total    int          `json:"tiles_total"`
	Blocks   int          `json:"blocks"`
	MinZoom  int          `json:"min_zoom"`
	MaxZoom  int          `json:"max_zoom"`
	Levels   []LevelTiles `json:"levels"`
	Ran      bool         `json:"ran"` // false for a dry run
	Done     int          `json:"tiles_done,omitempty"`
	Skipped  int          `json:"tiles_done_before_restart,omitempty"`
	Seconds  float64      `json:"seconds,omitempty"`
}

// Summary describes the job's plan.
func (j *SeedJob) Summary() SeedSummary {
	s := SeedSummary{Verb: j.Verb(), Products: j.Plan.Products, Tiles: j.Plan.Tiles, Total: j.Plan.Total,
		Blocks: len(j.Plan.Blocks), MinZoom: j.Job.MinZoom, MaxZoom: j.Job.MaxZoom, Levels: []LevelTiles{}}
	for z := j.Job.MinZoom; z <= j.Job.MaxZoom; z++ {
		s.Levels = append(s.Levels, LevelTiles{Zoom: z, Tiles: len(j.Plan.Levels[z])})
	}
	return s
}

// PlanSeed checks a request and computes the tiles it covers.
func (o *Ops) PlanSeed(ctx context.Context, r SeedRequest) (*SeedJob, error) {
	if o.Seeder == nil {
		return nil, fmt.Errorf("seed now: %w", ErrUnavailable)
	}
	s := *o.Seeder // a copy: the grid is the request's
	if r.Grid != "" {
		gr, ok := tile.Lookup(r.Grid)
		if !ok {
			return nil, invalid("grid", "unknown grid %q", r.Grid)
		}
		s.Grid = gr
	}
	if r.Interval == "" {
		return nil, invalid("interval", "required: the ISO 8601 start/end of the products to seed")
	}
	p, err := period.Parse(r.Interval)
	if err != nil {
		return nil, invalid("interval", "%v", err)
	}
	j := s.JobFor(p)
	if r.Zoom != "" {
		if j.MinZoom, j.MaxZoom, err = ParseZoom(r.Zoom); err != nil {
			return nil, err
		}
	}
	if r.BBox != "" {
		b, err := crs.ParseBBox(r.BBox)
		if err != nil {
			return nil, invalid("bbox", "%v", err)
		}
		j.BBox = &b
	}
	j.Layers, j.Truncate = r.Layers, r.Truncate
	pl, err := s.Plan(ctx, j)
	if err != nil {
		return nil, err
	}
	return &SeedJob{seeder: &s, Job: j, Plan: pl}, nil
}

// Run seeds (or truncates) the planned tiles, telling progress how far it
// is (nil: nobody).
func (j *SeedJob) Run(ctx context.Context, progress func(done, total int)) (seed.Stats, error) {
	return j.seeder.Run(ctx, j.Job, j.Plan, progress)
}

// Seed plans the request and, unless it is a dry run, runs it.
func (o *Ops) Seed(ctx context.Context, r SeedRequest) (SeedSummary, error) {
	j, err := o.PlanSeed(ctx, r)
	if err != nil {
		return SeedSummary{}, err
	}
	sum := j.Summary()
	if r.DryRun {
		return sum, nil
	}
	st, err := j.Run(ctx, nil)
	if err != nil {
		return sum, err
	}
	sum.Ran, sum.Done, sum.Skipped, sum.Seconds = true, st.Tiles, st.Skipped, st.Elapsed.Seconds()
	return sum, nil
}

// ParseZoom reads N or MIN-MAX within 0-24.
func ParseZoom(s string) (int, int, error) {
	a, b, found := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(a)
	hi := lo
	var err2 error
	if found {
		hi, err2 = strconv.Atoi(b)
	}
	if err1 != nil || err2 != nil || lo < 0 || hi < lo || hi > 24 {
		return 0, 0, invalid("zoom", "%q: want N or MIN-MAX within 0-24", s)
	}
	return lo, hi, nil
}
