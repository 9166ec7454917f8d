package preprocess

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ErrUnsafeArchive reports an archive entry that could write outside the
// work directory or is not a plain file.
var ErrUnsafeArchive = errors.New("unsafe archive")

// safePath maps an archive entry name to a path inside dir, refusing names
// that would leave it.
func safePath(dir, name string) (string, error) {
	if name == "" || strings.HasPrefix(name, "/") || strings.HasPrefix(name, "\\") || filepath.IsAbs(name) || strings.Contains(name, "\\") {
		return "", fmt.Errorf("%w: entry %q has an absolute or non-portable path", ErrUnsafeArchive, name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: entry %q escapes the package", ErrUnsafeArchive, name)
		}
	}
	clean := path.Clean(name)
	if clean == "." {
		return dir, nil
	}
	return filepath.Join(dir, filepath.FromSlash(clean)), nil
}

// budget counts what an archive has unpacked against the caps. The
// expansion ratio is measured against the whole archive's size, known
// before the first entry: a bomb is stopped after writing at most
// ratio × its size, not after filling the disk.
type budget struct {
	limits  Limits
	packed  int64 // the archive's size; 0: unknown, no ratio cap
	written int64
	entries int
}

func newBudget(lim Limits, packed int64) *budget {
	return &budget{limits: lim.orDefault(), packed: packed}
}

func (b *budget) entry(name string) error {
	b.entries++
	if b.entries > b.limits.MaxEntries {
		return fmt.Errorf("%w: more than %d entries (preprocessor.limits.entries)", ErrUnsafeArchive, b.limits.MaxEntries)
	}
	return nil
}

// allowed is how many bytes the archive may unpack to, and which cap says
// so.
func (b *budget) allowed() (int64, error) {
	limit := b.limits.MaxBytes
	over := fmt.Errorf("%w: expands past %d bytes (preprocessor.limits.unpacked_bytes)", ErrUnsafeArchive, limit)
	if b.packed > 0 {
		if r := float64(b.packed) * b.limits.MaxRatio; r < float64(limit) {
			limit = int64(r)
			over = fmt.Errorf("%w: expands past %d bytes, %g times its packed size of %d bytes (preprocessor.limits.expansion_ratio)",
				ErrUnsafeArchive, limit, b.limits.MaxRatio, b.packed)
		}
	}
	return limit, over
}

// declare refuses an entry whose declared size would spend the budget,
// before a byte of it is unpacked. The declaration is checked again while
// copying: tar and zip readers fail on entries longer than declared, and
// copy counts what is really written.
func (b *budget) declare(size int64) error {
	limit, over := b.allowed()
	if size < 0 || size > limit-b.written {
		return over
	}
	return nil
}

// copy writes r to a new file, stopping once the budget is spent.
func (b *budget) copy(dst string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	limit, over := b.allowed()
	n, err := io.Copy(f, io.LimitReader(r, limit-b.written+1))
	b.written += n
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if b.written > limit {
		return over
	}
	return nil
}

// Untar unpacks a tar (optionally gzip-compressed) stream of size bytes
// (0: unknown) into dir. Only directories and regular files are accepted.
func Untar(r io.Reader, size int64, dir string, gz bool, lim Limits) error {
	if gz {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("open gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	tr := tar.NewReader(r)
	b := newBudget(lim, size)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		if err := b.entry(h.Name); err != nil {
			return err
		}
		dst, err := safePath(dir, h.Name)
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := b.declare(h.Size); err != nil {
				return fmt.Errorf("unpack %s: %w", h.Name, err)
			}
			if err := b.copy(dst, tr); err != nil {
				return fmt.Errorf("unpack %s: %w", h.Name, err)
			}
		case tar.TypeSymlink, tar.TypeLink:
			return fmt.Errorf("%w: entry %q is a link (to %q); links are refused", ErrUnsafeArchive, h.Name, h.Linkname)
		case tar.TypeXGlobalHeader:
		default:
			return fmt.Errorf("%w: entry %q is not a regular file or directory (type %q)", ErrUnsafeArchive, h.Name, string(h.Typeflag))
		}
	}
	if b.entries == 0 {
		return errors.New("empty archive")
	}
	return nil
}

// Unzip unpacks the zip file at src into dir, with the same rules as Untar.
func Unzip(src, dir string, lim Limits) error {
	zr, err := zip.OpenReader(src)
	if err != nil {
		return fmt.Errorf("open zip: %w", err)
	}
	defer zr.Close()
	if len(zr.File) == 0 {
		return errors.New("empty archive")
	}
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	b := newBudget(lim, st.Size())
	if err := b.declareAll(zr.File); err != nil {
		return err
	}
	for _, f := range zr.File {
		if err := b.entry(f.Name); err != nil {
			return err
		}
		dst, err := safePath(dir, f.Name)
		if err != nil {
			return err
		}
		mode := f.Mode()
		switch {
		case mode.IsDir():
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case mode.IsRegular():
			rc, err := f.Open()
			if err != nil {
				return fmt.Errorf("unpack %s: %w", f.Name, err)
			}
			err = b.copy(dst, rc)
			rc.Close()
			if err != nil {
				return fmt.Errorf("unpack %s: %w", f.Name, err)
			}
		default:
			return fmt.Errorf("%w: entry %q is not a regular file or directory (mode %s)", ErrUnsafeArchive, f.Name, mode)
		}
	}
	return nil
}

// declareAll refuses a zip whose central directory already says it is too
// large, before anything is unpacked.
func (b *budget) declareAll(files []*zip.File) error {
	if len(files) > b.limits.MaxEntries {
		return fmt.Errorf("%w: more than %d entries (preprocessor.limits.entries)", ErrUnsafeArchive, b.limits.MaxEntries)
	}
	var total int64
	for _, f := range files {
		if f.UncompressedSize64 > uint64(math.MaxInt64-total) {
			return b.declare(-1)
		}
		total += int64(f.UncompressedSize64)
	}
	return b.declare(total)
}
