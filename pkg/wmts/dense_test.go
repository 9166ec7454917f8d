package wmts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/layer"
	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/registry"
	"github.com/pvs/pvs/pkg/render"
	"github.com/pvs/pvs/pkg/store/file"
	"github.com/pvs/pvs/pkg/tile"
	"github.com/pvs/pvs/pkg/tilecache"
	"github.com/pvs/pvs/pkg/wms"
	"github.com/pvs/pvs/pkg/wmts"
)

// A dense time series through the front ends as the daemons mount them:
// hundreds of registered acquisitions of one place in the real catalogue,
// a WMS GetMap without TIME through the real WMS handler and renderer, and
// a WMTS tile through the real WMTS handler and tile cache, whose WMS
// source is that WMS handler over HTTP. Both show the newest product, and
// open it alone whatever the depth of the archive (pkg/render's
// TestDenseTimeSeries checks the same at the renderer).

// densePlace is where every product of the series lies, lon/lat.
var densePlace = [4]float64{-5, 30, 15, 50}

var denseStart = time.Date(2021, 3, 1, 10, 0, 0, 0, time.UTC)

// writeDenseCOG writes a 3-band Byte COG in EPSG:4326 over densePlace,
// every pixel rgb, as dir/name.
func writeDenseCOG(t *testing.T, dir, name string, rgb color.NRGBA) {
	t.Helper()
	const w, h = 64, 64
	b := densePlace
	mem, err := godal.Create(godal.Memory, "", 3, godal.Byte, w, h)
	testenv.Must(t, err, "create %s", name)
	defer mem.Close()
	sr, err := godal.NewSpatialRefFromEPSG(4326)
	testenv.Must(t, err, "EPSG:4326")
	defer sr.Close()
	testenv.Must(t, mem.SetSpatialRef(sr), "CRS")
	testenv.Must(t, mem.SetGeoTransform([6]float64{b[0], (b[2] - b[0]) / w, 0, b[3], 0, -(b[3] - b[1]) / h}), "geotransform")
	buf := make([]byte, w*h)
	for i, band := range mem.Bands() {
		for k := range buf {
			buf[k] = []uint8{rgb.R, rgb.G, rgb.B}[i]
		}
		testenv.Must(t, band.Write(0, 0, buf, w, h), "write")
	}
	ds, err := mem.Translate(filepath.Join(dir, name), []string{"-of", "COG", "-co", "BLOCKSIZE=256"})
	testenv.Must(t, err, "COG %s", name)
	testenv.Must(t, ds.Close(), "close %s", name)
}

// registerDense registers n products of collection coll over densePlace,
// one an hour: the n-1 oldest over dir/older, the newest over dir/newest.
func registerDense(t *testing.T, reg *registry.Registry, dir, coll string, n int, older, newest string) {
	t.Helper()
	ctx := context.Background()
	testenv.Must(t, reg.EnsureCollection(ctx, coll, "", []string{"OPTICAL"}, []string{"TRUE_COLOR"}), "collection")
	b := densePlace
	fp, err := json.Marshal(map[string]any{"type": "Polygon",
		"coordinates": [][][2]float64{{{b[0], b[1]}, {b[2], b[1]}, {b[2], b[3]}, {b[0], b[3]}, {b[0], b[1]}}}})
	testenv.Must(t, err, "footprint")
	var ps []catalog.Product
	for i := 0; i < n; i++ {
		name := older
		if i == n-1 {
			name = newest
		}
		info, err := cog.Describe(filepath.Join(dir, name), nil)
		testenv.Must(t, err, "describe %s", name)
		id := fmt.Sprintf("%s_%04d", coll, i)
		cov := catalog.Coverage{Name: id, Location: name, CRS: info.CRS, Width: info.Width, Height: info.Height, GeoTransform: info.GeoTransform}
		for _, band := range info.Bands {
			cov.Bands = append(cov.Bands, catalog.Band{Index: band.Index, DataType: band.DataType, Color: band.Color, NoData: band.NoData})
		}
		at := denseStart.Add(time.Duration(i) * time.Hour)
		ps = append(ps, catalog.Product{Identifier: id, Collection: coll, ProductType: "OPTICAL", BeginTime: at, EndTime: at.Add(10 * time.Second),
			FootprintGeoJSON: string(fp), Coverages: []catalog.Coverage{cov}})
	}
	res, err := reg.RegisterBatch(ctx, ps, false)
	testenv.Must(t, err, "register %d products", n)
	for _, r := range res {
		testenv.Must(t, r.Err, "register")
	}
}

