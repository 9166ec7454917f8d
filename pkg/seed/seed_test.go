package seed

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/tile"
)

type products []catalog.Record

func (p products) Find(ctx context.Context, q catalog.Query) ([]catalog.Record, error) {
	return p, nil
}

type fakeTiles struct {
	mu      sync.Mutex
	blocks  int
	stored  map[tile.Key]bool
	purged  map[tile.Key]bool
	failAt  int // fail the n-th block (1-based), once
	calls   int
	maxSide int
	drawn   []tile.Block
}

func (f *fakeTiles) RenderBlock(ctx context.Context, b tile.Block, also []string, want func(tile.Pos) bool) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls == f.failAt {
		return 0, errors.New("renderer down")
	}
	f.blocks++
	f.maxSide = max(f.maxSide, b.Rows, b.Cols)
	f.drawn = append(f.drawn, b)
	n := 0
	for _, tk := range append([]string{b.Key.Time}, also...) {
		for r := b.MinRow; r < b.MinRow+b.Rows; r++ {
			for c := b.MinCol; c < b.MinCol+b.Cols; c++ {
				if want(tile.Pos{Row: r, Col: c}) {
					k := b.Key
					k.Time, k.Row, k.Col = tk, r, c
					f.stored[k] = true
					n++
				}
			}
		}
	}
	return n, nil
}

func (f *fakeTiles) Purge(ctx context.Context, k tile.Key) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.purged[k] = true
	return nil
}

type memProgress struct {
	mu   sync.Mutex
	done map[string]map[string]bool
}

func (m *memProgress) Done(ctx context.Context, job string) (map[string]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]bool{}
	for k := range m.done[job] {
		out[k] = true
	}
	return out, nil
}
func (m *memProgress) Mark(ctx context.Context, job, block string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done[job] == nil {
		m.done[job] = map[string]bool{}
	}
	m.done[job][block] = true
	return nil
}
func (m *memProgress) Forget(ctx context.Context, job string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.done, job)
	return nil
}

// A thin diagonal strip: its bounding box covers many tiles its footprint
// does not touch.
const strip = `{"type":"Polygon","coordinates":[[[10,40],[10.2,40],[14.2,44],[14,44],[10,40]]]}`

func seeder(t *fakeTiles, pr Progress) *Seeder {
	return &Seeder{Products: products{{Identifier: "P", FootprintGeoJSON: strip}}, Tiles: t, Progress: pr,
		Collection: "C", Grid: tile.WorldCRS84Quad, MinZoom: 6, MaxZoom: 8, Format: "png", MetaTile: 4, Concurrency: 2}
}

func TestPlanFollowsFootprintsAndGroupsBlocks(t *testing.T) {
	s := seeder(&fakeTiles{}, nil)
	p, _ := period.Parse("2018-06-15/2018-06-16")
	pl, err := s.Plan(context.Background(), s.JobFor(p))
	if err != nil {
		t.Fatal(err)
	}
	for z := 6; z <= 8; z++ {
		r, _ := s.Grid.Covering([4]float64{10, 40, 14.2, 44}, z)
		if len(pl.Levels[z]) >= r.Count() {
			t.Errorf("z%d: %d tiles planned, as many as the bbox's %d: footprint not followed", z, len(pl.Levels[z]), r.Count())
		}
		if len(pl.Levels[z]) == 0 {
			t.Errorf("z%d: nothing planned", z)
		}
	}
	if pl.Total != pl.Tiles*2 {
		t.Errorf("total %d, want tiles x (interval key + default key) = %d", pl.Total, pl.Tiles*2)
	}
	if len(pl.Blocks) >= pl.Tiles {
		t.Errorf("%d blocks for %d tiles: metatiles not used", len(pl.Blocks), pl.Tiles)
	}
}

