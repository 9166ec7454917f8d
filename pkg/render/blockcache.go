package render

import (
	"math/rand/v2"
	"sync"
	"unsafe"

	"github.com/airbusgeo/godal"
)

// BlockCache keeps decoded blocks of the pooled COGs, shared by every
// handle of a file. GDAL's own block cache belongs to a dataset handle:
// with a handle per concurrent request, each decodes and keeps its own
// copy of the same blocks, so a large scene is decompressed again and
// again, and memory holds it several times over. Blocks here are decoded
// once, by whichever handle asks first (the others wait for it), and live
// outside the Go heap, so that the memory they take is exactly the
// cache's budget, without the garbage collector's headroom on top.
type BlockCache struct {
	max int64

	mu   sync.Mutex
	used int64
	all  []*block // the blocks held, in no order
	m    map[blockKey]*block
	// free holds the memory of dropped blocks for the next ones (a
	// scene's blocks are all alike): mapping and unmapping memory for
	// every block would cost system calls and page faults under load.
	free [][]byte
	// Counters for Stats.
	hits, misses int64
	// evictions since the blocks' use counts were last halved.
	evictions int
}

type blockKey struct {
	file   string // the path and the Handle key (its version)
	level  int    // overview index, -1 for full resolution
	band   int    // 1-based
	bx, by int
}

type block struct {
	key     blockKey
	mem     []byte // off the Go heap; nil once freed
	size    int64
	pins    int
	uses    uint32 // hits since decoded, halved as the cache turns over
	evicted bool
	at      int // index in all
	ready   chan struct{}
	err     error
}

// NewBlockCache returns a cache holding at most maxBytes of decoded blocks.
func NewBlockCache(maxBytes int64) *BlockCache {
	return &BlockCache{max: maxBytes, m: map[blockKey]*block{}}
}

// get returns the block of key, pinned, decoding it with load into n
// bytes if it is not cached. Release it after use.
func (c *BlockCache) get(key blockKey, n int, load func([]byte) error) (*block, error) {
	c.mu.Lock()
	if b, ok := c.m[key]; ok {
		b.pins++
		b.uses++
		c.hits++
		c.mu.Unlock()
		<-b.ready
		if b.err != nil {
			c.release(b)
			return nil, b.err
		}
		return b, nil
	}
	c.misses++
	size := int64(n+4095) &^ 4095
	c.used += size
	c.evictLocked()
	var mem []byte
	for i := len(c.free) - 1; i >= 0; i-- {
		if cap(c.free[i]) == int(size) {
			mem = c.free[i][:size]
			c.free[i] = c.free[len(c.free)-1]
			c.free = c.free[:len(c.free)-1]
			break
		}
	}
	if mem == nil {
		var err error
		if mem, err = allocBlock(int(size)); err != nil {
			c.used -= size
			c.mu.Unlock()
			return nil, err
		}
	}
	b := &block{key: key, mem: mem, size: size, pins: 1, ready: make(chan struct{}), at: len(c.all)}
	c.all = append(c.all, b)
	c.m[key] = b
	c.mu.Unlock()
	b.err = load(b.mem[:n])
	close(b.ready)
	if b.err != nil {
		c.mu.Lock()
		c.dropLocked(b)
		c.mu.Unlock()
		c.release(b)
		return nil, b.err
	}
	return b, nil
}

// release unpins a block; an evicted block is freed by its last user.
func (c *BlockCache) release(b *block) {
	c.mu.Lock()
	b.pins--
	if b.pins == 0 && b.evicted && b.mem != nil {
		c.recycleLocked(b)
	}
	c.mu.Unlock()
}

// dropLocked takes b out of the cache; its memory goes when unpinned.
func (c *BlockCache) dropLocked(b *block) {
	if b.evicted {
		return
	}
	b.evicted = true
	last := c.all[len(c.all)-1]
	c.all[b.at], last.at = last, b.at
	c.all = c.all[:len(c.all)-1]
	if c.m[b.key] == b {
		delete(c.m, b.key)
	}
	c.used -= b.size
	if b.pins == 0 && b.mem != nil {
		c.recycleLocked(b)
	}
}

// maxFree bounds the memory kept for reuse, in blocks.
const maxFree = 16

// recycleLocked keeps a dropped, unused block's memory for the next block,
// or gives it back.
func (c *BlockCache) recycleLocked(b *block) {
	if len(c.free) < maxFree {
		c.free = append(c.free, b.mem[:cap(b.mem)])
	} else {
		freeBlock(b.mem)
	}
	b.mem = nil
}

