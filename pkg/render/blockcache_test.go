package render

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/crs"
)

// A block is decoded once however many ask for it at the same time; the
// budget holds; a block dropped while in use stays readable until released;
// a failed decode is not kept.
func TestBlockCacheDecodesOnceAndBounds(t *testing.T) {
	t.Parallel()
	c := NewBlockCache(3 * 4096)
	var loads atomic.Int64
	load := func(v byte) func([]byte) error {
		return func(b []byte) error {
			loads.Add(1)
			for i := range b {
				b[i] = v
			}
			return nil
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := c.get(blockKey{file: "f", bx: 1}, 4096, load(7))
			if err != nil {
				t.Error(err)
				return
			}
			if b.mem[4095] != 7 {
				t.Error("a block read before it was decoded")
			}
			c.release(b)
		}()
	}
	wg.Wait()
	if loads.Load() != 1 {
		t.Errorf("decoded %d times, want once", loads.Load())
	}
	held, _ := c.get(blockKey{file: "f", bx: 2}, 4096, load(9))
	for i := 3; i < 10; i++ {
		b, _ := c.get(blockKey{file: "f", bx: i}, 4096, load(byte(i)))
		c.release(b)
	}
	if used, max, _, _ := c.Stats(); used > max {
		t.Errorf("%d bytes held, budget %d", used, max)
	}
	if held.mem[0] != 9 {
		t.Error("a block in use was freed")
	}
	c.release(held)
	if _, err := c.get(blockKey{file: "g"}, 4096, func([]byte) error { return errors.New("broken") }); err == nil {
		t.Error("a failed decode returned no error")
	}
	b, err := c.get(blockKey{file: "g"}, 4096, load(1))
	if err != nil || b.mem[0] != 1 {
		t.Errorf("a failed decode was kept: %v", err)
	}
	c.release(b)
}

// Handles of one file share their decoded blocks: a second handle's
// drawing decodes nothing, and draws the same pixels.
func TestBlockCacheSharedAcrossHandles(t *testing.T) {
	cog.Init()
	dir := t.TempDir()
	name := toCOG(t, dir, "RGB.byte.tif")
	path := filepath.Join(dir, name)
	info, err := cog.Describe(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	gt := info.GeoTransform
	native, err := crs.Parse(info.CRS)
	if err != nil {
		t.Fatal(err)
	}
	fx, fy := float64(info.Width), float64(info.Height)
	req := Request{Browse: config.Browse{Name: "B", Bands: []int{1, 2, 3}, Resampling: "nearest"}, CRS: native,
		BBox:  [4]float64{gt[0] + gt[1]*fx/4, gt[3] + gt[5]*fy*3/4, gt[0] + gt[1]*fx*3/4, gt[3] + gt[5]*fy/4},
		Width: info.Width / 2, Height: info.Height / 2}
	// Max 0: every handle is closed after its request, so the second
	// drawing reads through a new handle, whose GDAL cache is empty.
	pool := newPool(0)
	pool.Blocks = NewBlockCache(64 << 20)
	r := &Renderer{Objects: dirLocator(dir), MaxProducts: 10, Products: fixedFinder{rec("P", name)}, Pool: pool}
	a, _, err := r.Render(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, misses := pool.Blocks.Stats()
	if misses == 0 {
		t.Fatal("no block read through the cache")
	}
	b, _, err := r.Render(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, m := pool.Blocks.Stats(); m != misses {
		t.Errorf("the second drawing decoded %d blocks again", m-misses)
	}
	if string(a.Pix) != string(b.Pix) {
		t.Error("the cached blocks drew other pixels")
	}
}

// Under a load over more blocks than the budget, the blocks most requests
// share stay: half the reads go to 40 blocks, half to 2,000 read about
// once each, and the budget holds 100. Evicting at random, the shared
// blocks were found 65 % of the time.
func TestBlockCacheKeepsTheBlocksInUse(t *testing.T) {
	t.Parallel()
	c := NewBlockCache(100 * 4096)
	load := func([]byte) error { return nil }
	rng := rand.New(rand.NewPCG(1, 2))
	hot, hotHits := 0, 0
	for i := range 40000 {
		key := blockKey{file: "cold", bx: rng.IntN(2000)}
		if i%2 == 0 {
			key = blockKey{file: "hot", bx: rng.IntN(40)}
		}
		_, _, hits, _ := c.Stats()
		b, err := c.get(key, 4096, load)
		if err != nil {
			t.Fatal(err)
		}
		c.release(b)
		if _, _, after, _ := c.Stats(); i >= 20000 && i%2 == 0 {
			hot++
			if after > hits {
				hotHits++
			}
		}
	}
	rate := float64(hotHits) / float64(hot)
	t.Logf("the shared blocks were found %.1f %% of the time", 100*rate)
	if rate < 0.9 {
		t.Errorf("the shared blocks were found %.0f %% of the time, want ≥ 90 %%", 100*rate)
	}
}