// backend joins the layer catalog and the renderer, as cmd/pvs's does.
type backend struct {
	layer.Catalog
	r *render.Renderer
}

func (b backend) Render(ctx context.Context, m wms.MapRequest) (*image.NRGBA, error) {
	req := render.Request{Collection: m.Layer.Collection, Browse: m.Layer.Browse, CRS: m.CRS, BBox: m.BBox,
		Width: m.Width, Height: m.Height, Identifier: m.Layer.Identifier, Background: m.Background}
	for _, p := range m.Times {
		req.Times = append(req.Times, period.Period{Start: p.Start, End: p.End})
	}
	img, _, err := b.r.Render(ctx, req)
	return img, err
}

// extents reads collection extents from the registry's summaries.
type extents struct{ reg *registry.Registry }

func (e extents) CollectionExtent(ctx context.Context, name string) (layer.Extent, error) {
	s, err := e.reg.Collection(ctx, name)
	return layer.Extent{BBox: s.BBox, Start: s.BeginTime, End: s.EndTime}, err
}

// countingFinder counts the catalogue queries.
type countingFinder struct {
	render.Finder
	queries atomic.Int64
}

func (f *countingFinder) Find(ctx context.Context, q catalog.Query) ([]catalog.Record, error) {
	f.queries.Add(1)
	return f.Finder.Find(ctx, q)
}

type dirLocator string

func (d dirLocator) GDALPath(key string) string { return filepath.Join(string(d), key) }