// evictSample is how many blocks an eviction weighs.
const evictSample = 5

// evictLocked drops blocks until the budget holds: each time, of a few
// blocks drawn at random, the least used. Once as many blocks have been
// dropped as the cache holds, every use count is halved, so that use long
// past fades. A map's blocks come back in no order an LRU list could
// follow: a request load over more blocks than the budget, repeated
// (users panning over a large scene, a seeding run), would find none of
// them under LRU, each pushed out just before its next use; drawn at
// random a share of them stays. Weighing use keeps what most requests
// share (the overviews' blocks, which the zoomed-out maps read) over the
// full-resolution blocks each deep zoom reads once.
// Pinned blocks are dropped too: their memory goes with their last user.
func (c *BlockCache) evictLocked() {
	for c.used > c.max && len(c.all) > 0 {
		victim := c.all[rand.IntN(len(c.all))]
		for range evictSample - 1 {
			if b := c.all[rand.IntN(len(c.all))]; b.uses < victim.uses {
				victim = b
			}
		}
		c.dropLocked(victim)
		if c.evictions++; c.evictions >= len(c.all) {
			for _, b := range c.all {
				b.uses /= 2
			}
			c.evictions = 0
		}
	}
}

// Stats returns the bytes held, the budget, and the hits and misses so far.
func (c *BlockCache) Stats() (used, max, hits, misses int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, c.max, c.hits, c.misses
}

// asT views block memory as values of T.
func asT[T byte | uint16](b []byte) []T {
	if len(b) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/int(unsafe.Sizeof(z)))
}

// readCached fills the window's buffers (one per band, of the band's data
// type) from cached blocks of the window's level, decoding the blocks not
// cached through h. All bands of a block are read one after the
// other: GDAL decodes a pixel-interleaved block once for all of them.
func readCached[T byte | uint16](c *BlockCache, h *Handle, at func(godal.Band) godal.Band, bands []int, win window, dst [][]T) error {
	first := at(h.Bands[bands[0]-1])
	st := first.Structure()
	bw, bh := st.BlockSizeX, st.BlockSizeY
	if bw <= 0 || bh <= 0 {
		bw, bh = 256, 256
	}
	lw, lh := st.SizeX, st.SizeY
	var z T
	size := int(unsafe.Sizeof(z))
	file := h.path + "\x00" + h.key
	for by := win.y0 / bh; by*bh < win.y0+win.h; by++ {
		for bx := win.x0 / bw; bx*bw < win.x0+win.w; bx++ {
			cw, ch := min(bw, lw-bx*bw), min(bh, lh-by*bh)
			ox0, oy0 := max(win.x0, bx*bw), max(win.y0, by*bh)
			ox1, oy1 := min(win.x0+win.w, bx*bw+cw), min(win.y0+win.h, by*bh+ch)
			for i, band := range bands {
				src := at(h.Bands[band-1])
				blk, err := c.get(blockKey{file, win.level, band, bx, by}, cw*ch*size, func(mem []byte) error {
					return src.Read(bx*bw, by*bh, asT[T](mem), cw, ch)
				})
				if err != nil {
					return err
				}
				px := asT[T](blk.mem)
				out := dst[i]
				for y := oy0; y < oy1; y++ {
					so := (y-by*bh)*cw + ox0 - bx*bw
					do := (y-win.y0)*win.w + ox0 - win.x0
					copy(out[do:do+ox1-ox0], px[so:so+ox1-ox0])
				}
				c.release(blk)
			}
		}
	}
	return nil
}

// sharedBlocks is the block cache of the pools that name none: one per
// process, made on first use. It takes over GDAL's block cache budget
// (GDAL_CACHEMAX, which the renderer sizes from the memory it may use)
// but for the share GDAL keeps for the blocks it decodes on the way here
// and for the warper (other data types, band expressions): an eighth of
// the budget, between 32 and 256 MB and at most half. The decoded blocks
// are then held once, not once per open handle.
var sharedBlocks = sync.OnceValue(func() *BlockCache {
	total := gdalCacheMax()
	keep := min(max(total/8, 32<<20), 256<<20, total/2)
	setGDALCacheMax(keep)
	return NewBlockCache(total - keep)
})

// SharedBlocks is the process's shared block cache (see sharedBlocks),
// made now if it is not yet: after GDAL's block cache is sized.
func SharedBlocks() *BlockCache { return sharedBlocks() }
