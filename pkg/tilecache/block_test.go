package tilecache

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pvs/pvs/pkg/store"
	"github.com/pvs/pvs/pkg/store/file"
	"github.com/pvs/pvs/pkg/tile"
)

// blockSource draws each tile of a block as its own text.
type blockSource struct{ draws int }

func (s *blockSource) Tile(ctx context.Context, k tile.Key) ([]byte, error) {
	return nil, fmt.Errorf("not used")
}

func (s *blockSource) Block(ctx context.Context, b Block) (map[tile.Pos][]byte, error) {
	s.draws++
	out := map[tile.Pos][]byte{}
	for r := b.MinRow; r < b.MinRow+b.Rows; r++ {
		for c := b.MinCol; c < b.MinCol+b.Cols; c++ {
			out[tile.Pos{Row: r, Col: c}] = []byte(fmt.Sprintf("draw %d tile %d/%d", s.draws, r, c))
		}
	}
	return out, nil
}

// plainStore hides the file store's Link: a store without hard links.
type plainStore struct{ store.Store }

func TestRenderBlockStoresOtherTimeKeysOnce(t *testing.T) {
	dir := t.TempDir()
	fs, err := file.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	b := Block{Key: tile.Key{Layer: "L", Grid: "GoogleMapsCompatible", Time: "2018-06-15T00:00:00Z--2018-06-16T00:00:00Z", Z: 5, Format: "png"},
		MinRow: 8, MinCol: 4, Rows: 2, Cols: 2}
	want := func(p tile.Pos) bool { return p != tile.Pos{Row: 9, Col: 5} }
	for _, tc := range []struct {
		name   string
		st     store.Store
		linked bool
	}{{"hard links", fs, true}, {"written again", plainStore{fs}, false}} {
		t.Run(tc.name, func(t *testing.T) {
			c := StoreCache{Store: tc.st, Prefix: tc.name + "/"}
			tl := &Tiler{Cache: c, Source: &blockSource{}}
			n, err := tl.RenderBlock(context.Background(), b, []string{tile.DefaultTime}, want)
			if err != nil {
				t.Fatal(err)
			}
			if n != 6 {
				t.Fatalf("%d tiles stored, want 3 wanted tiles x 2 time keys", n)
			}
			for r := 8; r < 10; r++ {
				for col := 4; col < 6; col++ {
					k := b.Key
					k.Row, k.Col = r, col
					d := k
					d.Time = tile.DefaultTime
					first, err1 := c.Get(context.Background(), k)
					other, err2 := c.Get(context.Background(), d)
					if !want(tile.Pos{Row: r, Col: col}) {
						if err1 != ErrMiss || err2 != ErrMiss {
							t.Errorf("unwanted tile %d/%d stored: %v, %v", r, col, err1, err2)
						}
						continue
					}
					if err1 != nil || err2 != nil || !bytes.Equal(first, other) || string(first) != fmt.Sprintf("draw 1 tile %d/%d", r, col) {
						t.Fatalf("tile %d/%d: %q (%v) and %q (%v)", r, col, first, err1, other, err2)
					}
					a, _ := os.Stat(filepath.Join(dir, c.key(k)))
					o, _ := os.Stat(filepath.Join(dir, c.key(d)))
					if same := os.SameFile(a, o); same != tc.linked {
						t.Errorf("tile %d/%d: one file under both keys %v, want %v", r, col, same, tc.linked)
					}
				}
			}
			// The keys stay independent: a tile drawn again under one
			// leaves the other's.
			k := b.Key
			k.Row, k.Col = 8, 4
			if err := c.Set(context.Background(), k, []byte("new")); err != nil {
				t.Fatal(err)
			}
			d := k
			d.Time = tile.DefaultTime
			if got, err := c.Get(context.Background(), d); err != nil || string(got) != "draw 1 tile 8/4" {
				t.Errorf("other key after a new tile under the first: %q, %v", got, err)
			}
			if err := c.Purge(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			if got, err := c.Get(context.Background(), k); err != nil || string(got) != "new" {
				t.Errorf("first key after purging the other: %q, %v", got, err)
			}
		})
	}
}
