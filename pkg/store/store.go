package store

import (
	"context"
	"io"
	"time"
)

// Object describes one stored object.
type Object struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Store is a flat key space of immutable-on-write objects. Keys use forward
// slashes and never start with one. Get and Stat of a missing key return an
// error wrapping fs.ErrNotExist; Delete of a missing key succeeds.
type Store interface {
	// Get opens the object for reading.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Put writes the object from r atomically: readers see the old object or
	// the whole new one, never a part.
	Put(ctx context.Context, key string, r io.Reader) error
	// Stat describes the object.
	Stat(ctx context.Context, key string) (Object, error)
	// Delete removes the object.
	Delete(ctx context.Context, key string) error
	// List returns the objects whose key starts with prefix, sorted by key.
	List(ctx context.Context, prefix string) ([]Object, error)
	// GDALPath returns the name under which GDAL opens the object: a local
	// path or a /vsis3/ path.
	GDALPath(key string) string
	// URL returns the store's location as configured, for logs and errors.
	URL() string
}
