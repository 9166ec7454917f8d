package seed

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/metadata"
	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/tile"
)

// Finder finds products.
type Finder interface {
	Find(ctx context.Context, q catalog.Query) ([]catalog.Record, error)
}

// Tiles renders blocks of tiles into the cache, and removes tiles.
type Tiles interface {
	// RenderBlock draws a block once and stores its tiles under the
	// block's time key and each of also.
	RenderBlock(ctx context.Context, b tile.Block, also []string, want func(tile.Pos) bool) (int, error)
	Purge(ctx context.Context, k tile.Key) error
}

// Progress remembers which blocks of a job are done, so that a job taken
// up again after a crash does not redo them.
type Progress interface {
	Done(ctx context.Context, job string) (map[string]bool, error)
	Mark(ctx context.Context, job, block string) error
	Forget(ctx context.Context, job string) error
}

// Observer learns the tiles each block stored (or removed, when
// truncating), as soon as the block is done: the rate of their sum is the
// seeding speed, which a whole job's total would only show at its end.
type Observer interface {
	TilesDone(n int, truncate bool)
}

// Seeder seeds (or truncates) the tile cache.
type Seeder struct {
	Products   Finder
	Tiles      Tiles
	Progress   Progress // nil: no resumption
	Collection string
	Layers     []string // layers to seed; default the collection's own
	Grid       tile.Grid
	MinZoom    int
	MaxZoom    int
	Format     string
	// MetaTile is the side, in tiles, of the blocks rendered at once.
	MetaTile    int
	Concurrency int
	Log         *slog.Logger
	Observer    Observer // nil: none
}

// Job is one seeding (or truncation).
type Job struct {
	Period   period.Period
	BBox     *[4]float64 // EPSG:4326; nil: wherever the products are
	Layers   []string    // default: the seeder's
	Times    []string    // time keys; default: the period's and the default key
	MinZoom  int
	MaxZoom  int
	Truncate bool
}

// Plan is what a job covers.
type Plan struct {
	Products int
	Levels   map[int][]tile.Pos // tiles touching the products' footprints, per zoom
	Tiles    int                // tiles per layer and time key
	Total    int                // tiles in all: Tiles x layers x time keys
	Blocks   []tile.Block
	want     map[int]map[tile.Pos]bool
}

// JobFor fills a job's defaults from the seeder.
func (s *Seeder) JobFor(p period.Period) Job {
	return Job{Period: p, MinZoom: s.MinZoom, MaxZoom: s.MaxZoom}
}

func (s *Seeder) fill(j *Job) {
	if len(j.Layers) == 0 {
		j.Layers = s.Layers
		if len(j.Layers) == 0 {
			j.Layers = []string{s.Collection}
		}
	}
	if len(j.Times) == 0 {
		// Tiles of the interval itself, and the default (no TIME) tiles,
		// which show the newest products and so change with them.
		j.Times = []string{j.Period.Key(), tile.DefaultTime}
	}
}

