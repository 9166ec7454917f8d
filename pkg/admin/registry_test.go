package admin

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/ops"
	"github.com/pvs/pvs/pkg/registry"
	"github.com/pvs/pvs/pkg/seed"
	"github.com/pvs/pvs/pkg/store/file"
	"github.com/pvs/pvs/pkg/tile"
	"github.com/pvs/pvs/pkg/tilecache"
)

// catalogue is a registry of its own holding collection C and products
// P1 (2018-06-15, over 10-11°E 40-41°N) and P2 (2018-06-17).
func catalogue(t *testing.T) *registry.Registry {
	t.Helper()
	ctx := context.Background()
	reg, err := registry.Open(ctx, testenv.Database(t))
	testenv.Must(t, err, "open registry")
	t.Cleanup(reg.Close)
	_, err = reg.Migrate(ctx)
	testenv.Must(t, err, "migrate")
	testenv.Must(t, reg.EnsureCollection(ctx, "C", "Collection C", []string{"T"}, []string{"TRUE_COLOR"}), "collection")
	for _, p := range []struct {
		id  string
		day int
	}{{"P1", 15}, {"P2", 17}} {
		t0 := time.Date(2018, 6, p.day, 10, 0, 0, 0, time.UTC)
		_, err := reg.Register(ctx, catalog.Product{Identifier: p.id, Collection: "C", ProductType: "T", BeginTime: t0, EndTime: t0.Add(time.Minute),
			FootprintGeoJSON: `{"type":"Polygon","coordinates":[[[10,40],[11,40],[11,41],[10,41],[10,40]]]}`,
			Coverages: []catalog.Coverage{{Name: p.id, Location: "C/" + p.id + "/" + p.id + ".tif", CRS: "EPSG:4326", Width: 10, Height: 10,
				GeoTransform: [6]float64{10, 0.1, 0, 41, 0, -0.1}, Bands: []catalog.Band{{Index: 1, DataType: "Byte", Color: "Gray"}}}}}, true)
		testenv.Must(t, err, "register %s", p.id)
	}
	return reg
}

// Deregistration now removes products from the real catalogue, each on
// its own; through the queue it hands them to the registrars; without a
// catalogue it is unavailable (503).
func TestDeregister(t *testing.T) {
	t.Parallel()
	reg := catalogue(t)
	f := newFixture(t, func(o *ops.Ops) {
		o.Deregister = func(ctx context.Context, id string) error {
			_, err := reg.Deregister(ctx, id)
			return err
		}
	})
	ctx := context.Background()
	var res deregisterAnswer
	a := f.call(t, "POST", "/api/deregister", testToken, map[string]any{"identifiers": []string{"P1", "NOPE"}})
	f.want(t, a, http.StatusOK, "deregister now")
	a.json(t, &res)
	if len(res.Removals) != 2 || !res.Removals[0].Removed || res.Removals[1].Removed || res.Removals[1].Error == "" || len(res.Queued) != 0 {
		t.Errorf("deregister now: %s", a.body)
	}
	if _, err := reg.Get(ctx, "P1"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("P1 after its deregistration: %v", err)
	}
	if _, err := reg.Get(ctx, "P2"); err != nil {
		t.Errorf("P2 was not asked to go: %v", err)
	}

	a = f.call(t, "POST", "/api/deregister", testToken, map[string]any{"identifiers": []string{"P2"}, "queue": true})
	f.want(t, a, http.StatusOK, "deregister through the queue")
	res = deregisterAnswer{}
	a.json(t, &res)
	if len(res.Queued) != 1 || !res.Queued[0].Pushed || res.Queued[0].Queue != "deregister_queue" {
		t.Errorf("deregister through the queue: %s", a.body)
	}
	if n, _ := f.q.Redis().LLen(ctx, f.q.Key("deregister_queue")).Result(); n != 1 {
		t.Errorf("deregister_queue holds %d items, want 1", n)
	}

	for _, tc := range []struct {
		body  any
		field string
		says  string
	}{
		{map[string]any{}, "identifiers", "no product identifier"},
		{map[string]any{"identifiers": []string{""}}, "identifiers", "empty item"},
		{map[string]any{"identifiers": []string{"P2"}, "keep": true}, "", `unknown field "keep"`},
		{map[string]any{"identifiers": []string{"P2"}, "queue": "yes"}, "", `field "queue" must be true or false`},
	} {
		a := f.call(t, "POST", "/api/deregister", testToken, tc.body)
		f.want(t, a, http.StatusBadRequest, "deregister")
		if e := a.apiErr(t); e.Field != tc.field || !strings.Contains(e.Error, tc.says) {
			t.Errorf("deregister %v: %+v, want field %q saying %q", tc.body, e, tc.field, tc.says)
		}
	}

	bare := newFixture(t, nil)
	a = bare.call(t, "POST", "/api/deregister", testToken, map[string]any{"identifiers": []string{"P2"}})
	f.want(t, a, http.StatusServiceUnavailable, "deregister now without a catalogue")
	if e := a.apiErr(t); !strings.Contains(e.Error, "not available") {
		t.Errorf("without a catalogue: %+v", e)
	}
}