func TestRunSeedsEveryPlannedTileAndResumes(t *testing.T) {
	ft := &fakeTiles{stored: map[tile.Key]bool{}, purged: map[tile.Key]bool{}, failAt: 5}
	pr := &memProgress{done: map[string]map[string]bool{}}
	s := seeder(ft, pr)
	s.Concurrency = 1
	p, _ := period.Parse("2018-06-15/2018-06-16")
	j := s.JobFor(p)
	pl, _ := s.Plan(context.Background(), j)
	var last int
	_, err := s.Run(context.Background(), j, pl, func(done, total int) { last = done })
	if err == nil {
		t.Fatal("a failing block did not fail the run")
	}
	before := ft.blocks
	st, err := s.Run(context.Background(), j, pl, func(done, total int) { last = done })
	if err != nil {
		t.Fatal(err)
	}
	if ft.blocks-before != 1 {
		t.Errorf("the rerun rendered %d blocks, want only the failed one", ft.blocks-before)
	}
	if st.Skipped+st.Tiles != pl.Total || last != pl.Total {
		t.Errorf("skipped %d + seeded %d (progress %d), want %d", st.Skipped, st.Tiles, last, pl.Total)
	}
	if len(ft.stored) != pl.Total {
		t.Errorf("%d distinct tiles stored, want %d", len(ft.stored), pl.Total)
	}
	for k := range ft.stored {
		found := false
		for _, p := range pl.Levels[k.Z] {
			found = found || (p == tile.Pos{Row: k.Row, Col: k.Col})
		}
		if !found {
			t.Errorf("tile %s stored but not planned", k)
		}
	}
	if len(pr.done) != 0 {
		t.Error("progress kept after a finished job")
	}
	if ft.maxSide > 4 {
		t.Errorf("blocks of %d tiles a side, want at most 4", ft.maxSide)
	}
	// Truncation removes the same tiles.
	j.Truncate = true
	if _, err := s.Run(context.Background(), j, pl, nil); err != nil {
		t.Fatal(err)
	}
	if len(ft.purged) != pl.Total {
		t.Errorf("truncate removed %d tiles, want %d", len(ft.purged), pl.Total)
	}
}

func TestHandle(t *testing.T) {
	ft := &fakeTiles{stored: map[tile.Key]bool{}, purged: map[tile.Key]bool{}}
	s := seeder(ft, nil)
	res, err := s.Handle(context.Background(), queue.Item{Value: "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z"})
	if err != nil || len(ft.stored) == 0 {
		t.Fatalf("%q %v", res, err)
	}
	if _, err := s.Handle(context.Background(), queue.Item{Value: "not a time"}); err == nil || !queue.IsPermanent(err) {
		t.Errorf("bad item: %v", err)
	}

}