// Plan computes the tiles of a job: for every zoom level, the tiles the
// footprints (not the bounding boxes) of the products whose time intersects
// the period touch, within the job's bbox, grouped into metatile blocks.
func (s *Seeder) Plan(ctx context.Context, j Job) (*Plan, error) {
	s.fill(&j)
	recs, err := s.Products.Find(ctx, catalog.Query{Collection: s.Collection, Start: j.Period.Start, End: j.Period.End, BBox: j.BBox})
	if err != nil {
		return nil, err
	}
	pl := &Plan{Products: len(recs), Levels: map[int][]tile.Pos{}, want: map[int]map[tile.Pos]bool{}}
	var clip *[4]float64
	if j.BBox != nil {
		c := s.Grid.FromWGS84(*j.BBox)
		clip = &c
	}
	for _, rec := range recs {
		polys, err := metadata.ParseGeoJSONPolygons([]byte(rec.FootprintGeoJSON))
		if err != nil {
			return nil, fmt.Errorf("footprint of %s: %w", rec.Identifier, err)
		}
		for z := j.MinZoom; z <= j.MaxZoom; z++ {
			if pl.want[z] == nil {
				pl.want[z] = map[tile.Pos]bool{}
			}
			for _, p := range s.Grid.Touching(polys, z) {
				if clip != nil {
					b := s.Grid.BBox(z, p.Row, p.Col)
					if b[0] >= clip[2] || b[2] <= clip[0] || b[1] >= clip[3] || b[3] <= clip[1] {
						continue
					}
				}
				if !pl.want[z][p] {
					pl.want[z][p] = true
					pl.Levels[z] = append(pl.Levels[z], p)
				}
			}
		}
	}
	m := max(s.MetaTile, 1)
	for z := j.MinZoom; z <= j.MaxZoom; z++ {
		ps := pl.Levels[z]
		sort.Slice(ps, func(a, b int) bool { return ps[a].Row < ps[b].Row || ps[a].Row == ps[b].Row && ps[a].Col < ps[b].Col })
		pl.Tiles += len(ps)
		cols, rows := s.Grid.MatrixSize(z)
		blocks := map[tile.Pos]bool{}
		for _, p := range ps {
			bp := tile.Pos{Row: p.Row / m * m, Col: p.Col / m * m}
			if blocks[bp] {
				continue
			}
			blocks[bp] = true
			pl.Blocks = append(pl.Blocks, tile.Block{
				Key:    tile.Key{Grid: s.Grid.Name, Z: z, Format: s.Format},
				MinRow: bp.Row, MinCol: bp.Col, Rows: min(m, rows-bp.Row), Cols: min(m, cols-bp.Col)})
		}
	}
	pl.Total = pl.Tiles * len(j.Layers) * len(j.Times)
	return pl, nil
}

// Stats is what a run did.
type Stats struct {
	Tiles    int // tiles stored or removed
	Skipped  int // tiles of blocks done before a restart
	Products int
	Elapsed  time.Duration
}

// Run carries out the plan for every layer and time key of the job,
// calling progress (if not nil) as tiles are done. Blocks done by an
// earlier, interrupted run of the same job are skipped.
func (s *Seeder) Run(ctx context.Context, j Job, pl *Plan, progress func(done, total int)) (Stats, error) {
	s.fill(&j)
	t0 := time.Now()
	r := &seedRun{s: s, j: j, pl: pl, jobID: progressID(j), progress: progress}
	done := map[string]bool{}
	if s.Progress != nil && !j.Truncate {
		var err error
		if done, err = s.Progress.Done(ctx, r.jobID); err != nil {
			return Stats{}, fmt.Errorf("read seed progress: %w", err)
		}
	}
	works := make(chan blockWork)
	var wg sync.WaitGroup
	for i := 0; i < max(s.Concurrency, 1); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx, works)
		}()
	}
	r.feed(ctx, works, done)
	close(works)
	wg.Wait()
	if progress != nil {
		progress(int(r.count.Load()+r.skipped.Load()), pl.Total)
	}
	st := Stats{Tiles: int(r.count.Load()), Skipped: int(r.skipped.Load()), Products: pl.Products, Elapsed: time.Since(t0)}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	if r.firstErr != nil {
		return st, r.firstErr
	}
	if s.Progress != nil {
		if err := s.Progress.Forget(ctx, r.jobID); err != nil {
			return st, err
		}
	}
	return st, nil
}

// progressID names the job in the progress store: the same period, zoom
// levels, area and kind of run resume each other.
func progressID(j Job) string {
	id := j.Period.Key() + ":" + strconv.Itoa(j.MinZoom) + "-" + strconv.Itoa(j.MaxZoom)
	if j.BBox != nil {
		b, _ := json.Marshal(j.BBox)
		id += ":" + string(b)
	}
	if j.Truncate {
		id += ":truncate"
	}
	return id
}

// blockWork is one block of one layer, for the time keys not done yet.
type blockWork struct {
	b     tile.Block
	times []string
	keys  []string // progress keys, one per time key
}

// seedRun is what the feeder and the workers of one Run share.
type seedRun struct {
	s        *Seeder
	j        Job
	pl       *Plan
	jobID    string
	progress func(done, total int)

	count, skipped atomic.Int64
	once           sync.Once
	firstErr       error
}

