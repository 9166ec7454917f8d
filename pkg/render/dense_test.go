package render

import (
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/crs"
	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/registry"
)

// Dense time series: many acquisitions of one place, registered in the real
// catalogue. A map there draws the newest products that cover it, opens
// nothing hidden beneath them, and costs the same whatever the depth of
// the archive.

// denseStart is the acquisition time of a series' oldest product; each
// next one is an hour later.
var denseStart = time.Date(2021, 3, 1, 10, 0, 0, 0, time.UTC)

func denseTime(i int) time.Time { return denseStart.Add(time.Duration(i) * time.Hour) }

// testRegistry opens a fresh catalogue database.
func testRegistry(t testing.TB) *registry.Registry {
	t.Helper()
	reg, err := registry.Open(context.Background(), testenv.Database(t))
	testenv.Must(t, err, "open registry")
	t.Cleanup(reg.Close)
	_, err = reg.Migrate(context.Background())
	testenv.Must(t, err, "migrate")
	return reg
}

// writeCOG writes a 3-band Byte COG in EPSG:4326 over bbox, every pixel
// rgb, and returns its name in dir.
func writeCOG(t testing.TB, dir, name string, bbox [4]float64, rgb [3]byte) string {
	t.Helper()
	const w, h = 64, 64
	mem, err := godal.Create(godal.Memory, "", 3, godal.Byte, w, h)
	testenv.Must(t, err, "create %s", name)
	defer mem.Close()
	sr, _ := godal.NewSpatialRefFromEPSG(4326)
	defer sr.Close()
	testenv.Must(t, mem.SetSpatialRef(sr), "CRS")
	testenv.Must(t, mem.SetGeoTransform([6]float64{bbox[0], (bbox[2] - bbox[0]) / w, 0, bbox[3], 0, -(bbox[3] - bbox[1]) / h}), "geotransform")
	buf := make([]byte, w*h)
	for i, b := range mem.Bands() {
		for k := range buf {
			buf[k] = rgb[i]
		}
		testenv.Must(t, b.Write(0, 0, buf, w, h), "write")
	}
	ds, err := mem.Translate(filepath.Join(dir, name), []string{"-of", "COG", "-co", "BLOCKSIZE=256"})
	testenv.Must(t, err, "COG %s", name)
	testenv.Must(t, ds.Close(), "close %s", name)
	return name
}

// denseProduct is a product of collection coll over one COG of dir.
func denseProduct(t testing.TB, dir, coll, id, name string, at time.Time, footprint string) catalog.Product {
	t.Helper()
	info, err := cog.Describe(filepath.Join(dir, name), nil)
	testenv.Must(t, err, "describe %s", name)
	cov := catalog.Coverage{Name: id, Location: name, CRS: info.CRS, Width: info.Width, Height: info.Height, GeoTransform: info.GeoTransform}
	for _, b := range info.Bands {
		cov.Bands = append(cov.Bands, catalog.Band{Index: b.Index, DataType: b.DataType, Color: b.Color, NoData: b.NoData})
	}
	return catalog.Product{Identifier: id, Collection: coll, ProductType: "OPTICAL", BeginTime: at, EndTime: at.Add(10 * time.Second),
		FootprintGeoJSON: footprint, Coverages: []catalog.Coverage{cov}}
}

