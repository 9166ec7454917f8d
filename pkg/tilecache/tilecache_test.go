package tilecache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/store/file"
	"github.com/pvs/pvs/pkg/tile"
)

type countingSource struct {
	calls atomic.Int32
	delay time.Duration
	err   error
}

func (s *countingSource) Tile(ctx context.Context, k tile.Key) ([]byte, error) {
	s.calls.Add(1)
	time.Sleep(s.delay)
	if s.err != nil {
		return nil, s.err
	}
	return []byte("tile " + k.Path()), nil
}

func newTiler(t *testing.T, src Source) (*Tiler, StoreCache) {
	st, err := file.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := StoreCache{Store: st, Prefix: "cache/"}
	return &Tiler{Cache: c, Source: src}, c
}

var key = tile.Key{Layer: "L", Grid: "GoogleMapsCompatible", Time: tile.DefaultTime, Z: 3, Row: 2, Col: 1, Format: "png"}

func TestMissRendersOnceThenHits(t *testing.T) {
	src := &countingSource{delay: 50 * time.Millisecond}
	tl, c := newTiler(t, src)
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data, _, err := tl.Get(context.Background(), key)
			if err != nil || string(data) != "tile "+key.Path() {
				t.Errorf("Get = %q, %v", data, err)
			}
		}()
	}
	wg.Wait()
	if n := src.calls.Load(); n != 1 {
		t.Errorf("16 concurrent misses rendered %d times, want 1", n)
	}
	data, hit, err := tl.Get(context.Background(), key)
	if err != nil || !hit || string(data) != "tile "+key.Path() {
		t.Errorf("second Get: hit=%v %q %v", hit, data, err)
	}
	if got, err := c.Get(context.Background(), key); err != nil || string(got) != "tile "+key.Path() {
		t.Errorf("cache holds %q, %v", got, err)
	}
	if err := c.Purge(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(context.Background(), key); !errors.Is(err, ErrMiss) {
		t.Errorf("after Purge: %v, want ErrMiss", err)
	}
}

func TestFailedRenderIsNotCached(t *testing.T) {
	src := &countingSource{err: errors.New("renderer down")}
	tl, c := newTiler(t, src)
	if _, _, err := tl.Get(context.Background(), key); err == nil {
		t.Fatal("error swallowed")
	}
	if _, err := c.Get(context.Background(), key); !errors.Is(err, ErrMiss) {
		t.Errorf("a failed rendering left a cached tile: %v", err)
	}
	src.err = nil
	if _, hit, err := tl.Get(context.Background(), key); err != nil || hit {
		t.Errorf("after recovery: hit=%v err=%v", hit, err)
	}
}

func TestWMSSourceAsksForTheTileBBox(t *testing.T) {
	var query map[string][]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.Query()
		w.Header().Set("Content-Type", r.URL.Query().Get("FORMAT"))
		w.Write([]byte("png"))
	}))
	defer srv.Close()
	src := WMSSource{URL: srv.URL + "/ows"}
	k := tile.Key{Layer: "L", Grid: "WorldCRS84Quad", Time: "2018-06-15T00:00:00Z--2018-06-16T00:00:00Z", Z: 0, Row: 0, Col: 1, Format: "jpeg"}
	data, err := src.Tile(context.Background(), k)
	if err != nil || string(data) != "png" {
		t.Fatalf("%q %v", data, err)
	}
	for p, want := range map[string]string{"BBOX": "0,-90,180,90", "CRS": "CRS:84", "WIDTH": "256", "FORMAT": "image/jpeg",
		"TIME": "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z", "LAYERS": "L", "VERSION": "1.3.0"} {
		if v := fmt.Sprint(query[p]); v != "["+want+"]" {
			t.Errorf("%s = %s, want %s", p, v, want)
		}
	}
	// An exception from the renderer is an error, not a tile.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(400)
		w.Write([]byte("<ServiceExceptionReport/>"))
	}))
	defer bad.Close()
	if _, err := (WMSSource{URL: bad.URL}).Tile(context.Background(), k); err == nil {
		t.Error("exception accepted as a tile")
	}
}

func TestOpenServesFilesWithAStableValidator(t *testing.T) {
	tl, _ := newTiler(t, &countingSource{})
	miss, err := tl.Open(context.Background(), key)
	if err != nil || miss.Hit || miss.Size != int64(len("tile "+key.Path())) {
		t.Fatalf("miss: %+v %v", miss, err)
	}
	miss.Body.Close()
	a, err := tl.Open(context.Background(), key)
	if err != nil || !a.Hit {
		t.Fatalf("hit: %+v %v", a, err)
	}
	if _, ok := a.Body.(*os.File); !ok {
		t.Errorf("a cached tile on disk is served from a %T, not the file", a.Body)
	}
	a.Body.Close()
	b, _ := tl.Open(context.Background(), key)
	b.Body.Close()
	if a.Version != b.Version || a.Version == "" {
		t.Errorf("validators %q and %q of an unchanged tile differ", a.Version, b.Version)
	}
	time.Sleep(10 * time.Millisecond)
	if _, err := tl.Render(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	c, _ := tl.Open(context.Background(), key)
	c.Body.Close()
	if c.Version == a.Version {
		t.Error("the validator did not change when the tile was stored again")
	}
}

// OpenCached reads the cache and never draws: a miss is ErrMiss, through
// the memory layer too, and a tile held in memory comes with its bytes.
func TestOpenCachedNeverDraws(t *testing.T) {
	src := &countingSource{}
	tl, _ := newTiler(t, src)
	tl.Cache = &Hot{Cache: tl.Cache, MaxBytes: 1 << 20}
	ctx := context.Background()
	if _, err := tl.OpenCached(ctx, key); !errors.Is(err, ErrMiss) {
		t.Fatalf("OpenCached of a tile not drawn: %v, want ErrMiss", err)
	}
	if n := src.calls.Load(); n != 0 {
		t.Fatalf("OpenCached drew %d tiles", n)
	}
	c, err := tl.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	c.Body.Close()
	c, err = tl.OpenCached(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Body.Close()
	if !c.Hit || string(c.Data) != "tile "+key.Path() || c.Size != int64(len(c.Data)) {
		t.Errorf("OpenCached after drawing: hit=%v data %q size %d", c.Hit, c.Data, c.Size)
	}
	if n := src.calls.Load(); n != 1 {
		t.Errorf("drawn %d times, want once", n)
	}
}
