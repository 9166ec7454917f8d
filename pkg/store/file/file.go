package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pvs/pvs/pkg/store"
)

// Store keeps objects as files under Root.
type Store struct {
	root string
}

// New returns a Store rooted at dir, creating it if needed.
func New(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("file store %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("file store %s: %w", dir, err)
	}
	return &Store{root: abs}, nil
}

// Root returns the directory holding the objects.
func (s *Store) Root() string { return s.root }

// URL implements store.Store.
func (s *Store) URL() string { return "file://" + s.root }

// path maps a key to a file, refusing keys that would leave the root.
func (s *Store) path(key string) (string, error) {
	clean := path.Clean("/" + key)
	if key == "" || strings.HasSuffix(key, "/") || clean == "/" {
		return "", fmt.Errorf("invalid key %q", key)
	}
	if strings.Contains(key, "\\") || clean != "/"+key {
		return "", fmt.Errorf("invalid key %q: not a clean relative path", key)
	}
	return filepath.Join(s.root, filepath.FromSlash(clean)), nil
}

// GDALPath implements store.Store.
func (s *Store) GDALPath(key string) string {
	p, err := s.path(key)
	if err != nil {
		return filepath.Join(s.root, "invalid-key")
	}
	return p
}

// Get implements store.Store.
func (s *Store) Get(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("get %s: is a prefix, not an object: %w", key, fs.ErrNotExist)
	}
	return f, nil
}

// Put implements store.Store: the object is written to a new file beside
// it and renamed over it, so readers see the old object or the new one,
// never part of one. Seeding puts thousands of small files a second: the
// file is made with one open (its final mode, no poller registration), and
// the directory only when that open finds it missing.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) error {
	p, err := s.path(key)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	f, tmp, err := createTemp(p)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
			f, tmp, err = createTemp(p)
		}
	}
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	_, err = io.Copy(f, ctxReader{ctx, r})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && umaskHidesRead() {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// rename is os.Rename without its Lstat of the new name (a check that it
// is no directory, which rename(2) makes itself for a file): one system
// call less per object.
func rename(from, to string) error {
	if err := syscall.Rename(from, to); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

// tempPrefix and tempSeq name temporary files: a random prefix per
// process (replicas share volumes, and in containers share process ids)
// and a count.
var (
	tempPrefix = ".put-" + strconv.FormatUint(rand.Uint64(), 36) + "-"
	tempSeq    atomic.Uint64
)

// createTemp creates a new, empty file beside p, mode 0644 less the umask.
func createTemp(p string) (*os.File, string, error) {
	for {
		name := filepath.Join(filepath.Dir(p), tempPrefix+strconv.FormatUint(tempSeq.Add(1), 36))
		fd, err := syscall.Open(name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o644)
		if err == syscall.EEXIST {
			continue
		}
		if err != nil {
			return nil, "", &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return os.NewFile(uintptr(fd), name), name, nil
	}
}

// umaskHidesRead says whether the process's umask takes read permission
// from group or others, so that objects must be made readable by a chmod
// (the cache serving them may run as another user). Unknown: assume so.
// Read at the first put, not at start-up.
var umaskHidesRead = sync.OnceValue(func() bool {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return true
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			return err != nil || m&0o044 != 0
		}
	}
	return true
})

// PutFile implements store.FilePutter: the file is hard-linked into place
// (renamed over the old object, so still atomic), or copied when it lives on
// another filesystem.
func (s *Store) PutFile(ctx context.Context, key, path string) error {
	p, err := s.path(key)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	// A new key takes the link at once, a seeding's common case: one
	// system call. Else its directory is missing (or the file is: the
	// copy below says so), or an object is there to replace.
	err = syscall.Link(path, p)
	if err == syscall.ENOENT {
		if err = os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
		err = syscall.Link(path, p)
	}
	if err == syscall.EEXIST {
		err = replaceWithLink(path, p)
	}
	if err == nil {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	defer f.Close()
	return s.Put(ctx, key, f)
}

// replaceWithLink links path beside p and renames the link over p.
func replaceWithLink(path, p string) error {
	tmp := filepath.Join(filepath.Dir(p), ".put-link-"+filepath.Base(p))
	err := syscall.Link(path, tmp)
	if err == syscall.EEXIST { // left by an interrupted put
		os.Remove(tmp)
		err = syscall.Link(path, tmp)
	}
	if err != nil {
		return err
	}
	if err := rename(tmp, p); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// OpenFile implements store.FileOpener with the fewest system calls (open
// and fstat; os.Open adds a poller registration and flag changes that a
// regular file does not need): it serves every cached tile read from disk.
func (s *Store) OpenFile(_ context.Context, key string) (*os.File, store.Object, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, store.Object{}, fmt.Errorf("open %s: %w", key, err)
	}
	fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, store.Object{}, fmt.Errorf("open %s: %w", key, &fs.PathError{Op: "open", Path: p, Err: err})
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, store.Object{}, fmt.Errorf("open %s: %w", key, &fs.PathError{Op: "fstat", Path: p, Err: err})
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, store.Object{}, fmt.Errorf("open %s: not an object: %w", key, fs.ErrNotExist)
	}
	return os.NewFile(uintptr(fd), p), store.Object{Key: key, Size: st.Size, ModTime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec)}, nil
}

// Link implements store.Linker: the object's file is put under dst by
// PutFile, a hard link where the filesystem allows, else a copy.
func (s *Store) Link(ctx context.Context, src, dst string) error {
	ps, err := s.path(src)
	if err != nil {
		return fmt.Errorf("link %s: %w", src, err)
	}
	return s.PutFile(ctx, dst, ps)
}

// Stat implements store.Store.
func (s *Store) Stat(_ context.Context, key string) (store.Object, error) {
	p, err := s.path(key)
	if err != nil {
		return store.Object{}, fmt.Errorf("stat %s: %w", key, err)
	}
	st, err := os.Stat(p)
	if err != nil {
		return store.Object{}, fmt.Errorf("stat %s: %w", key, err)
	}
	if st.IsDir() {
		return store.Object{}, fmt.Errorf("stat %s: is a prefix, not an object: %w", key, fs.ErrNotExist)
	}
	return store.Object{Key: key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Delete implements store.Store.
func (s *Store) Delete(_ context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	// Drop directories left empty, as an object store has no empty prefixes.
	for dir := filepath.Dir(p); dir != s.root && strings.HasPrefix(dir, s.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, prefix string) ([]store.Object, error) {
	var out []store.Object
	// Walk only the deepest directory the prefix names.
	start := s.root
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		dir, err := s.path(prefix[:i] + "/x")
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		start = filepath.Dir(dir)
	}
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".put-") {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, store.Object{Key: key, Size: info.Size(), ModTime: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
