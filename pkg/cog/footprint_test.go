package cog

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"
)

// grid is a generated one-band raster: 1 where valid says so (by the lon/lat
// of the pixel centre, ok false where PROJ cannot place it), else nodata 0.
type grid struct {
	crs   string
	gt    [6]float64
	w, h  int
	valid func(lon, lat float64, ok bool) bool
}

func (g grid) write(t *testing.T, path string) {
	t.Helper()
	ds, err := godal.Create(godal.GTiff, path, 1, godal.Byte, g.w, g.h)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if g.crs != "" {
		sr, err := godal.NewSpatialRef(g.crs)
		if err != nil {
			t.Fatal(err)
		}
		defer sr.Close()
		if err := ds.SetSpatialRef(sr); err != nil {
			t.Fatal(err)
		}
	}
	if err := ds.SetGeoTransform(g.gt); err != nil {
		t.Fatal(err)
	}
	band := ds.Bands()[0]
	if err := band.SetNoData(0); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, g.w*g.h)
	lon, lat, ok := g.centres(t)
	for i := range buf {
		if g.valid(lon[i], lat[i], ok[i]) {
			buf[i] = 1
		}
	}
	if err := band.Write(0, 0, buf, g.w, g.h); err != nil {
		t.Fatal(err)
	}
}

// centres are the lon/lat of the pixel centres, row by row.
func (g grid) centres(t *testing.T) (lon, lat []float64, ok []bool) {
	n := g.w * g.h
	lon, lat, ok = make([]float64, n), make([]float64, n), make([]bool, n)
	for r := 0; r < g.h; r++ {
		for c := 0; c < g.w; c++ {
			x, y := float64(c)+0.5, float64(r)+0.5
			lon[r*g.w+c] = g.gt[0] + x*g.gt[1] + y*g.gt[2]
			lat[r*g.w+c] = g.gt[3] + x*g.gt[4] + y*g.gt[5]
		}
	}
	if g.crs == "" {
		return lon, lat, ok
	}
	sr, _ := godal.NewSpatialRef(g.crs)
	defer sr.Close()
	wgs, _ := godal.NewSpatialRefFromEPSG(4326)
	defer wgs.Close()
	tr, err := godal.NewTransform(sr, wgs)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	_ = tr.TransformEx(lon, lat, nil, ok)
	return lon, lat, ok
}

func everywhere(float64, float64, bool) bool { return true }

// box is a lon/lat rectangle, densified along its parallels.
func box(west, south, east, north float64) [][][2]float64 {
	var r [][2]float64
	for lon := west; lon < east; lon++ {
		r = append(r, [2]float64{lon, south})
	}
	r = append(r, [2]float64{east, south})
	for lon := east; lon > west; lon-- {
		r = append(r, [2]float64{lon, north})
	}
	return [][][2]float64{append(r, [2]float64{west, north}, [2]float64{west, south})}
}

// cap is the circle of angular radius deg (on the sphere) round lon 0, lat 0.
func cap(deg float64) [][][2]float64 {
	var r [][2]float64
	th := deg * math.Pi / 180
	for b := 0; b <= 360; b++ {
		br := float64(b) * math.Pi / 180
		lat := math.Asin(math.Sin(th) * math.Cos(br))
		lon := math.Atan2(math.Sin(br)*math.Sin(th), math.Cos(th))
		r = append(r, [2]float64{lon * 180 / math.Pi, lat * 180 / math.Pi})
	}
	r[len(r)-1] = r[0]
	return [][][2]float64{r}
}

// limb is the angular radius of the Earth seen from a geostationary orbit.
var limb = math.Acos(6378137.0/(6378137.0+35785831)) * 180 / math.Pi

func TestValidFootprintCoversTheValidPixelsTrueArea(t *testing.T) {
	Init()
	cases := []struct {
		name  string
		grid  grid
		truth [][][][2]float64 // the valid pixels' area, lon/lat
		check func(t *testing.T, fp [][][][2]float64)
	}{
		{name: "south polar stereographic ring round a nodata Antarctica",
			grid: grid{crs: "EPSG:3031", gt: [6]float64{-6.5e6, 50e3, 0, 6.5e6, 0, -50e3}, w: 260, h: 260,
				valid: func(_, lat float64, ok bool) bool { return ok && lat <= -39 && lat >= -78 }},
			truth: [][][][2]float64{box(-180, -78, 180, -39)},
			check: func(t *testing.T, fp [][][][2]float64) {
				if _, s, _, n := bounds(fp); s > -77.5 || n < -39.5 {
					t.Errorf("footprint spans latitudes %.2f to %.2f, want about -78 to -39", s, n)
				}
			}},
		{name: "bottom-up EPSG:4326 world, every pixel valid",
			grid:  grid{crs: "EPSG:4326", gt: [6]float64{-180, 1, 0, -90, 0, 1}, w: 360, h: 180, valid: everywhere},
			truth: [][][][2]float64{box(-180, -90, 180, 90)}},
		{name: "rotated UTM scene",
			grid: grid{crs: "EPSG:32633", gt: [6]float64{400e3, 866, 500, 5.5e6, 500, -866}, w: 200, h: 150,
				valid: everywhere},
			truth: rotatedTruth(t, "EPSG:32633", [6]float64{400e3, 866, 500, 5.5e6, 500, -866}, 200, 150)},
		{name: "EPSG:4326 from 150°E to 206°E",
			grid:  grid{crs: "EPSG:4326", gt: [6]float64{150, 0.2, 0, 84, 0, -0.2}, w: 280, h: 220, valid: everywhere},
			truth: [][][][2]float64{box(150, 40, 180, 84), box(-180, 40, -154, 84)},
			check: func(t *testing.T, fp [][][][2]float64) {
				if w, _, e, _ := bounds(fp); w > -153 || e < 179.9 {
					t.Errorf("footprint spans longitudes %.2f to %.2f, want parts on both sides of the antimeridian", w, e)
				}
			}},
		{name: "geostationary full disk, corners off the disk",
			grid: grid{crs: "+proj=geos +h=35785831 +lon_0=0 +sweep=y", gt: [6]float64{-5.57e6, 40e3, 0, 5.57e6, 0, -40e3}, w: 279, h: 279,
				valid: func(_, _ float64, ok bool) bool { return ok }},
			truth: [][][][2]float64{cap(limb)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "grid.tif")
			c.grid.write(t, path)
			fp, err := ValidFootprint(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if w, s, e, n := bounds(fp); w < -180 || e > 180 || s < -90 || n > 90 {
				t.Errorf("footprint bounds %v outside lon/lat range", [4]float64{w, s, e, n})
			}
			iou := intersectionOverUnion(t, fp, c.truth)
			t.Logf("IoU %.4f", iou)
			if iou < 0.95 {
				t.Errorf("intersection over union with the valid pixels' area is %.3f, want ≥ 0.95", iou)
			}
			if c.check != nil {
				c.check(t, fp)
			}
			// Describe places the raster's edge, off-disk corners and all.
			if _, err := Describe(path, nil); err != nil {
				t.Errorf("describe: %v", err)
			}
		})
	}
}