func boxFootprint(b [4]float64) string {
	return string(must(json.Marshal(map[string]any{"type": "Polygon", "coordinates": [][][2]float64{rectRing(b)}})))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// registerSeries registers n products of collection coll, one an hour: the
// n-1 oldest over the COG older, the newest over the COG newest.
func registerSeries(t testing.TB, reg *registry.Registry, dir, coll string, n int, older, newest, footprint string) {
	t.Helper()
	ctx := context.Background()
	testenv.Must(t, reg.EnsureCollection(ctx, coll, "", []string{"OPTICAL"}, nil), "collection")
	var ps []catalog.Product
	for i := 0; i < n; i++ {
		name := older
		if i == n-1 {
			name = newest
		}
		ps = append(ps, denseProduct(t, dir, coll, fmt.Sprintf("%s_%04d", coll, i), name, denseTime(i), footprint))
	}
	res, err := reg.RegisterBatch(ctx, ps, false)
	testenv.Must(t, err, "register %d products", n)
	for _, r := range res {
		testenv.Must(t, r.Err, "register")
	}
}

// countingFinder counts the catalogue queries and the records they return.
type countingFinder struct {
	Finder
	queries, records atomic.Int64
}

func (f *countingFinder) Find(ctx context.Context, q catalog.Query) ([]catalog.Record, error) {
	recs, err := f.Finder.Find(ctx, q)
	f.queries.Add(1)
	f.records.Add(int64(len(recs)))
	return recs, err
}

// countingPool opens every coverage drawn afresh (Max 0 keeps nothing
// idle) and counts the opens: the number of coverages read.
func countingPool(opens *atomic.Int64) *Pool {
	return &Pool{Open: func(path string) (*godal.Dataset, error) {
		opens.Add(1)
		return godal.Open(path, godal.RasterOnly())
	}}
}

func TestDenseTimeSeries(t *testing.T) {
	reg := testRegistry(t)
	cog.Init()
	dir := t.TempDir()
	place := [4]float64{10, 40, 12, 41}
	red, blue, green := color.NRGBA{200, 30, 30, 255}, color.NRGBA{30, 30, 200, 255}, color.NRGBA{30, 200, 30, 255}
	older := writeCOG(t, dir, "older.tif", place, [3]byte{red.R, red.G, red.B})
	newest := writeCOG(t, dir, "newest.tif", place, [3]byte{blue.R, blue.G, blue.B})
	westHalf := [4]float64{10, 40, 11, 41}
	west := writeCOG(t, dir, "west.tif", westHalf, [3]byte{green.R, green.G, green.B})
	// What a map reads must not grow with the archive: the same at 30 and
	// at 300 products.
	read := map[int][]int64{}
	for _, n := range []int{30, 300} {
		t.Run(fmt.Sprintf("%d products", n), func(t *testing.T) {
			coll := fmt.Sprintf("DENSE_%d", n)
			registerSeries(t, reg, dir, coll, n, older, newest, boxFootprint(place))
			req := Request{Collection: coll, Browse: config.Browse{Name: "TRUE_COLOR", Bands: []int{1, 2, 3}, Resampling: "nearest"},
				CRS: crs.CRS{Code: 4326}, BBox: [4]float64{10.2, 40.2, 11.8, 40.8}, Width: 64, Height: 32}
			draw := func(req Request) ([]color.NRGBA, int, int64, int64) {
				t.Helper()
				var opens atomic.Int64
				f := &countingFinder{Finder: reg}
				r := &Renderer{Products: f, Objects: dirLocator(dir), MaxProducts: 50, Pool: countingPool(&opens)}
				img, drawn, err := r.Render(context.Background(), req)
				if err != nil {
					t.Fatalf("GetMap: %v", err)
				}
				// Columns 0..31 lie west of lon 11, 32..63 east of it.
				return []color.NRGBA{img.NRGBAAt(1, 16), img.NRGBAAt(30, 1), img.NRGBAAt(33, 30), img.NRGBAAt(62, 16)}, drawn, opens.Load(), f.queries.Load()
			}
			for _, c := range []struct {
				name  string
				times []period.Period
				want  color.NRGBA
			}{
				{"no TIME: the newest", nil, blue},
				{"TIME matching every product: the newest", []period.Period{{Start: denseTime(-1), End: denseTime(n + 1)}}, blue},
				{"TIME before the newest: the newest in it", []period.Period{{Start: denseTime(0), End: denseTime(n - 2)}}, red},
			} {
				req.Times = c.times
				px, drawn, opens, queries := draw(req)
				for _, p := range px {
					if p != c.want {
						t.Errorf("%s: pixel %v, want %v", c.name, p, c.want)
					}
				}
				if drawn != 1 || opens != 1 || queries != 1 {
					t.Errorf("%s: %d products drawn, %d opened, %d catalogue queries; want 1, 1, 1", c.name, drawn, opens, queries)
				}
				read[n] = append(read[n], opens)
			}
			// A product newer still over the west half only: the newest of
			// the series shows beside it, and nothing older.
			res, err := reg.Register(context.Background(), denseProduct(t, dir, coll, coll+"_west", west, denseTime(n), boxFootprint(westHalf)), false)
			testenv.Must(t, err, "register west %v", res)
			req.Times = nil
			px, drawn, opens, queries := draw(req)
			if want := []color.NRGBA{green, green, blue, blue}; fmt.Sprint(px) != fmt.Sprint(want) {
				t.Errorf("partly covered: pixels %v, want %v", px, want)
			}
			if drawn != 2 || opens != 2 || queries != 1 {
				t.Errorf("partly covered: %d products drawn, %d opened, %d catalogue queries; want 2, 2, 1", drawn, opens, queries)
			}
			read[n] = append(read[n], opens)
		})
	}
	if fmt.Sprint(read[30]) != fmt.Sprint(read[300]) {
		t.Errorf("products read per map: %v at 30 products, %v at 300", read[30], read[300])
	}
}

// BenchmarkDenseTimeSeries draws 256x256 GetMaps in EPSG:3857 without TIME
// over 30 and 300 acquisitions of one UTM scene (one COG, registered once
// per acquisition with its valid-pixel footprint), through the real
// catalogue, with the pool, one map at a time: ns/op is the time of one
// GetMap. "inside": boxes within the scene's footprint, which the newest
// product covers (one catalogue query). "mixed": BenchmarkRender's boxes,
// most of which reach past the scene's edge, so that a second query asks
// about the part no product covers.
func BenchmarkDenseTimeSeries(b *testing.B) {
	reg := testRegistry(b)
	cog.Init()
	dir := b.TempDir()
	name := toCOG(b, dir, "RGB.byte.tif")
	fp, err := cog.ValidFootprint(filepath.Join(dir, name), nil)
	testenv.Must(b, err, "footprint")
	footprint := string(must(json.Marshal(map[string]any{"type": "MultiPolygon", "coordinates": fp})))
	rng := rand.New(rand.NewPCG(1, 2))
	var inside, mixed [][4]float64
	for i := 0; i < 64; i++ {
		w := 256 * 150 * float64(int(1)<<rng.IntN(4)) // 150 to 1200 m per pixel
		cx, cy := -8680000+100000*(rng.Float64()-0.5), 2870000+100000*(rng.Float64()-0.5)
		mixed = append(mixed, [4]float64{cx - w/2, cy - w/2, cx + w/2, cy + w/2})
		w = 256 * 150 * float64(int(1)<<rng.IntN(2)) // 150 or 300 m per pixel
		cx, cy = -8650000+60000*(rng.Float64()-0.5), 2830000+60000*(rng.Float64()-0.5)
		inside = append(inside, [4]float64{cx - w/2, cy - w/2, cx + w/2, cy + w/2})
	}
	for _, n := range []int{30, 300} {
		coll := fmt.Sprintf("DENSE_%d", n)
		registerSeries(b, reg, dir, coll, n, name, name, footprint)
		for _, set := range []struct {
			name  string
			boxes [][4]float64
		}{{"inside", inside}, {"mixed", mixed}} {
			b.Run(fmt.Sprintf("products=%d/boxes=%s", n, set.name), func(b *testing.B) {
				f := &countingFinder{Finder: reg}
				r := &Renderer{Products: f, Objects: dirLocator(dir), MaxProducts: 50, Pool: newPool(8)}
				b.ReportAllocs()
				drawn, i := 0, 0
				for b.Loop() {
					req := Request{Collection: coll, Browse: config.Browse{Name: "TRUE_COLOR", Bands: []int{1, 2, 3}, Resampling: "nearest"},
						CRS: crs.CRS{Code: 3857}, BBox: set.boxes[i%len(set.boxes)], Width: 256, Height: 256}
					_, d, err := r.Render(context.Background(), req)
					if err != nil {
						b.Fatal(err)
					}
					drawn += d
					i++
				}
				b.ReportMetric(float64(drawn)/float64(i), "drawn/op")
				b.ReportMetric(float64(f.queries.Load())/float64(i), "queries/op")
			})
		}
	}
}
