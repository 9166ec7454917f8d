package tilecache

import (
	"bytes"
	"container/list"
	"context"
	"io"
	"sync"
	"time"

	"github.com/pvs/pvs/pkg/tile"
)

// Hot keeps the most recently served tiles in memory in front of a cache:
// a hit costs no file open, stat or read. Sets and purges made through it
// replace or drop the memory copy at once; writes by other processes (the
// seeder) are seen within TTL, the longest a memory copy is served.
type Hot struct {
	Cache    Cache
	MaxBytes int64         // memory for tile bodies
	MaxTile  int64         // larger tiles are not kept (default 256 KiB)
	TTL      time.Duration // default 30 s

	mu    sync.Mutex
	lru   *list.List // of *hotEntry, most recent at the front
	byKey map[string]*list.Element
	size  int64
}

type hotEntry struct {
	key     string
	data    []byte
	version string
	at      time.Time
}

func (h *Hot) ttl() time.Duration {
	if h.TTL <= 0 {
		return 30 * time.Second
	}
	return h.TTL
}

func (h *Hot) maxTile() int64 {
	if h.MaxTile <= 0 {
		return 256 << 10
	}
	return h.MaxTile
}

func (h *Hot) lookup(key string) (*hotEntry, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	el, ok := h.byKey[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*hotEntry)
	if time.Since(e.at) > h.ttl() {
		h.removeLocked(el)
		return nil, false
	}
	h.lru.MoveToFront(el)
	return e, true
}

func (h *Hot) removeLocked(el *list.Element) {
	e := h.lru.Remove(el).(*hotEntry)
	delete(h.byKey, e.key)
	h.size -= int64(len(e.data))
}

func (h *Hot) keep(key string, data []byte, version string) {
	if int64(len(data)) > h.maxTile() || int64(len(data)) > h.MaxBytes {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byKey == nil {
		h.byKey = map[string]*list.Element{}
		h.lru = list.New()
	}
	if el, ok := h.byKey[key]; ok {
		h.removeLocked(el)
	}
	h.byKey[key] = h.lru.PushFront(&hotEntry{key: key, data: data, version: version, at: time.Now()})
	h.size += int64(len(data))
	for h.size > h.MaxBytes && h.lru.Len() > 0 {
		h.removeLocked(h.lru.Back())
	}
}

// room reports whether a tile of n bytes read from below fits in memory
// without pushing out a copy younger than TTL. A tile set larger than the
// memory, served in a loop (a client panning, a seeding check), would
// otherwise push out every copy before its next request: each request
// would read its file into memory and leave it as garbage, where the
// file itself goes out with sendfile. So memory keeps the tiles it holds
// until they expire, and the others are served from their files.
func (h *Hot) room(n int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lru == nil {
		return true
	}
	for h.size+n > h.MaxBytes && h.lru.Len() > 0 {
		el := h.lru.Back()
		if time.Since(el.Value.(*hotEntry).at) <= h.ttl() {
			break
		}
		h.removeLocked(el)
	}
	return h.size+n <= h.MaxBytes
}

func (h *Hot) drop(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if el, ok := h.byKey[key]; ok {
		h.removeLocked(el)
	}
}

// Get implements Cache.
func (h *Hot) Get(ctx context.Context, k tile.Key) ([]byte, error) {
	if e, ok := h.lookup(k.Path()); ok {
		return e.data, nil
	}
	return h.Cache.Get(ctx, k)
}

// Set implements Cache.
func (h *Hot) Set(ctx context.Context, k tile.Key, data []byte) error {
	h.drop(k.Path())
	return h.Cache.Set(ctx, k, data)
}

// Purge implements Cache.
func (h *Hot) Purge(ctx context.Context, k tile.Key) error {
	h.drop(k.Path())
	return h.Cache.Purge(ctx, k)
}

// Open implements Opener: from memory, else from the cache below, keeping
// a copy of small tiles.
func (h *Hot) Open(ctx context.Context, k tile.Key) (tile.Content, error) {
	key := k.Path()
	if e, ok := h.lookup(key); ok {
		return tile.Content{Body: io.NopCloser(bytes.NewReader(e.data)), Size: int64(len(e.data)), Hit: true, Version: e.version, Data: e.data}, nil
	}
	o, ok := h.Cache.(Opener)
	if !ok {
		data, err := h.Cache.Get(ctx, k)
		if err != nil {
			return tile.Content{}, err
		}
		c := contentOf(data, true)
		h.keep(key, data, c.Version)
		return c, nil
	}
	c, err := o.Open(ctx, k)
	if err != nil || c.Size > h.maxTile() || c.Size > h.MaxBytes || !h.room(c.Size) {
		return c, err
	}
	data := make([]byte, c.Size)
	_, err = io.ReadFull(c.Body, data)
	c.Body.Close()
	if err != nil {
		return tile.Content{}, err
	}
	h.keep(key, data, c.Version)
	return tile.Content{Body: io.NopCloser(bytes.NewReader(data)), Size: c.Size, Hit: true, Version: c.Version, Data: data}, nil
}
