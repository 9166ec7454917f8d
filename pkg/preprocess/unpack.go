package preprocess

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ErrUnsafeArchive reports an archive entry that could write outside the
// work directory or is not a plain file.
var ErrUnsafeArchive = errors.New("unsafe archive")

// Limits bound what unpacking may write.
type Limits struct {
	MaxBytes   int64 // total bytes written
	MaxEntries int
}

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

type budget struct {
	limits  Limits
	written int64
	entries int
}

func (b *budget) entry(name string) error {
	b.entries++
	if b.limits.MaxEntries > 0 && b.entries > b.limits.MaxEntries {
		return fmt.Errorf("%w: more than %d entries", ErrUnsafeArchive, b.limits.MaxEntries)
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
	left := b.limits.MaxBytes - b.written
	n, err := io.Copy(f, io.LimitReader(r, left+1))
	b.written += n
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if b.written > b.limits.MaxBytes {
		return fmt.Errorf("%w: expands past %d bytes", ErrUnsafeArchive, b.limits.MaxBytes)
	}
	return nil
}

// Untar unpacks a tar (optionally gzip-compressed) stream into dir. Only
// directories and regular files are accepted.
func Untar(r io.Reader, dir string, gz bool, lim Limits) error {
	if gz {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("open gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	tr := tar.NewReader(r)
	b := &budget{limits: lim}
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
	b := &budget{limits: lim}
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
