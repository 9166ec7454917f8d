package store

import (
	"context"
	"io"
	"os"
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

// FilePutter is implemented by stores that can take a local file more
// cheaply than by reading it (a hard link on the same filesystem, a
// streamed upload from the file).
type FilePutter interface {
	// PutFile stores the file at path under key, atomically like Put. The
	// file may be consumed (moved) by the store.
	PutFile(ctx context.Context, key, path string) error
}

// Linker is implemented by stores that can give an object a second key
// without writing its bytes again (a hard link).
type Linker interface {
	// Link stores the object at src under dst too, atomically like Put;
	// dst is then independent of src (replacing or deleting one leaves the
	// other).
	Link(ctx context.Context, src, dst string) error
}

// FileOpener is implemented by stores whose objects are local files: the
// file is handed out open, with its size and modification time from one
// fstat, for the caller to send (sendfile) rather than read.
type FileOpener interface {
	OpenFile(ctx context.Context, key string) (*os.File, Object, error)
}

// PutFile stores a local file through the store's fast path when it has
// one, else by reading it.
func PutFile(ctx context.Context, s Store, key, path string) error {
	if fp, ok := s.(FilePutter); ok {
		return fp.PutFile(ctx, key, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return s.Put(ctx, key, f)
}
