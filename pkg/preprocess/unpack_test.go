package preprocess

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type entry struct {
	name     string
	typ      byte
	body     string
	size     int64
	linkname string
}

func tarOf(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Linkname: e.linkname}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
			if e.size > 0 {
				h.Size = e.size
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			body := e.body
			if e.size > 0 {
				body = strings.Repeat("0", int(e.size))
			}
			if _, err := tw.Write([]byte(body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	tw.Close()
	return buf.Bytes()
}

func TestUntar(t *testing.T) {
	lim := Limits{MaxBytes: 1 << 20, MaxEntries: 100}
	for _, c := range []struct {
		name    string
		entries []entry
		want    string // error substring; empty for success
	}{
		{name: "ok", entries: []entry{{name: "d/", typ: tar.TypeDir}, {name: "d/a.tif", body: "data"}, {name: "m.xml", body: "<x/>"}}},
		{name: "traversal", entries: []entry{{name: "../evil", body: "x"}}, want: "escapes the package"},
		{name: "nested traversal", entries: []entry{{name: "a/../../evil", body: "x"}}, want: "escapes the package"},
		{name: "absolute", entries: []entry{{name: "/etc/evil", body: "x"}}, want: "absolute"},
		{name: "symlink", entries: []entry{{name: "link", typ: tar.TypeSymlink, linkname: "/etc/passwd"}}, want: "links are refused"},
		{name: "hardlink", entries: []entry{{name: "hl", typ: tar.TypeLink, linkname: "../../x"}}, want: "links are refused"},
		{name: "device", entries: []entry{{name: "dev", typ: tar.TypeChar}}, want: "not a regular file"},
		{name: "fifo", entries: []entry{{name: "fifo", typ: tar.TypeFifo}}, want: "not a regular file"},
		{name: "bomb", entries: []entry{{name: "big", size: 2 << 20}}, want: "expands past"},
		{name: "empty", entries: nil, want: "empty archive"},
	} {
		t.Run(c.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "pkg")
			os.Mkdir(dir, 0o755)
			err := Untar(bytes.NewReader(tarOf(t, c.entries...)), 0, dir, false, lim)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if b, _ := os.ReadFile(filepath.Join(dir, "d/a.tif")); string(b) != "data" {
					t.Errorf("unpacked content = %q", b)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			// Nothing was written next to the work dir.
			ents, _ := os.ReadDir(parent)
			if len(ents) != 1 {
				t.Errorf("unpacking wrote outside the work dir: %v", ents)
			}
		})
	}
}

func TestUnzip(t *testing.T) {
	write := func(t *testing.T, files map[string]string) string {
		p := filepath.Join(t.TempDir(), "p.zip")
		f, _ := os.Create(p)
		zw := zip.NewWriter(f)
		for name, body := range files {
			w, err := zw.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(body))
		}
		zw.Close()
		f.Close()
		return p
	}
	lim := Limits{MaxBytes: 1000, MaxEntries: 10}
	dir := t.TempDir()
	if err := Unzip(write(t, map[string]string{"a/b.tif": "x", "m.xml": "y"}), dir, lim); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a/b.tif")); err != nil {
		t.Error(err)
	}
	if err := Unzip(write(t, map[string]string{"../x": "x"}), t.TempDir(), lim); !errors.Is(err, ErrUnsafeArchive) {
		t.Errorf("traversal: %v", err)
	}
	if err := Unzip(write(t, map[string]string{"big": strings.Repeat("z", 5000)}), t.TempDir(), lim); err == nil || !strings.Contains(err.Error(), "expands past") {
		t.Errorf("zip bomb: %v", err)
	}
	if err := Unzip(write(t, map[string]string{}), t.TempDir(), lim); err == nil {
		t.Error("empty zip accepted")
	}
}

// A compression bomb is stopped once it has written what the expansion
// ratio allows of its packed size, not when the unpacked cap (or the
// disk) is full: an entry declared too large is refused before a byte of
// it is written, and many entries each small enough are stopped as they
// add up.
func TestUnpackStopsABombEarly(t *testing.T) {
	t.Parallel()
	zeros := func(n int) string { return strings.Repeat("\x00", n) }
	many := map[string][]byte{}
	for i := range 100 {
		many[fmt.Sprintf("part%03d.tif", i)] = []byte(zeros(100 << 10))
	}
	lim := Limits{MaxBytes: 1 << 30, MaxEntries: 1000, MaxRatio: 50}
	for _, c := range []struct {
		name  string
		files map[string][]byte
		zip   bool
	}{
		{name: "one large entry, tgz", files: map[string][]byte{"zeros.tif": []byte(zeros(16 << 20))}},
		{name: "many entries, tgz", files: many},
		{name: "one large entry, zip", files: map[string][]byte{"zeros.tif": []byte(zeros(16 << 20))}, zip: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			var err error
			var packed int64
			if c.zip {
				src := zipOf(t, c.files)
				st, _ := os.Stat(src)
				packed = st.Size()
				err = Unzip(src, dir, lim)
			} else {
				b := packOf(t, "bomb.tgz", c.files)
				packed = int64(len(b))
				err = Untar(bytes.NewReader(b), packed, dir, true, lim)
			}
			if err == nil || !errors.Is(err, ErrUnsafeArchive) || !strings.Contains(err.Error(), "preprocessor.limits.expansion_ratio") {
				t.Fatalf("err = %v, want the expansion ratio", err)
			}
			if written := treeSize(t, dir); written > 50*packed {
				t.Errorf("%d bytes written from %d packed before the bomb was stopped", written, packed)
			}
		})
	}
}

func zipOf(t *testing.T, files map[string][]byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "p.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(body)
	}
	zw.Close()
	f.Close()
	return p
}

func treeSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n
}