// When every product touching a block lies in the job's interval, the
// interval's tiles and the default tiles are the same images: drawn once,
// stored under both keys. A product of another time keeps them apart.
func TestTimeKeysShareARenderingWhenTheyShowTheSameProducts(t *testing.T) {
	p, _ := period.Parse("2018-06-15/2018-06-16")
	in := catalog.Record{Identifier: "IN", FootprintGeoJSON: strip, BeginTime: p.Start.Add(time.Hour), EndTime: p.Start.Add(2 * time.Hour)}
	out := in
	out.Identifier, out.BeginTime, out.EndTime = "OUT", p.End.Add(time.Hour), p.End.Add(2*time.Hour)
	for _, c := range []struct {
		name   string
		recs   products
		shared bool
	}{{"only products of the interval", products{in}, true}, {"a product of another day", products{in, out}, false}} {
		ft := &fakeTiles{stored: map[tile.Key]bool{}, purged: map[tile.Key]bool{}}
		s := seeder(ft, nil)
		s.Products = c.recs
		j := s.JobFor(p)
		pl, err := s.Plan(context.Background(), j)
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.Run(context.Background(), j, pl, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantCalls := len(pl.Blocks) * 2
		if c.shared {
			wantCalls = len(pl.Blocks)
		}
		if ft.calls != wantCalls || st.Tiles != pl.Total || len(ft.stored) != pl.Total {
			t.Errorf("%s: %d renderings for %d blocks (want %d); %d tiles stored, %d distinct, want %d",
				c.name, ft.calls, len(pl.Blocks), wantCalls, st.Tiles, len(ft.stored), pl.Total)
		}
	}
}

type tileCount struct {
	mu                sync.Mutex
	seeded, truncated int
}

func (c *tileCount) TilesDone(n int, truncate bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if truncate {
		c.truncated += n
	} else {
		c.seeded += n
	}
}

// The observer hears of every tile the run counts, seeded and truncated
// apart, as blocks finish.
func TestObserverCountsTheTilesOfEveryBlock(t *testing.T) {
	ft := &fakeTiles{stored: map[tile.Key]bool{}, purged: map[tile.Key]bool{}}
	s := seeder(ft, nil)
	var c tileCount
	s.Observer = &c
	p, _ := period.Parse("2018-06-15/2018-06-16")
	j := s.JobFor(p)
	pl, _ := s.Plan(context.Background(), j)
	st, err := s.Run(context.Background(), j, pl, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.seeded != st.Tiles || c.seeded != pl.Total || c.truncated != 0 {
		t.Errorf("observed %d seeded, %d truncated; the run seeded %d of %d", c.seeded, c.truncated, st.Tiles, pl.Total)
	}
	j.Truncate = true
	if _, err := s.Run(context.Background(), j, pl, nil); err != nil {
		t.Fatal(err)
	}
	if c.truncated != pl.Total {
		t.Errorf("observed %d truncated, want %d", c.truncated, pl.Total)
	}
}

func TestBlocksAreDrawnOnlyWhereTilesAreWanted(t *testing.T) {
	ft := &fakeTiles{stored: map[tile.Key]bool{}, purged: map[tile.Key]bool{}}
	s := seeder(ft, nil)
	p, _ := period.Parse("2018-06-15/2018-06-16")
	j := s.JobFor(p)
	pl, err := s.Plan(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(context.Background(), j, pl, nil); err != nil {
		t.Fatal(err)
	}
	drawnTiles, fullTiles := 0, 0
	for _, b := range pl.Blocks {
		fullTiles += b.Rows * b.Cols
	}
	for _, b := range ft.drawn {
		drawnTiles += b.Rows * b.Cols
		// Every outer row and column of a drawn block holds a wanted tile.
		edge := func(r0, c0, dr, dc, n int) bool {
			for i := 0; i < n; i++ {
				if pl.want[b.Key.Z][tile.Pos{Row: r0 + i*dr, Col: c0 + i*dc}] {
					return true
				}
			}
			return false
		}
		last := [2]int{b.MinRow + b.Rows - 1, b.MinCol + b.Cols - 1}
		if !edge(b.MinRow, b.MinCol, 0, 1, b.Cols) || !edge(last[0], b.MinCol, 0, 1, b.Cols) ||
			!edge(b.MinRow, b.MinCol, 1, 0, b.Rows) || !edge(b.MinRow, last[1], 1, 0, b.Rows) {
			t.Errorf("block z%d %d/%d %dx%d has an outer row or column without a wanted tile", b.Key.Z, b.MinRow, b.MinCol, b.Rows, b.Cols)
		}
	}
	if len(ft.stored) != pl.Total {
		t.Errorf("%d tiles stored, plan %d", len(ft.stored), pl.Total)
	}
	// Blocks of both time keys are drawn once (one rendering for both).
	if drawnTiles >= fullTiles {
		t.Errorf("%d tiles drawn, the whole blocks have %d: blocks not trimmed to their wanted tiles", drawnTiles, fullTiles)
	}
}

func TestWantedPart(t *testing.T) {
	b := tile.Block{MinRow: 8, MinCol: 4, Rows: 4, Cols: 4}
	for _, tc := range []struct {
		want []tile.Pos
		part [4]int // MinRow, MinCol, Rows, Cols
		ok   bool
	}{
		{nil, [4]int{}, false},
		{[]tile.Pos{{Row: 9, Col: 6}}, [4]int{9, 6, 1, 1}, true},
		{[]tile.Pos{{Row: 8, Col: 7}, {Row: 11, Col: 4}}, [4]int{8, 4, 4, 4}, true},
		{[]tile.Pos{{Row: 10, Col: 5}, {Row: 11, Col: 5}, {Row: 12, Col: 5}}, [4]int{10, 5, 2, 1}, true}, // row 12 is outside
	} {
		set := map[tile.Pos]bool{}
		for _, p := range tc.want {
			set[p] = true
		}
		part, ok := wantedPart(b, func(p tile.Pos) bool { return set[p] })
		if ok != tc.ok || ok && [4]int{part.MinRow, part.MinCol, part.Rows, part.Cols} != tc.part {
			t.Errorf("wanted %v: part %d/%d %dx%d %v, want %v %v", tc.want, part.MinRow, part.MinCol, part.Rows, part.Cols, ok, tc.part, tc.ok)
		}
	}
}
