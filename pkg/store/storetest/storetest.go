package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pvs/pvs/pkg/store"
)

// Run runs the conformance suite. newStore must return an empty store that
// no other test uses.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()

	t.Run("PutGetRoundTrip", func(t *testing.T) {
		s := newStore(t)
		data := bytes.Repeat([]byte("cog"), 100000)
		mustPut(t, s, "coll/p1/p1.tif", data)
		if got := mustGet(t, s, "coll/p1/p1.tif"); !bytes.Equal(got, data) {
			t.Fatalf("got %d bytes back, want %d", len(got), len(data))
		}
		o, err := s.Stat(ctx, "coll/p1/p1.tif")
		if err != nil {
			t.Fatal(err)
		}
		if o.Size != int64(len(data)) || o.Key != "coll/p1/p1.tif" {
			t.Fatalf("stat = %+v", o)
		}
	})

	t.Run("NonSeekableReader", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "a/b.txt", nil) // empty object
		if err := s.Put(ctx, "a/c.txt", io.MultiReader(strings.NewReader("he"), strings.NewReader("llo"))); err != nil {
			t.Fatal(err)
		}
		if got := string(mustGet(t, s, "a/c.txt")); got != "hello" {
			t.Fatalf("got %q", got)
		}
		if got := mustGet(t, s, "a/b.txt"); len(got) != 0 {
			t.Fatalf("empty object read back as %d bytes", len(got))
		}
	})

	t.Run("MissingIsErrNotExist", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Get(ctx, "nope/x"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Get missing: %v, want fs.ErrNotExist", err)
		}
		if _, err := s.Stat(ctx, "nope/x"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Stat missing: %v, want fs.ErrNotExist", err)
		}
		mustPut(t, s, "dir/obj", []byte("x"))
		if _, err := s.Get(ctx, "dir"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Get of a prefix: %v, want fs.ErrNotExist", err)
		}
		if err := s.Delete(ctx, "nope/x"); err != nil {
			t.Fatalf("Delete missing: %v", err)
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "k", []byte("first version, longer"))
		mustPut(t, s, "k", []byte("second"))
		if got := string(mustGet(t, s, "k")); got != "second" {
			t.Fatalf("got %q", got)
		}
	})

	t.Run("DeleteAndList", func(t *testing.T) {
		s := newStore(t)
		for _, k := range []string{"c/p2/x.tif", "c/p1/b.xml", "c/p1/a.tif", "c/p10/z", "d/other"} {
			mustPut(t, s, k, []byte(k))
		}
		assertKeys(t, s, "c/p1/", "c/p1/a.tif", "c/p1/b.xml")
		assertKeys(t, s, "c/p1", "c/p1/a.tif", "c/p1/b.xml", "c/p10/z")
		assertKeys(t, s, "", "c/p1/a.tif", "c/p1/b.xml", "c/p10/z", "c/p2/x.tif", "d/other")
		assertKeys(t, s, "nothing/")
		if err := s.Delete(ctx, "c/p1/a.tif"); err != nil {
			t.Fatal(err)
		}
		assertKeys(t, s, "c/p1/", "c/p1/b.xml")
		if err := s.Delete(ctx, "c/p1/b.xml"); err != nil {
			t.Fatal(err)
		}
		assertKeys(t, s, "c/p1/")
		assertKeys(t, s, "c/", "c/p10/z", "c/p2/x.tif")
	})

	t.Run("InvalidKeys", func(t *testing.T) {
		s := newStore(t)
		for _, k := range []string{"", "/abs", "dir/"} {
			if err := s.Put(ctx, k, strings.NewReader("x")); err == nil {
				t.Errorf("Put(%q) succeeded, want an error", k)
			}
		}
	})

	t.Run("ConcurrentWritersReadersSeeWholeObjects", func(t *testing.T) {
		s := newStore(t)
		a := bytes.Repeat([]byte{'a'}, 256<<10)
		b := bytes.Repeat([]byte{'b'}, 128<<10)
		mustPut(t, s, "tile", a)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for i := 0; i < 8; i++ {
			wg.Add(2)
			go func(i int) {
				defer wg.Done()
				data := a
				if i%2 == 1 {
					data = b
				}
				if err := s.Put(ctx, "tile", bytes.NewReader(data)); err != nil {
					errs <- err
				}
			}(i)
			go func() {
				defer wg.Done()
				rc, err := s.Get(ctx, "tile")
				if err != nil {
					errs <- err
					return
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
					errs <- errors.New("reader saw a partial object")
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})

	t.Run("PutFile", func(t *testing.T) {
		s := newStore(t)
		src := filepath.Join(t.TempDir(), "cog.tif")
		if err := os.WriteFile(src, []byte("first"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := store.PutFile(ctx, s, "c/p/p.tif", src); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(src+"2", []byte("second, replacing"), 0o644)
		if err := store.PutFile(ctx, s, "c/p/p.tif", src+"2"); err != nil {
			t.Fatal(err)
		}
		if got := string(mustGet(t, s, "c/p/p.tif")); got != "second, replacing" {
			t.Fatalf("got %q", got)
		}
		assertKeys(t, s, "c/", "c/p/p.tif")
	})

	t.Run("GDALPathNamesTheKey", func(t *testing.T) {
		s := newStore(t)
		if p := s.GDALPath("c/p/p.tif"); !strings.HasSuffix(p, "/c/p/p.tif") {
			t.Fatalf("GDALPath = %q", p)
		}
	})
}

func mustPut(t *testing.T, s store.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(data)); err != nil {
		t.Fatalf("Put(%s): %v", key, err)
	}
}

func mustGet(t *testing.T, s store.Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

func assertKeys(t *testing.T, s store.Store, prefix string, want ...string) {
	t.Helper()
	objs, err := s.List(context.Background(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.Key)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("List(%q) = %v, want %v", prefix, got, want)
	}
}
