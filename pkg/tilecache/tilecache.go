package tilecache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/pvs/pvs/pkg/store"
	"github.com/pvs/pvs/pkg/tile"
)

// ErrMiss is returned by Cache.Get for a tile that is not cached.
var ErrMiss = errors.New("tile not cached")

// Cache stores encoded tiles.
type Cache interface {
	Get(ctx context.Context, k tile.Key) ([]byte, error)
	Set(ctx context.Context, k tile.Key, data []byte) error
	Purge(ctx context.Context, k tile.Key) error
}

// StoreCache keeps tiles as objects of a store, under an optional prefix.
type StoreCache struct {
	Store  store.Store
	Prefix string
}

func (c StoreCache) key(k tile.Key) string { return c.Prefix + k.Path() }

// Get implements Cache.
func (c StoreCache) Get(ctx context.Context, k tile.Key) ([]byte, error) {
	rc, err := c.Store.Get(ctx, c.key(k))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrMiss
		}
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// Set implements Cache.
func (c StoreCache) Set(ctx context.Context, k tile.Key, data []byte) error {
	return c.Store.Put(ctx, c.key(k), bytes.NewReader(data))
}

// Linker is implemented by caches that can store a tile already stored
// under another key without writing it again.
type Linker interface {
	// Link stores the tile at from under to too; errors.ErrUnsupported
	// when the cache cannot, and the tile is to be written.
	Link(ctx context.Context, from, to tile.Key) error
}

// Link implements Linker when the store does (store.Linker: a hard link
// in a filesystem).
func (c StoreCache) Link(ctx context.Context, from, to tile.Key) error {
	l, ok := c.Store.(store.Linker)
	if !ok {
		return errors.ErrUnsupported
	}
	return l.Link(ctx, c.key(from), c.key(to))
}

// Purge implements Cache.
func (c StoreCache) Purge(ctx context.Context, k tile.Key) error {
	return c.Store.Delete(ctx, c.key(k))
}

// Source draws a tile.
type Source interface {
	Tile(ctx context.Context, k tile.Key) ([]byte, error)
}

// Tiler serves tiles from the cache and renders misses once.
type Tiler struct {
	Cache  Cache
	Source Source
	// Index, when set, learns every level a tile is stored in.
	Index Index
	// Generation, when set, counts catalogue changes: a tile drawn while
	// it moved is served but not stored, since the purge of that change may
	// have run before the tile was stored.
	Generation func(ctx context.Context) (int64, error)
	// Keep, when set, tells whether a tile drawn under this key is stored
	// (TimeKeys.Keep); one it refuses is served and forgotten.
	Keep func(ctx context.Context, k tile.Key) bool

	mu     sync.Mutex
	flight map[string]*call
}

type call struct {
	done chan struct{}
	data []byte
	err  error
}

// Opener is implemented by caches that can hand out a cached tile without
// reading it into memory.
type Opener interface {
	Open(ctx context.Context, k tile.Key) (tile.Content, error)
}

// Open implements Opener: for a file, the validator is its size and
// modification time (as nginx makes ETags), and the body is the file.
func (c StoreCache) Open(ctx context.Context, k tile.Key) (tile.Content, error) {
	if fo, ok := c.Store.(store.FileOpener); ok {
		f, o, err := fo.OpenFile(ctx, c.key(k))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return tile.Content{}, ErrMiss
			}
			return tile.Content{}, err
		}
		return tile.Content{Body: f, Size: o.Size, Hit: true, Version: fileVersion(o.ModTime, o.Size)}, nil
	}
	rc, err := c.Store.Get(ctx, c.key(k))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return tile.Content{}, ErrMiss
		}
		return tile.Content{}, err
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return tile.Content{}, err
	}
	return contentOf(data, true), nil
}

// fileVersion is a file's validator: its modification time and size.
func fileVersion(mod time.Time, size int64) string {
	return strconv.FormatInt(mod.UnixNano(), 36) + "-" + strconv.FormatInt(size, 36)
}

