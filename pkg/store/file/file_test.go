package file_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pvs/pvs/pkg/store"
	"github.com/pvs/pvs/pkg/store/file"
	"github.com/pvs/pvs/pkg/store/storetest"
)

// newStore is a file store rooted at dir.
func newStore(t *testing.T, dir string) *file.Store {
	t.Helper()
	s, err := file.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return newStore(t, t.TempDir())
	})
}

func TestKeysCannotLeaveTheRoot(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	s := newStore(t, root)
	for _, k := range []string{"../escape", "a/../../escape", "a//b", "./a", `a\b`} {
		if err := s.Put(context.Background(), k, strings.NewReader("x")); err == nil {
			t.Errorf("Put(%q) succeeded", k)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "escape")); err == nil {
		t.Fatal("a key wrote outside the root")
	}
}

func TestLinkGivesAnIndependentSecondKey(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, t.TempDir())
	var l store.Linker = s
	if err := s.Put(ctx, "a/1.png", strings.NewReader("one")); err != nil {
		t.Fatal(err)
	}
	if err := l.Link(ctx, "a/1.png", "b/c/1.png"); err != nil {
		t.Fatal(err)
	}
	read := func(k string) string {
		rc, err := s.Get(ctx, k)
		if err != nil {
			return "error: " + err.Error()
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return string(b)
	}
	if got := read("b/c/1.png"); got != "one" {
		t.Fatalf("linked key reads %q", got)
	}
	if err := s.Put(ctx, "a/1.png", strings.NewReader("two")); err != nil {
		t.Fatal(err)
	}
	if got := read("b/c/1.png"); got != "one" {
		t.Errorf("linked key after the first was replaced: %q", got)
	}
	if err := s.Delete(ctx, "b/c/1.png"); err != nil {
		t.Fatal(err)
	}
	if got := read("a/1.png"); got != "two" {
		t.Errorf("first key after the link was deleted: %q", got)
	}
	if err := l.Link(ctx, "missing.png", "x.png"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("link of a missing object: %v, want fs.ErrNotExist", err)
	}
	if err := l.Link(ctx, "a/1.png", "../escape.png"); err == nil {
		t.Error("a link outside the root succeeded")
	}
	objs, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if strings.Contains(o.Key, ".put-") {
			t.Errorf("temporary object left: %s", o.Key)
		}
	}
}

func TestOpenFileHandsOutTheFileWithItsSizeAndTime(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, t.TempDir())
	var fo store.FileOpener = s
	if err := s.Put(ctx, "z/1/2.png", strings.NewReader("tile bytes")); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stat(ctx, "z/1/2.png")
	if err != nil {
		t.Fatal(err)
	}
	f, o, err := fo.OpenFile(ctx, "z/1/2.png")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil || string(b) != "tile bytes" {
		t.Fatalf("read %q, %v", b, err)
	}
	if o.Key != "z/1/2.png" || o.Size != 10 || !o.ModTime.Equal(st.ModTime) {
		t.Errorf("object %+v, want key z/1/2.png, size 10, time %s", o, st.ModTime)
	}
	for _, k := range []string{"missing.png", "z/1", "z"} {
		if f, _, err := fo.OpenFile(ctx, k); !errors.Is(err, fs.ErrNotExist) {
			if f != nil {
				f.Close()
			}
			t.Errorf("OpenFile(%q): %v, want fs.ErrNotExist", k, err)
		}
	}
	if _, _, err := fo.OpenFile(ctx, "../outside"); err == nil {
		t.Error("OpenFile outside the root succeeded")
	}
}

// failingReader gives some bytes, then an error.
type failingReader struct{ sent bool }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.sent {
		return 0, errors.New("source broke")
	}
	r.sent = true
	return copy(p, "partial"), nil
}

func TestPutMakesDirectoriesReadableFilesAndLeavesNothingBehind(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	ctx := context.Background()
	// A new prefix several levels deep, then a second object beside it
	// and a replacement of the first.
	for _, kv := range [][2]string{{"a/b/c/1.png", "one"}, {"a/b/c/2.png", "two"}, {"a/b/c/1.png", "uno"}} {
		if err := s.Put(ctx, kv[0], strings.NewReader(kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	// A put whose source fails leaves the old object and no temporary file.
	if err := s.Put(ctx, "a/b/c/2.png", &failingReader{}); err == nil || !strings.Contains(err.Error(), "source broke") {
		t.Fatalf("failed source: %v", err)
	}
	names, err := os.ReadDir(filepath.Join(dir, "a/b/c"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range names {
		got = append(got, n.Name())
	}
	if strings.Join(got, " ") != "1.png 2.png" {
		t.Fatalf("directory holds %v", got)
	}
	for name, want := range map[string]string{"1.png": "uno", "2.png": "two"} {
		p := filepath.Join(dir, "a/b/c", name)
		data, err := os.ReadFile(p)
		if err != nil || string(data) != want {
			t.Fatalf("%s: %q %v, want %q", name, data, err, want)
		}
		// Readable by the cache, whatever user it runs as.
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o644 {
			t.Fatalf("%s: mode %v %v", name, st.Mode(), err)
		}
	}
}

// A link onto a key that holds an object replaces it, also past a
// temporary link an interrupted put left, and leaves no temporary file.
func TestLinkReplacesAnObject(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := newStore(t, dir)
	for k, v := range map[string]string{"a.png": "new", "b/a.png": "old"} {
		if err := s.Put(ctx, k, strings.NewReader(v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "b", ".put-link-a.png"), []byte("left over"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Link(ctx, "a.png", "b/a.png"); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "b/a.png")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "new" {
		t.Errorf("b/a.png reads %q after the link, want new", b)
	}
	st1, err1 := os.Stat(filepath.Join(dir, "a.png"))
	st2, err2 := os.Stat(filepath.Join(dir, "b", "a.png"))
	if err1 != nil || err2 != nil || !os.SameFile(st1, st2) {
		t.Errorf("b/a.png is not a link to a.png (copied instead?): %v %v", err1, err2)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "b"))
	if len(entries) != 1 {
		t.Errorf("b holds %d entries after the link, want only a.png: %v", len(entries), entries)
	}
	// The same link again: the key already is that file.
	if err := s.Link(ctx, "a.png", "b/a.png"); err != nil {
		t.Errorf("linking again: %v", err)
	}
}
