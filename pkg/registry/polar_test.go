package registry_test

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/cog"
)

// A south polar stereographic product whose valid pixels are a ring from
// 39°S to 78°S round a nodata disc over the pole: its footprint, as
// cog.ValidFootprint traces it and PostGIS stores it, holds the ring and
// not the disc, so that a search near the pole finds it only on the data.

// polarRing bounds the valid pixels of the generated raster.
const polarNorth, polarSouth = -39.0, -78.0

// writePolarRing writes a one-band EPSG:3031 GeoTIFF, 50 km pixels out to
// 6500 km from the pole: 1 where the pixel centre lies between polarSouth
// and polarNorth, nodata 0 elsewhere.
func writePolarRing(t *testing.T, path string) {
	t.Helper()
	const w, h = 260, 260
	gt := [6]float64{-6.5e6, 50e3, 0, 6.5e6, 0, -50e3}
	ds, err := godal.Create(godal.GTiff, path, 1, godal.Byte, w, h)
	testenv.Must(t, err, "create %s", path)
	defer ds.Close()
	sr, err := godal.NewSpatialRefFromEPSG(3031)
	testenv.Must(t, err, "EPSG:3031")
	defer sr.Close()
	testenv.Must(t, ds.SetSpatialRef(sr), "CRS")
	testenv.Must(t, ds.SetGeoTransform(gt), "geotransform")
	band := ds.Bands()[0]
	testenv.Must(t, band.SetNoData(0), "nodata")

	xs, ys, ok := make([]float64, w*h), make([]float64, w*h), make([]bool, w*h)
	for r := 0; r < h; r++ {
		for c := 0; c < w; c++ {
			xs[r*w+c] = gt[0] + (float64(c)+0.5)*gt[1]
			ys[r*w+c] = gt[3] + (float64(r)+0.5)*gt[5]
		}
	}
	wgs, err := godal.NewSpatialRefFromEPSG(4326)
	testenv.Must(t, err, "EPSG:4326")
	defer wgs.Close()
	tr, err := godal.NewTransform(sr, wgs)
	testenv.Must(t, err, "transform")
	defer tr.Close()
	// The error only says that some points failed; ok says which.
	_ = tr.TransformEx(xs, ys, nil, ok)
	buf := make([]byte, w*h)
	for i := range buf {
		if lat := ys[i]; ok[i] && lat <= polarNorth && lat >= polarSouth {
			buf[i] = 1
		}
	}
	testenv.Must(t, band.Write(0, 0, buf, w, h), "write")
}

// zoneArea is the area in m² of the WGS84 ellipsoid between two latitudes
// (degrees): the difference of the areas from the equator to each.
func zoneArea(lat1, lat2 float64) float64 {
	const a, f = 6378137.0, 1 / 298.257223563
	b, e := a*(1-f), math.Sqrt(f*(2-f))
	fromEquator := func(lat float64) float64 {
		s := math.Sin(lat * math.Pi / 180)
		return math.Pi * b * b * (s/(1-e*e*s*s) + math.Log((1+e*s)/(1-e*s))/(2*e))
	}
	return math.Abs(fromEquator(lat2) - fromEquator(lat1))
}

func TestPolarRingFootprintIsFoundOnTheDataOnly(t *testing.T) {
	r := open(t)
	ctx := context.Background()
	cog.Init()
	path := filepath.Join(t.TempDir(), "polar.tif")
	writePolarRing(t, path)
	fp, err := cog.ValidFootprint(path, nil)
	testenv.Must(t, err, "valid footprint")
	info, err := cog.Describe(path, nil)
	testenv.Must(t, err, "describe")
	geojson, err := json.Marshal(map[string]any{"type": "MultiPolygon", "coordinates": fp})
	testenv.Must(t, err, "footprint GeoJSON")

	t0 := time.Date(2020, 1, 15, 3, 0, 0, 0, time.UTC)
	p := catalog.Product{Identifier: "POLAR", Collection: "C", ProductType: "T", BeginTime: t0, EndTime: t0.Add(time.Minute),
		FootprintGeoJSON: string(geojson),
		Coverages: []catalog.Coverage{{Name: "POLAR", Location: "C/POLAR/polar.tif", CRS: info.CRS, Width: info.Width, Height: info.Height,
			GeoTransform: info.GeoTransform, Bands: []catalog.Band{{Index: 1, DataType: "Byte", Color: "Gray"}}}}}
	_, err = r.Register(ctx, p, true)
	testenv.Must(t, err, "register")
	// A product elsewhere, so that a query finding everything would show.
	_, err = r.Register(ctx, product("ELSEWHERE", 2, 10, 40), true)
	testenv.Must(t, err, "register ELSEWHERE")

	var valid bool
	var area float64
	testenv.Must(t, r.Pool().QueryRow(ctx, `SELECT ST_IsValid(footprint), ST_Area(footprint::geography)
		FROM products WHERE identifier = 'POLAR'`).Scan(&valid, &area), "stored footprint")
	want := zoneArea(polarSouth, polarNorth)
	t.Logf("stored footprint: valid %v, area %.4g km², ring %.4g km² (ratio %.4f)", valid, area/1e6, want/1e6, area/want)
	if !valid {
		t.Error("stored footprint is not valid (ST_IsValid)")
	}
	if math.Abs(area-want) > 0.1*want {
		t.Errorf("stored footprint's area is %.4g km², want within 10%% of the ring's %.4g km²", area/1e6, want/1e6)
	}

	point := func(lon, lat float64) *[2]float64 { return &[2]float64{lon, lat} }
	for _, c := range []struct {
		name  string
		q     catalog.Query
		found bool
	}{
		{"point at 75°S on the data", catalog.Query{Point: point(0, -75), Radius: 1000}, true},
		{"box 10°W–10°E, 77°S–73°S", catalog.Query{BBox: &[4]float64{-10, -77, 10, -73}}, true},
		{"point at 60°S on the antimeridian", catalog.Query{Point: point(180, -60), Radius: 1000}, true},
		{"point at 60°S just west of the antimeridian", catalog.Query{Point: point(-179.99, -60), Radius: 1000}, true},
		{"point at 85°S in the nodata disc", catalog.Query{Point: point(0, -85), Radius: 1000}, false},
		{"point at 89.9°S by the pole", catalog.Query{Point: point(120, -89.9), Radius: 1000}, false},
		{"box round the pole, 85°S–80°S", catalog.Query{BBox: &[4]float64{-180, -85, 180, -80}}, false},
		{"point at 30°S north of the ring", catalog.Query{Point: point(0, -30), Radius: 1000}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.q.Collection = "C"
			recs, err := r.Find(ctx, c.q)
			testenv.Must(t, err, "find")
			want := ""
			if c.found {
				want = "POLAR"
			}
			if ids(recs) != want {
				t.Errorf("found %q, want %q", ids(recs), want)
			}
		})
	}
}
