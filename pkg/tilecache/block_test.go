package tilecache

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
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

// TestBlockTilesKeepAlphaWhereTheyHaveIt cuts a 3×2-tile raw block where
// two tiles have one translucent pixel each, one in its last row (read in
// the block's last band), one in a middle row: those tiles keep their
// alpha, the others are written as RGB, and every pixel comes back as
// drawn.
func TestBlockTilesKeepAlphaWhereTheyHaveIt(t *testing.T) {
	const cols, rows, ts = 3, 2, 256
	w, h := cols*ts, rows*ts
	pix := make([]byte, w*h*4)
	for i := 0; i < len(pix); i += 4 {
		p := i / 4
		pix[i], pix[i+1], pix[i+2], pix[i+3] = byte(p%w), byte(p/w), byte(p), 255
	}
	// Tile row 1, column 2: its last row's first pixel; tile row 0,
	// column 1: its row 100's last pixel.
	pix[((h-1)*w+2*ts)*4+3] = 40
	pix[(100*w+2*ts-1)*4+3] = 200
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", rawFormat)
		rw.Header().Set("Content-Length", strconv.Itoa(len(pix)))
		rw.Write(pix)
	}))
	defer srv.Close()
	k := tile.Key{Layer: "L", Grid: "GoogleMapsCompatible", Time: tile.DefaultTime, Z: 5, Format: "png"}
	tiles, err := WMSSource{URL: srv.URL}.Block(context.Background(), Block{Key: k, MinRow: 10, MinCol: 20, Rows: rows, Cols: cols})
	if err != nil {
		t.Fatal(err)
	}
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			data := tiles[tile.Pos{Row: 10 + r, Col: 20 + c}]
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("tile %d,%d: %v", r, c, err)
			}
			_, rgb := img.(*image.RGBA)
			if translucent := r == 1 && c == 2 || r == 0 && c == 1; rgb == translucent {
				t.Errorf("tile %d,%d decoded as %T", r, c, img)
			}
			for y := 0; y < ts; y++ {
				for x := 0; x < ts; x++ {
					o := ((r*ts+y)*w + c*ts + x) * 4
					want := color.NRGBA{pix[o], pix[o+1], pix[o+2], pix[o+3]}
					if got := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA); got != want {
						t.Fatalf("tile %d,%d pixel %d,%d: %v, want %v", r, c, x, y, got, want)
					}
				}
			}
		}
	}
	// A body of the wrong length is an error, not tiles.
	short := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", rawFormat)
		rw.Write(pix[:len(pix)-4])
	}))
	defer short.Close()
	if _, err := (WMSSource{URL: short.URL}).Block(context.Background(), Block{Key: k, Rows: rows, Cols: cols}); err == nil {
		t.Error("a short block was cut into tiles")
	}
}