// fail keeps the first error of the run.
func (r *seedRun) fail(err error) { r.once.Do(func() { r.firstErr = err }) }

// feed sends every block of every layer to the workers, counting the
// tiles of time keys done before as skipped, until ctx ends.
func (r *seedRun) feed(ctx context.Context, works chan<- blockWork, done map[string]bool) {
	for _, l := range r.j.Layers {
		for _, b := range r.pl.Blocks {
			b.Key.Layer = l
			w := blockWork{b: b}
			for _, tk := range r.j.Times {
				key := fmt.Sprintf("%s/%s/%d/%d/%d", l, tk, b.Key.Z, b.MinRow, b.MinCol)
				if done[key] {
					r.skipped.Add(int64(r.s.wanted(r.pl, b)))
					continue
				}
				w.times, w.keys = append(w.times, tk), append(w.keys, key)
			}
			if len(w.times) == 0 {
				continue
			}
			select {
			case works <- w:
			case <-ctx.Done():
				return
			}
		}
	}
}

// work renders or removes the blocks it receives until works is closed.
func (r *seedRun) work(ctx context.Context, works <-chan blockWork) {
	for w := range works {
		n, err := r.s.block(ctx, r.j, r.pl, w.b, w.times, func(times []string) { r.mark(ctx, w, times) })
		if r.s.Observer != nil && n > 0 {
			r.s.Observer.TilesDone(n, r.j.Truncate)
		}
		if err != nil {
			r.fail(err)
			r.count.Add(int64(n))
			continue
		}
		c := r.count.Add(int64(n))
		if r.progress != nil {
			r.progress(int(c+r.skipped.Load()), r.pl.Total)
		}
	}
}

// mark records the time keys of w in times as done, as soon as their
// tiles are.
func (r *seedRun) mark(ctx context.Context, w blockWork, times []string) {
	if r.s.Progress == nil || r.j.Truncate {
		return
	}
	for i, tk := range w.times {
		for _, done := range times {
			if tk != done {
				continue
			}
			if err := r.s.Progress.Mark(ctx, r.jobID, w.keys[i]); err != nil {
				r.fail(err)
			}
		}
	}
}

func (s *Seeder) wanted(pl *Plan, b tile.Block) int {
	n := 0
	for r := b.MinRow; r < b.MinRow+b.Rows; r++ {
		for c := b.MinCol; c < b.MinCol+b.Cols; c++ {
			if pl.want[b.Key.Z][tile.Pos{Row: r, Col: c}] {
				n++
			}
		}
	}
	return n
}

// block renders (or truncates) one block for the time keys, keeping only
// planned tiles. Keys whose tiles show the same products are drawn once.
func (s *Seeder) block(ctx context.Context, j Job, pl *Plan, b tile.Block, times []string, done func([]string)) (int, error) {
	want := func(p tile.Pos) bool { return pl.want[b.Key.Z][p] }
	n := 0
	if !j.Truncate {
		b, ok := wantedPart(b, want)
		if !ok {
			return 0, nil
		}
		var first error
		for _, group := range s.sameImages(ctx, j, b, times) {
			b.Key.Time = group[0]
			m, err := s.Tiles.RenderBlock(ctx, b, group[1:], want)
			if err != nil {
				first = cmp.Or(first, err)
				continue
			}
			n += m
			done(group)
		}
		return n, first
	}
	for _, tk := range times {
		for r := b.MinRow; r < b.MinRow+b.Rows; r++ {
			for c := b.MinCol; c < b.MinCol+b.Cols; c++ {
				if !want(tile.Pos{Row: r, Col: c}) {
					continue
				}
				k := b.Key
				k.Time, k.Row, k.Col = tk, r, c
				if err := s.Tiles.Purge(ctx, k); err != nil {
					return n, err
				}
				n++
			}
		}
	}
	return n, nil
}

