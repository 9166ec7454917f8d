package render

import (
	"container/list"
	"sync"

	"github.com/airbusgeo/godal"
)

// Pool keeps opened COGs for reuse across requests. GDAL dataset handles
// are not safe for concurrent use, so a handle serves one request at a
// time: Get takes an idle handle of the file or opens another, Put gives
// it back. Idle handles beyond Max are closed, least recently used first.
// Keeping handles open also keeps their decoded blocks in GDAL's block
// cache, and their transformations to the request CRSs.
type Pool struct {
	Max  int
	Open func(path string) (*godal.Dataset, error)
	// Blocks holds the decoded blocks every handle of a file shares; nil
	// means the process's shared cache, which takes over most of GDAL's
	// block cache budget (see sharedBlocks).
	Blocks *BlockCache

	mu    sync.Mutex
	idle  map[string][]*list.Element
	lru   *list.List // of *Handle, idle only, most recent at the front
	total int        // open handles, idle or in use
}

// Handle is one opened dataset and what was read of it once.
type Handle struct {
	key    string
	path   string
	blocks *BlockCache
	DS     *godal.Dataset
	SRS    *godal.SpatialRef // nil when the dataset has none
	GT     [6]float64
	GTErr  error
	Width  int
	Height int
	Bands  []godal.Band
	// to holds transformations from request CRSs (EPSG codes) to SRS.
	to map[int]*godal.Transform
}

func (h *Handle) close() {
	for _, t := range h.to {
		t.Close()
	}
	if h.SRS != nil {
		h.SRS.Close()
	}
	h.DS.Close()
}

// From returns the transformation from EPSG:code to the dataset's CRS.
func (h *Handle) From(code int) (*godal.Transform, error) {
	if t, ok := h.to[code]; ok {
		return t, nil
	}
	src, err := godal.NewSpatialRefFromEPSG(code)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	t, err := godal.NewTransform(src, h.SRS)
	if err != nil {
		return nil, err
	}
	if h.to == nil {
		h.to = map[int]*godal.Transform{}
	}
	h.to[code] = t
	return t, nil
}

// Get returns a handle on the dataset at path; key tells versions of one
// path apart (a replaced product is a new key, never a stale handle).
func (p *Pool) Get(path, key string) (*Handle, error) {
	p.mu.Lock()
	if p.idle == nil {
		p.idle = map[string][]*list.Element{}
		p.lru = list.New()
	}
	if els := p.idle[key]; len(els) > 0 {
		el := els[len(els)-1]
		p.idle[key] = els[:len(els)-1]
		if len(p.idle[key]) == 0 {
			delete(p.idle, key)
		}
		h := p.lru.Remove(el).(*Handle)
		p.mu.Unlock()
		return h, nil
	}
	p.total++
	p.mu.Unlock()
	ds, err := p.Open(path)
	if err != nil {
		p.mu.Lock()
		p.total--
		p.mu.Unlock()
		return nil, err
	}
	st := ds.Structure()
	blocks := p.Blocks
	if blocks == nil {
		blocks = sharedBlocks()
	}
	h := &Handle{key: key, path: path, blocks: blocks, DS: ds, SRS: ds.SpatialRef(), Width: st.SizeX, Height: st.SizeY, Bands: ds.Bands()}
	h.GT, h.GTErr = ds.GeoTransform(godal.ErrLogger(func(godal.ErrorCategory, int, string) error { return nil }))
	return h, nil
}

// Put gives a handle back; broken handles (after a read error) are closed.
func (p *Pool) Put(h *Handle, broken bool) {
	p.mu.Lock()
	if broken || p.Max <= 0 {
		p.total--
		p.mu.Unlock()
		h.close()
		return
	}
	if p.idle == nil {
		p.idle = map[string][]*list.Element{}
		p.lru = list.New()
	}
	p.idle[h.key] = append(p.idle[h.key], p.lru.PushFront(h))
	var evict []*Handle
	for p.total > p.Max && p.lru.Len() > 0 {
		old := p.lru.Remove(p.lru.Back()).(*Handle)
		els := p.idle[old.key]
		for i, el := range els {
			if el.Value == old {
				els = append(els[:i], els[i+1:]...)
				break
			}
		}
		if len(els) == 0 {
			delete(p.idle, old.key)
		} else {
			p.idle[old.key] = els
		}
		p.total--
		evict = append(evict, old)
	}
	p.mu.Unlock()
	for _, old := range evict {
		old.close()
	}
}

// Stats returns the open handles and the idle ones among them.
func (p *Pool) Stats() (open, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lru == nil {
		return p.total, 0
	}
	return p.total, p.lru.Len()
}

// Close closes the idle handles.
func (p *Pool) Close() {
	p.mu.Lock()
	var all []*Handle
	if p.lru != nil {
		for el := p.lru.Front(); el != nil; el = el.Next() {
			all = append(all, el.Value.(*Handle))
		}
		p.lru.Init()
	}
	p.idle = nil
	p.total -= len(all)
	p.mu.Unlock()
	for _, h := range all {
		h.close()
	}
}
