package render

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/bandexpr"
	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/crs"
)

// memFinder answers queries as the registry does (newest first, bbox,
// uncovered-area geometry, End, Limit and Offset) over records held in
// memory, newest first, and counts the queries and the records returned.
type memFinder struct {
	recs     []catalog.Record
	queries  int
	returned int
}

func (f *memFinder) Find(ctx context.Context, q catalog.Query) ([]catalog.Record, error) {
	f.queries++
	var area *godal.Geometry
	if q.GeometryWKT != "" {
		g, err := godal.NewGeometryFromWKT(q.GeometryWKT, nil)
		if err != nil {
			return nil, fmt.Errorf("query geometry %q: %w", q.GeometryWKT, err)
		}
		defer g.Close()
		area = g
	}
	var out []catalog.Record
	skip := q.Offset
	for _, rec := range f.recs {
		if !q.End.IsZero() && rec.BeginTime.After(q.End) {
			continue
		}
		if b := q.BBox; b != nil && (rec.BBox[0] > b[2] || rec.BBox[2] < b[0] || rec.BBox[1] > b[3] || rec.BBox[3] < b[1]) {
			continue
		}
		if area != nil {
			fp, err := godal.NewGeometryFromGeoJSON(rec.FootprintGeoJSON)
			if err != nil {
				return nil, err
			}
			hit, err := area.Intersects(fp)
			fp.Close()
			if err != nil {
				return nil, err
			}
			if !hit {
				continue
			}
		}
		if skip > 0 {
			skip--
			continue
		}
		out = append(out, rec)
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	f.returned += len(out)
	return out, nil
}

// box is a product over the lon/lat box b (footprint and bbox), with
// bands bands.
type box struct {
	b     [4]float64
	bands int
}

// archive makes records newest first from boxes (newest first), one hour
// apart, or all at one time when sameTime.
func archive(boxes []box, sameTime bool) []catalog.Record {
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var recs []catalog.Record
	for i, bx := range boxes {
		b := bx.b
		t := t0.Add(time.Duration(len(boxes)-i) * time.Hour)
		if sameTime {
			t = t0
		}
		r := rec(fmt.Sprintf("P%04d", i), "p.tif")
		r.BeginTime, r.EndTime = t, t
		r.BBox = b
		r.FootprintGeoJSON = fmt.Sprintf(`{"type":"MultiPolygon","coordinates":[[[[%[1]g,%[2]g],[%[3]g,%[2]g],[%[3]g,%[4]g],[%[1]g,%[4]g],[%[1]g,%[2]g]]]]}`, b[0], b[1], b[2], b[3])
		r.Coverages[0].Bands = make([]catalog.Band, bx.bands)
		recs = append(recs, r)
	}
	return recs
}

func repeat(n int, bx box) []box {
	out := make([]box, n)
	for i := range out {
		out[i] = bx
	}
	return out
}

func cat(parts ...[]box) []box {
	var out []box
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// The request box is lon 10..12, lat 40..41.
var (
	whole = box{[4]float64{9, 39, 13, 42}, 3}
	west  = box{[4]float64{9, 39, 11, 42}, 3}
	east  = box{[4]float64{11, 39, 13, 42}, 3}
	nir   = box{[4]float64{9, 39, 13, 42}, 4}
	nirW  = box{[4]float64{9, 39, 11, 42}, 4}
	nirE  = box{[4]float64{11, 39, 13, 42}, 4}
)

// strip is the k-th of n vertical strips of the request box.
func strip(k, n int) box {
	w := 2.0 / float64(n)
	return box{[4]float64{10 + w*float64(k), 39, 10 + w*float64(k+1), 42}, 3}
}

func strips(n int) []box {
	var out []box
	for k := 0; k < n; k++ {
		out = append(out, strip(k, n))
	}
	return out
}

// The products selected for a map are the newest down to those covering
// its area, without the hidden ones, whatever lies beneath; the catalogue
// is asked about little more than what is drawn.
func TestVisibleProducts(t *testing.T) {
	cog.Init()
	for _, c := range []struct {
		name     string
		boxes    []box // newest first
		sameTime bool
		max      int
		expr     string
		want     []string // identifiers selected, newest first
		queries  int      // at most
	}{
		{"newest covers: one page of 300", repeat(300, whole), false, 50, "", []string{"P0000"}, 1},
		{"newest covers: one page of 10,000", repeat(10000, whole), false, 50, "", []string{"P0000"}, 1},
		{"west then whole", cat([]box{west}, repeat(299, whole)), false, 50, "", []string{"P0000", "P0001"}, 1},
		{"hidden ones skipped, deep in the archive", cat([]box{west}, repeat(100, west), []box{east}, repeat(100, whole)), false, 50, "",
			[]string{"P0000", "P0101"}, 2},
		{"half over the sea: the second query finds nothing", cat([]box{west}, repeat(300, west)), false, 50, "", []string{"P0000"}, 2},
		{"max_products bounds what is drawn", strips(10), false, 4, "", []string{"P0000", "P0001", "P0002", "P0003"}, 1},
		{"strips under a cover", cat(strips(5), repeat(50, whole)), false, 50, "", []string{"P0000", "P0001", "P0002", "P0003", "P0004"}, 2},
		{"a product lacking the browse's bands hides nothing", cat(repeat(20, whole), []box{nir}, repeat(20, nir)), false, 50, "(B4-B3)/(B4+B3)",
			[]string{"P0020"}, 3},
		{"one begin time for all", cat([]box{west}, repeat(40, west), []box{east}, repeat(40, whole)), true, 50, "",
			[]string{"P0000", "P0041"}, 2},
		// Products the browse cannot draw match every query: after the
		// filter changes they come back, and are paged past.
		{"one begin time, pages of undrawable products", cat(repeat(20, whole), []box{nirW}, repeat(20, whole), []box{nirE}, repeat(20, nir)), true, 50,
			"(B4-B3)/(B4+B3)", []string{"P0020", "P0041"}, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &memFinder{recs: archive(c.boxes, c.sameTime)}
			r := &Renderer{Products: f, MaxProducts: c.max}
			req := Request{Collection: "C", Browse: config.Browse{Bands: []int{1, 2, 3}}, CRS: crs.CRS{Code: 4326},
				BBox: [4]float64{10, 40, 12, 41}, Width: 256, Height: 128}
			var expr *bandexpr.Expr
			if c.expr != "" {
				var err error
				if expr, err = bandexpr.Parse(c.expr); err != nil {
					t.Fatal(err)
				}
			}
			area, err := newCoverage(req, req.BBox)
			if err != nil {
				t.Fatal(err)
			}
			defer area.close()
			got, err := r.visible(context.Background(), catalog.Query{Collection: "C", BBox: &req.BBox}, area,
				func(rec catalog.Record) bool { return drawable(rec, req.Browse, expr) })
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, g := range got {
				ids = append(ids, g.Identifier)
			}
			if fmt.Sprint(ids) != fmt.Sprint(c.want) {
				t.Errorf("selected %v, want %v", ids, c.want)
			}
			if f.queries > c.queries {
				t.Errorf("%d catalogue queries (%d records), want at most %d", f.queries, f.returned, c.queries)
			}
		})
	}
}

// A UTM box is traced in lon/lat as it bends: a product covering the
// traced area covers the map, though not the box's lon/lat bbox.
func TestRequestAreaInUTM(t *testing.T) {
	cog.Init()
	req := Request{CRS: crs.CRS{Code: 32632}, BBox: [4]float64{600000, 4400000, 700000, 4500000}, Width: 256, Height: 256}
	wgs, err := ToWGS84(req.CRS, req.BBox)
	if err != nil {
		t.Fatal(err)
	}
	area, err := newCoverage(req, wgs)
	if err != nil {
		t.Fatal(err)
	}
	defer area.close()
	ring := requestRing(req, wgs)
	if len(ring) != 33 {
		t.Fatalf("ring of %d points, want the box densified", len(ring))
	}
	// The traced area is smaller than its bbox.
	if err := area.geometry(); err != nil {
		t.Fatal(err)
	}
	full, _ := godal.NewGeometryFromWKT(ringWKT(rectRing(wgs)), nil)
	defer full.Close()
	if a, b := area.left.Area(), full.Area(); a >= b*0.999 {
		t.Errorf("traced area %g, bbox %g", a, b)
	}
	if area.covered() {
		t.Fatal("covered before any product")
	}
	// A footprint exactly the traced area covers it.
	r := rec("P", "p.tif")
	r.FootprintGeoJSON = `{"type":"Polygon","coordinates":[[`
	for i, p := range ring {
		if i > 0 {
			r.FootprintGeoJSON += ","
		}
		r.FootprintGeoJSON += fmt.Sprintf("[%s,%s]", ftoa(p[0]), ftoa(p[1]))
	}
	r.FootprintGeoJSON += `]]}`
	if !area.add(r) || !area.covered() {
		t.Errorf("a footprint over the traced area: covered %v", area.covered())
	}
}

// A footprint that holds the whole request settles coverage without GEOS;
// one that holds part of it, or touches its outline, is taken out of the
// area with GEOS only when settled (a second product or page needs it).
func TestFootprintContainsWithoutGEOS(t *testing.T) {
	cog.Init()
	req := Request{CRS: crs.CRS{Code: 4326}, BBox: [4]float64{10, 40, 11, 41}, Width: 256, Height: 256}
	poly := func(x0, y0, x1, y1 float64) string {
		return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}`, x0, y0, x1, y0, x1, y1, x0, y1, x0, y0)
	}
	cases := []struct {
		footprint string
		fast      bool // covered without GEOS
		covered   bool // once settled
	}{
		{poly(9, 39, 12, 42), true, true},
		{poly(10.5, 39, 12, 42), false, false},
		{poly(10, 40, 11, 41), false, true}, // the outline itself
		{`{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[9,39],[12,39],[12,42],[9,42],[9,39]]]]}`, true, true},
	}
	for i, c := range cases {
		wgs, _ := ToWGS84(req.CRS, req.BBox)
		area, err := newCoverage(req, wgs)
		if err != nil {
			t.Fatal(err)
		}
		r := rec("P", "p.tif")
		r.FootprintGeoJSON = c.footprint
		if !area.add(r) || area.left != nil || area.covered() != c.fast {
			t.Errorf("case %d: GEOS used %v, covered before settling %v (want %v)", i, area.left != nil, area.covered(), c.fast)
		}
		if err := area.settle(); err != nil {
			t.Fatal(err)
		}
		if area.covered() != c.covered {
			t.Errorf("case %d: covered %v once settled, want %v", i, area.covered(), c.covered)
		}
		// A second product under the first is hidden where it covers.
		r2 := rec("Q", "q.tif")
		r2.FootprintGeoJSON = poly(10.1, 40.1, 10.2, 40.2)
		if shows := area.add(r2); shows == c.covered {
			t.Errorf("case %d: a small product inside the area shows %v", i, shows)
		}
		area.close()
	}
}