// wantedPart is the smallest rectangle of the block's tiles that holds
// every tile want accepts: on a footprint's edge a block is drawn only
// where it is stored. ok is false when want accepts none.
func wantedPart(b tile.Block, want func(tile.Pos) bool) (part tile.Block, ok bool) {
	minR, minC, maxR, maxC := b.MinRow+b.Rows, b.MinCol+b.Cols, -1, -1
	for r := b.MinRow; r < b.MinRow+b.Rows; r++ {
		for c := b.MinCol; c < b.MinCol+b.Cols; c++ {
			if want(tile.Pos{Row: r, Col: c}) {
				minR, minC, maxR, maxC = min(minR, r), min(minC, c), max(maxR, r), max(maxC, c)
			}
		}
	}
	if maxR < 0 {
		return b, false
	}
	b.MinRow, b.MinCol, b.Rows, b.Cols = minR, minC, maxR-minR+1, maxC-minC+1
	return b, true
}

// sameImages groups time keys whose tiles of a block are the same images:
// the job's interval and the default key (every product) draw the same
// products when no product outside the interval touches the block. Any
// doubt (a failed query, too many products) keeps the keys apart.
func (s *Seeder) sameImages(ctx context.Context, j Job, b tile.Block, times []string) [][]string {
	apart := make([][]string, len(times))
	for i, tk := range times {
		apart[i] = []string{tk}
	}
	if len(times) != 2 || times[0] != j.Period.Key() || times[1] != tile.DefaultTime {
		return apart
	}
	g, ok := tile.Lookup(b.Key.Grid)
	if !ok {
		return apart
	}
	nw := g.BBox(b.Key.Z, b.MinRow, b.MinCol)
	se := g.BBox(b.Key.Z, b.MinRow+b.Rows-1, b.MinCol+b.Cols-1)
	box := g.ToWGS84([4]float64{nw[0], se[1], se[2], nw[3]})
	const limit = 200
	recs, err := s.Products.Find(ctx, catalog.Query{Collection: s.Collection, BBox: &box, Limit: limit})
	if err != nil || len(recs) >= limit {
		return apart
	}
	for _, r := range recs {
		if r.BeginTime.After(j.Period.End) || r.EndTime.Before(j.Period.Start) {
			return apart
		}
	}
	return [][]string{times}
}

// Handle is the queue.Handler of seed_queue: it seeds the item's interval
// at the configured zoom levels.
func (s *Seeder) Handle(ctx context.Context, it queue.Item) (string, error) {
	p, err := period.Parse(it.Value)
	if err != nil {
		return "", queue.Permanent(fmt.Errorf("invalid seed_queue item: %w", err))
	}
	j := s.JobFor(p)
	pl, err := s.Plan(ctx, j)
	if err != nil {
		return "", err
	}
	st, err := s.Run(ctx, j, pl, nil)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("seeded %d tiles (%d blocks, %d done before) of %d products, zoom %d-%d, in %.1fs",
		st.Tiles, len(pl.Blocks), st.Skipped, st.Products, j.MinZoom, j.MaxZoom, st.Elapsed.Seconds()), nil
}

// RedisProgress keeps job progress in Redis sets, shared by the seeders.
type RedisProgress struct {
	RDB    redis.UniversalClient
	Prefix string
}

func (r RedisProgress) key(job string) string { return r.Prefix + "pvs:seed:done:" + job }

// Done implements Progress.
func (r RedisProgress) Done(ctx context.Context, job string) (map[string]bool, error) {
	ms, err := r.RDB.SMembers(ctx, r.key(job)).Result()
	out := make(map[string]bool, len(ms))
	for _, m := range ms {
		out[m] = true
	}
	return out, err
}

// Mark implements Progress. Progress of a job left unfinished for a week
// is forgotten.
func (r RedisProgress) Mark(ctx context.Context, job, block string) error {
	_, err := r.RDB.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, r.key(job), block)
		p.Expire(ctx, r.key(job), 7*24*time.Hour)
		return nil
	})
	return err
}

// Forget implements Progress.
func (r RedisProgress) Forget(ctx context.Context, job string) error {
	return r.RDB.Del(ctx, r.key(job)).Err()
}
