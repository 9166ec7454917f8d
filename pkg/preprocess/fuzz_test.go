package preprocess

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The unpacking of untrusted archives is fuzzed with the seed corpus in
// testdata/fuzz (run by every go test; go test -fuzz=FuzzUntar explores
// further). Whatever the archive, nothing may land outside the package
// directory, no link may be made, and no more than the caps be written.

var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxEntries: 64, MaxRatio: 1000}

func FuzzSafePath(f *testing.F) {
	f.Add("a/b.tif")
	f.Fuzz(func(t *testing.T, name string) {
		const dir = "/work/package"
		p, err := safePath(dir, name)
		if err != nil {
			return
		}
		if rel, rerr := filepath.Rel(dir, p); rerr != nil || rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
			t.Fatalf("safePath(%q) = %q, outside %s", name, p, dir)
		}
	})
}

func FuzzUntar(f *testing.F) {
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, archive []byte, gz bool) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "package")
		os.Mkdir(dir, 0o755)
		Untar(bytes.NewReader(archive), int64(len(archive)), dir, gz, fuzzLimits)
		checkUnpacked(t, parent, dir, int64(len(archive)))
	})
}

func FuzzUnzip(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, archive []byte) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "package")
		os.Mkdir(dir, 0o755)
		src := filepath.Join(t.TempDir(), "p.zip")
		if err := os.WriteFile(src, archive, 0o644); err != nil {
			t.Fatal(err)
		}
		Unzip(src, dir, fuzzLimits)
		checkUnpacked(t, parent, dir, int64(len(archive)))
	})
}

// checkUnpacked fails unless everything under parent is a plain file or
// directory inside dir, totalling no more than the caps allow.
func checkUnpacked(t *testing.T, parent, dir string, packed int64) {
	t.Helper()
	var total int64
	filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == parent || p == dir {
			return err
		}
		if rel, _ := filepath.Rel(dir, p); strings.HasPrefix(rel, "..") {
			t.Errorf("unpacked %s, outside the package", p)
		}
		if !d.Type().IsRegular() && !d.IsDir() {
			t.Errorf("unpacked %s of type %s", p, d.Type())
		}
		if info, err := d.Info(); err == nil && d.Type().IsRegular() {
			total += info.Size()
		}
		return nil
	})
	if allowed := min(fuzzLimits.MaxBytes, int64(float64(packed)*fuzzLimits.MaxRatio)); total > allowed {
		t.Errorf("unpacked %d bytes from %d, more than the %d allowed", total, packed, allowed)
	}
}