// Seeding now plans over the real catalogue (a dry run counts the tiles)
// and truncation removes the cached tiles of the products' footprints.
func TestSeedAndTruncate(t *testing.T) {
	t.Parallel()
	reg := catalogue(t)
	cache, err := file.New(t.TempDir())
	testenv.Must(t, err, "cache store")
	s := &seed.Seeder{Products: reg, Tiles: &tilecache.Tiler{Cache: tilecache.StoreCache{Store: cache}},
		Collection: "C", Grid: tile.WorldCRS84Quad, MinZoom: 0, MaxZoom: 2, Format: "png", MetaTile: 2, Concurrency: 1}
	f := newFixture(t, func(o *ops.Ops) { o.Seeder = s })
	ctx := context.Background()

	var sum ops.SeedSummary
	a := f.call(t, "POST", "/api/seed", testToken, map[string]any{"interval": "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z", "dry_run": true})
	f.want(t, a, http.StatusOK, "dry run")
	a.json(t, &sum)
	if sum.Verb != "seed" || sum.Products != 1 || sum.Ran || sum.MinZoom != 0 || sum.MaxZoom != 2 || len(sum.Levels) != 3 ||
		sum.Levels[0].Tiles != 1 || sum.Total != 2*sum.Tiles {
		t.Errorf("dry run: %s", a.body)
	}
	a = f.call(t, "POST", "/api/seed", testToken, map[string]any{"interval": "2018-06-01T00:00:00Z/2018-07-01T00:00:00Z",
		"zoom": "1", "bbox": "-20,-20,20,50", "grid": "WorldCRS84Quad", "layers": []string{"C"}, "dry_run": true})
	f.want(t, a, http.StatusOK, "dry run with every option")
	a.json(t, &sum)
	if sum.Products != 2 || sum.MinZoom != 1 || sum.MaxZoom != 1 {
		t.Errorf("dry run with every option: %s", a.body)
	}

	// The tile of P1 at zoom 0 under the default time key, then truncated.
	key := tile.Key{Layer: "C", Grid: "WorldCRS84Quad", Time: tile.DefaultTime, Z: 0, Col: 1, Row: 0, Format: "png"}
	testenv.Must(t, cache.Put(ctx, key.Path(), bytes.NewReader([]byte("png"))), "put a tile")
	a = f.call(t, "POST", "/api/seed", testToken, map[string]any{"interval": "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z", "zoom": "0", "truncate": true})
	f.want(t, a, http.StatusOK, "truncate")
	a.json(t, &sum)
	if sum.Verb != "truncate" || !sum.Ran || sum.Done != 2 {
		t.Errorf("truncate: %s", a.body)
	}
	if _, err := cache.Get(ctx, key.Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("tile %s after truncation: %v", key.Path(), err)
	}

	for _, tc := range []struct {
		body  map[string]any
		field string
		says  string
	}{
		{map[string]any{}, "interval", "required"},
		{map[string]any{"interval": "yesterday"}, "interval", "interval: "},
		{map[string]any{"interval": "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z", "zoom": "3-1"}, "zoom", "want N or MIN-MAX"},
		{map[string]any{"interval": "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z", "zoom": "30"}, "zoom", "within 0-24"},
		{map[string]any{"interval": "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z", "bbox": "1,2,3"}, "bbox", "bbox: "},
		{map[string]any{"interval": "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z", "grid": "Mercator"}, "grid", `unknown grid "Mercator"`},
		{map[string]any{"interval": "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z", "zoom": 3}, "", `field "zoom" must be a string`},
	} {
		a := f.call(t, "POST", "/api/seed", testToken, tc.body)
		f.want(t, a, http.StatusBadRequest, "seed")
		if e := a.apiErr(t); e.Field != tc.field || !strings.Contains(e.Error, tc.says) {
			t.Errorf("seed %v: %+v, want field %q saying %q", tc.body, e, tc.field, tc.says)
		}
	}
	bare := newFixture(t, nil)
	a = bare.call(t, "POST", "/api/seed", testToken, map[string]any{"interval": "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z", "dry_run": true})
	f.want(t, a, http.StatusServiceUnavailable, "seed without a seeder")
	a.apiErr(t)
}