// rotatedTruth is a rotated raster's outline, taken to lon/lat point by
// point (no footprint code involved).
func rotatedTruth(t *testing.T, crs string, gt [6]float64, w, h int) [][][][2]float64 {
	g := grid{crs: crs, gt: gt, w: 1, h: 1}
	var px, py []float64
	for i := 0; i <= 100; i++ {
		f := float64(i) / 100
		px, py = append(px, f*float64(w)), append(py, 0)
	}
	for i := 1; i <= 100; i++ {
		f := float64(i) / 100
		px, py = append(px, float64(w)), append(py, f*float64(h))
	}
	for i := 1; i <= 100; i++ {
		f := float64(i) / 100
		px, py = append(px, (1-f)*float64(w)), append(py, float64(h))
	}
	for i := 1; i <= 100; i++ {
		f := float64(i) / 100
		px, py = append(px, 0), append(py, (1-f)*float64(h))
	}
	ring := make([][2]float64, len(px))
	for i := range px {
		// A 1×1 grid whose pixel centre is the edge point.
		g.gt = gt
		g.gt[0] += (px[i]-0.5)*gt[1] + (py[i]-0.5)*gt[2]
		g.gt[3] += (px[i]-0.5)*gt[4] + (py[i]-0.5)*gt[5]
		lon, lat, ok := g.centres(t)
		if !ok[0] {
			t.Fatalf("edge point %d does not transform", i)
		}
		ring[i] = [2]float64{lon[0], lat[0]}
	}
	return [][][][2]float64{{ring}}
}

func bounds(fp [][][][2]float64) (w, s, e, n float64) {
	w, s, e, n = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range fp {
		for _, r := range p {
			for _, pt := range r {
				w, e = min(w, pt[0]), max(e, pt[0])
				s, n = min(s, pt[1]), max(n, pt[1])
			}
		}
	}
	return w, s, e, n
}

// intersectionOverUnion compares two lon/lat areas in the equal-area
// EPSG:6933, where a planar area is a true one.
func intersectionOverUnion(t *testing.T, a, b [][][][2]float64) float64 {
	t.Helper()
	ga, gb := equalArea(t, a), equalArea(t, b)
	defer ga.Close()
	defer gb.Close()
	in, err := ga.Intersection(gb)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	un, err := ga.Union(gb)
	if err != nil {
		t.Fatal(err)
	}
	defer un.Close()
	return in.Area() / un.Area()
}

func equalArea(t *testing.T, polys [][][][2]float64) *godal.Geometry {
	t.Helper()
	// Polygons that only touch (parts of a footprint, pieces of a truth)
	// are merged into one valid geometry first.
	var g *godal.Geometry
	for _, p := range polys {
		one, err := geometryOf([][][][2]float64{p})
		if err != nil {
			t.Fatal(err)
		}
		if g, err = union(g, one); err != nil {
			t.Fatal(err)
		}
	}
	wgs, _ := godal.NewSpatialRefFromEPSG(4326)
	defer wgs.Close()
	ea, _ := godal.NewSpatialRefFromEPSG(6933)
	defer ea.Close()
	g.SetSpatialRef(wgs)
	if err := g.Reproject(ea); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestARasterWithoutCRSIsRefusedInWords(t *testing.T) {
	Init()
	path := filepath.Join(t.TempDir(), "nocrs.tif")
	grid{gt: [6]float64{0, 1, 0, 10, 0, -1}, w: 10, h: 10, valid: everywhere}.write(t, path)
	_, ferr := ValidFootprint(path, nil)
	_, derr := Describe(path, nil)
	for name, err := range map[string]error{"ValidFootprint": ferr, "Describe": derr} {
		if err == nil || !strings.Contains(err.Error(), "no coordinate reference system") || strings.Contains(err.Error(), "OGRProjCT") {
			t.Errorf("%s: err = %v, want it to say that the raster has no CRS", name, err)
		}
	}
}