// pixels decodes a PNG answer and returns the listed pixels.
func pixels(t *testing.T, rec *httptest.ResponseRecorder, at ...image.Point) []color.NRGBA {
	t.Helper()
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("answer %d %s: %.300s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	img, err := png.Decode(bytes.NewReader(rec.Body.Bytes()))
	testenv.Must(t, err, "decode PNG")
	var out []color.NRGBA
	for _, p := range at {
		out = append(out, color.NRGBAModel.Convert(img.At(p.X, p.Y)).(color.NRGBA))
	}
	return out
}

func TestDenseTimeSeriesThroughWMSAndWMTS(t *testing.T) {
	ctx := context.Background()
	reg, err := registry.Open(ctx, testenv.Database(t))
	testenv.Must(t, err, "open registry")
	t.Cleanup(reg.Close)
	_, err = reg.Migrate(ctx)
	testenv.Must(t, err, "migrate")
	cog.Init()
	dir := t.TempDir()
	red, blue := color.NRGBA{200, 30, 30, 255}, color.NRGBA{30, 30, 200, 255}
	writeDenseCOG(t, dir, "older.tif", red)
	writeDenseCOG(t, dir, "newest.tif", blue)
	log := slog.New(slog.DiscardHandler)
	browse := config.Browse{Name: "TRUE_COLOR", Bands: []int{1, 2, 3}, Resampling: "nearest"}

	// A WorldCRS84Quad tile inside densePlace: lon 0 to 11.25, lat 33.75 to 45.
	grid, _ := tile.Lookup("WorldCRS84Quad")
	const z, row, col = 4, 4, 16
	if tb := grid.BBox(z, row, col); tb[0] < densePlace[0] || tb[1] < densePlace[1] || tb[2] > densePlace[2] || tb[3] > densePlace[3] {
		t.Fatalf("tile %d/%d/%d spans %v, outside the products' %v", z, row, col, tb, densePlace)
	}
	corners := []image.Point{{0, 0}, {255, 0}, {128, 128}, {0, 255}, {255, 255}}

	took := map[int]time.Duration{}
	for _, n := range []int{30, 300} {
		t.Run(fmt.Sprintf("%d products", n), func(t *testing.T) {
			coll := fmt.Sprintf("DENSE_%d", n)
			registerDense(t, reg, dir, coll, n, "older.tif", "newest.tif")
			var opens atomic.Int64
			finder := &countingFinder{Finder: reg}
			catalog := layer.Catalog{Extents: extents{reg}, Collections: []config.Collection{{Name: coll, Title: coll, Browses: []config.Browse{browse}}}}
			// Max 0 keeps no dataset open between draws: every coverage
			// drawn is opened, and counted.
			pool := &render.Pool{Open: func(path string) (*godal.Dataset, error) {
				opens.Add(1)
				return godal.Open(path, godal.RasterOnly())
			}}
			wmsH := &wms.Handler{Log: log, Service: wms.Service{Title: "t", MaxSize: 4096},
				Backend: backend{Catalog: catalog, r: &render.Renderer{Products: finder, Objects: dirLocator(dir), MaxProducts: 50, Pool: pool, Log: log}}}
			// Each draw is measured alone: what it opened and asked the
			// catalogue.
			measure := func(t *testing.T, what string, do func()) {
				t.Helper()
				o, q := opens.Load(), finder.queries.Load()
				do()
				if o, q = opens.Load()-o, finder.queries.Load()-q; o != 1 || q != 1 {
					t.Errorf("%s: %d products opened, %d catalogue queries; want 1, 1", what, o, q)
				}
			}

			getMap := "/ows?" + url.Values{"SERVICE": {"WMS"}, "VERSION": {"1.3.0"}, "REQUEST": {"GetMap"}, "LAYERS": {coll}, "STYLES": {""},
				"CRS": {"CRS:84"}, "BBOX": {"2,36,9,43"}, "WIDTH": {"64"}, "HEIGHT": {"64"}, "FORMAT": {"image/png"}}.Encode()
			var times []time.Duration
			for i := 0; i < 5; i++ {
				rec := httptest.NewRecorder()
				measure(t, "GetMap", func() {
					start := time.Now()
					wmsH.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, getMap, nil))
					times = append(times, time.Since(start))
				})
				for _, p := range pixels(t, rec, image.Point{0, 0}, image.Point{63, 0}, image.Point{32, 32}, image.Point{0, 63}, image.Point{63, 63}) {
					if p != blue {
						t.Errorf("GetMap without TIME: pixel %v, want the newest product's %v", p, blue)
					}
				}
			}
			slices.Sort(times)
			took[n] = times[len(times)/2]
			t.Logf("GetMap over %d products: median %v of %d (min %v, max %v)", n, took[n], len(times), times[0], times[len(times)-1])

			// The WMTS tile, drawn by the tile cache through the WMS over HTTP.
			srv := httptest.NewServer(wmsH)
			t.Cleanup(srv.Close)
			cache, err := file.New(t.TempDir())
			testenv.Must(t, err, "tile cache store")
			tiler := &tilecache.Tiler{Cache: tilecache.StoreCache{Store: cache}, Source: tilecache.WMSSource{URL: srv.URL + "/ows", Client: srv.Client()}}
			wmtsH := &wmts.Handler{Tiles: tiler, Layers: catalog, Prefix: "/wmts", Log: log}
			path := fmt.Sprintf("/wmts/1.0.0/%s/default/%s/%d/%d/%d.png", coll, grid.Name, z, row, col)
			rec := httptest.NewRecorder()
			measure(t, "WMTS tile", func() { wmtsH.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil)) })
			for _, p := range pixels(t, rec, corners...) {
				if p != blue {
					t.Errorf("WMTS tile: pixel %v, want the newest product's %v", p, blue)
				}
			}
		})
	}
	t.Logf("GetMap median: %v at 30 products, %v at 300", took[30], took[300])
}