func contentOf(data []byte, hit bool) tile.Content {
	return tile.Content{Body: io.NopCloser(bytes.NewReader(data)), Size: int64(len(data)), Hit: hit,
		Version: strconv.FormatUint(xxhash.Sum64(data), 36), Data: data}
}

// Open returns the tile, from the cache when it is there, else rendered
// (once for concurrent requests) and stored. The caller closes the body.
func (t *Tiler) Open(ctx context.Context, k tile.Key) (tile.Content, error) {
	c, err := t.OpenCached(ctx, k)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, ErrMiss) {
		return tile.Content{}, fmt.Errorf("read cached tile %s: %w", k, err)
	}
	data, err := t.Render(ctx, k)
	if err != nil {
		return tile.Content{}, err
	}
	return contentOf(data, false), nil
}

// OpenCached returns the tile when the cache has it, without drawing it:
// ErrMiss when it does not. The caller closes the body.
func (t *Tiler) OpenCached(ctx context.Context, k tile.Key) (tile.Content, error) {
	if o, ok := t.Cache.(Opener); ok {
		return o.Open(ctx, k)
	}
	data, err := t.Cache.Get(ctx, k)
	if err != nil {
		return tile.Content{}, err
	}
	return contentOf(data, true), nil
}

// Get returns the tile's bytes, as Open finds or draws it, and whether it
// came from the cache.
func (t *Tiler) Get(ctx context.Context, k tile.Key) ([]byte, bool, error) {
	c, err := t.Open(ctx, k)
	if err != nil {
		return nil, false, err
	}
	defer c.Body.Close()
	if c.Data != nil {
		return c.Data, c.Hit, nil
	}
	data, err := io.ReadAll(c.Body)
	if err != nil {
		return nil, false, fmt.Errorf("read cached tile %s: %w", k, err)
	}
	return data, c.Hit, nil
}

// Render draws the tile and stores it, replacing any cached copy. Concurrent
// calls for the same key share one rendering.
func (t *Tiler) Render(ctx context.Context, k tile.Key) ([]byte, error) {
	path := k.Path()
	t.mu.Lock()
	if t.flight == nil {
		t.flight = map[string]*call{}
	}
	if c, ok := t.flight[path]; ok {
		t.mu.Unlock()
		select {
		case <-c.done:
			return c.data, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c := &call{done: make(chan struct{})}
	t.flight[path] = c
	t.mu.Unlock()

	// The rendering outlives a caller that gives up: others may wait on it.
	rctx := context.WithoutCancel(ctx)
	gen, gerr := t.generation(rctx)
	c.data, c.err = t.Source.Tile(rctx, k)
	if c.err == nil && gerr == nil {
		if now, err := t.generation(rctx); err != nil || now != gen {
			gerr = errors.New("the catalogue changed while the tile was drawn")
		}
	}
	keep := t.Keep == nil || t.Keep(rctx, k)
	if c.err == nil && gerr == nil && keep {
		if t.Index != nil {
			// Indexed first: a tile stored but not indexed could escape a purge.
			if err := t.Index.Add(rctx, k); err != nil {
				c.err = fmt.Errorf("index tile %s: %w", k, err)
			}
		}
		if c.err == nil {
			if err := t.Cache.Set(rctx, k, c.data); err != nil {
				c.err = fmt.Errorf("store tile %s: %w", k, err)
			}
		}
	}
	t.mu.Lock()
	delete(t.flight, path)
	t.mu.Unlock()
	close(c.done)
	return c.data, c.err
}

func (t *Tiler) generation(ctx context.Context) (int64, error) {
	if t.Generation == nil {
		return 0, nil
	}
	return t.Generation(ctx)
}

// Purge removes a cached tile.
func (t *Tiler) Purge(ctx context.Context, k tile.Key) error { return t.Cache.Purge(ctx, k) }
