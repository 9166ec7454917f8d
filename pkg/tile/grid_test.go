package tile

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestGridGeometry(t *testing.T) {
	g := GoogleMapsCompatible
	if b := g.BBox(0, 0, 0); !near(b[0], -webMercatorHalf) || !near(b[3], webMercatorHalf) || !near(b[2], webMercatorHalf) {
		t.Errorf("level 0 bbox = %v", b)
	}
	if b := g.BBox(1, 1, 1); !near(b[0], 0) || !near(b[1], -webMercatorHalf) || !near(b[3], 0) {
		t.Errorf("1/1/1 bbox = %v", b)
	}
	if cols, rows := WorldCRS84Quad.MatrixSize(0); cols != 2 || rows != 1 {
		t.Errorf("WorldCRS84Quad level 0 = %dx%d, want 2x1", cols, rows)
	}
	if b := WorldCRS84Quad.BBox(0, 0, 1); b != [4]float64{0, -90, 180, 90} {
		t.Errorf("WorldCRS84Quad 0/0/1 = %v", b)
	}
	// The OGC scale denominators of the well-known scale sets.
	if s := g.ScaleDenominator(0); math.Abs(s-559082264.0287178) > 1e-3 {
		t.Errorf("GoogleMapsCompatible level 0 scale = %v", s)
	}
	if s := WorldCRS84Quad.ScaleDenominator(0); math.Abs(s-279541132.0143589) > 1e-3 {
		t.Errorf("WorldCRS84Quad level 0 scale = %v", s)
	}
}

func TestCovering(t *testing.T) {
	g := WorldCRS84Quad
	r, ok := g.Covering([4]float64{-10, -10, 10, 10}, 0)
	if !ok || r != (Range{Z: 0, MinCol: 0, MinRow: 0, MaxCol: 1, MaxRow: 0}) {
		t.Errorf("covering = %+v %v", r, ok)
	}
	// An edge on a tile boundary does not touch the next tile.
	r, _ = g.Covering([4]float64{0, 0, 90, 90}, 1)
	if r.MinCol != 2 || r.MaxCol != 2 || r.MinRow != 0 || r.MaxRow != 0 || r.Count() != 1 {
		t.Errorf("covering of exactly one tile = %+v", r)
	}
	if _, ok := g.Covering([4]float64{200, 0, 210, 10}, 3); ok {
		t.Error("bbox outside the grid covers tiles")
	}
	// Every tile of a range intersects the bbox, for random-ish boxes.
	gm := GoogleMapsCompatible
	for z := 0; z < 12; z++ {
		b := gm.FromWGS84([4]float64{-78.96, 23.5, -76.57, 25.56})
		r, ok := gm.Covering(b, z)
		if !ok {
			t.Fatalf("z%d: no tiles", z)
		}
		for _, c := range []struct{ row, col int }{{r.MinRow, r.MinCol}, {r.MaxRow, r.MaxCol}} {
			tb := gm.BBox(z, c.row, c.col)
			if tb[0] >= b[2] || tb[2] <= b[0] || tb[1] >= b[3] || tb[3] <= b[1] {
				t.Errorf("z%d tile %v does not intersect %v", z, c, b)
			}
		}
	}
}

func TestKeyPath(t *testing.T) {
	k := Key{Layer: "L", Grid: "GoogleMapsCompatible", Time: "2018-01-01T00:00:00Z--2018-01-02T00:00:00Z", Z: 3, Row: 2, Col: 5, Format: "png"}
	if p := k.Path(); p != "L/GoogleMapsCompatible/2018-01-01T00:00:00Z--2018-01-02T00:00:00Z/3/5/2.png" {
		t.Errorf("path = %s", p)
	}
}
