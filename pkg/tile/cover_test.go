package tile

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pvs/pvs/pkg/geom"
)

// oracle decides by sampling: a dense lattice of points in the tile against
// the polygon, and points along the polygon's edges against the tile.
func oracle(g Grid, poly [][][2]float64, z, row, col int) bool {
	rings := make([][][2]float64, len(poly))
	for i, r := range poly {
		rings[i] = g.project(densify(r, 0.1))
	}
	b := g.BBox(z, row, col)
	const n = 48
	for i := 0; i <= n; i++ {
		for j := 0; j <= n; j++ {
			p := [2]float64{b[0] + (b[2]-b[0])*float64(i)/n, b[1] + (b[3]-b[1])*float64(j)/n}
			if geom.InRing(rings[0], p) {
				hole := false
				for _, h := range rings[1:] {
					hole = hole || geom.InRing(h, p)
				}
				if !hole {
					return true
				}
			}
		}
	}
	for _, r := range rings {
		for k := 0; k+1 < len(r); k++ {
			for s := 0; s <= 200; s++ {
				t := float64(s) / 200
				x, y := r[k][0]+(r[k+1][0]-r[k][0])*t, r[k][1]+(r[k+1][1]-r[k][1])*t
				if x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3] {
					return true
				}
			}
		}
	}
	return false
}

func TestTouchingAgreesWithSampling(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := 0; trial < 20; trial++ {
		// A tilted quadrilateral with a hole, like a scene with a cloud mask.
		cx, cy := -20+40*rng.Float64(), -50+100*rng.Float64()
		w, h := 0.5+3*rng.Float64(), 0.5+3*rng.Float64()
		poly := [][][2]float64{
			{{cx - w, cy - h}, {cx + w, cy - h*0.7}, {cx + w*0.8, cy + h}, {cx - w*1.1, cy + h*0.9}, {cx - w, cy - h}},
			{{cx - w/4, cy - h/4}, {cx + w/4, cy - h/4}, {cx, cy + h/4}, {cx - w/4, cy - h/4}},
		}
		for _, g := range Grids {
			z := 4 + rng.IntN(4)
			got := map[Pos]bool{}
			for _, p := range g.Touching([][][][2]float64{poly}, z) {
				got[p] = true
			}
			bb := g.FromWGS84([4]float64{cx - 2*w, cy - 2*h, cx + 2*w, cy + 2*h})
			r, _ := g.Covering(bb, z)
			for row := r.MinRow; row <= r.MaxRow; row++ {
				for col := r.MinCol; col <= r.MaxCol; col++ {
					if want := oracle(g, poly, z, row, col); want != got[Pos{row, col}] {
						t.Errorf("trial %d %s z%d tile %d/%d: Touching says %v, sampling %v", trial, g.Name, z, row, col, got[Pos{row, col}], want)
					}
				}
			}
		}
	}
}

func TestSegmentTouchesRect(t *testing.T) {
	r := [4]float64{0, 0, 1, 1}
	for _, c := range []struct {
		a, b [2]float64
		want bool
	}{
		{[2]float64{-1, 0.5}, [2]float64{2, 0.5}, true},    // through
		{[2]float64{0.2, 0.2}, [2]float64{0.3, 0.3}, true}, // inside
		{[2]float64{-1, 2}, [2]float64{2, 2}, false},       // above
		{[2]float64{-1, 1}, [2]float64{2, 1}, true},        // along the top edge
		{[2]float64{1, 1}, [2]float64{2, 2}, true},         // touching a corner
		{[2]float64{-1, 0.5}, [2]float64{0.5, 2.5}, false}, // passing the corner
	} {
		if got := segmentTouchesRect(c.a, c.b, r); got != c.want {
			t.Errorf("%v-%v: %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// polygonTouchesRect is the test against the whole boundary that
// Touching narrows to the edges of each row: whether the polygon (outer
// ring, then holes) and the closed rectangle share a point.
func polygonTouchesRect(rings [][][2]float64, r [4]float64) bool {
	outer := rings[0]
	bb := ringBBox(outer)
	if bb[0] > r[2] || bb[2] < r[0] || bb[1] > r[3] || bb[3] < r[1] {
		return false
	}
	// A boundary edge crossing or touching the rectangle.
	for _, ring := range rings {
		for i := 0; i+1 < len(ring); i++ {
			if segmentTouchesRect(ring[i], ring[i+1], r) {
				return true
			}
		}
	}
	return centreInside(rings, r)
}

// Touching, which tests each tile only against the edges reaching its
// row, finds exactly the tiles the whole-boundary test finds.
func TestTouchingMatchesTheWholeBoundaryTest(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for trial := 0; trial < 30; trial++ {
		// A jagged ring of many vertices (a valid-data footprint) around
		// a centre, with a hole.
		cx, cy := -170+340*rng.Float64(), -60+120*rng.Float64()
		n := 8 + rng.IntN(200)
		var outer, hole [][2]float64
		for i := 0; i <= n; i++ {
			a := 2 * math.Pi * float64(i%n) / float64(n)
			r := 0.5 + 2*rng.Float64()
			if i == n {
				outer = append(outer, outer[0])
				break
			}
			outer = append(outer, [2]float64{cx + r*math.Cos(a), cy + r*math.Sin(a)*0.8})
		}
		for i := 0; i < 4; i++ {
			a := 2 * math.Pi * float64(i) / 4
			hole = append(hole, [2]float64{cx + 0.2*math.Cos(a), cy + 0.2*math.Sin(a)})
		}
		hole = append(hole, hole[0])
		poly := [][][2]float64{outer, hole}
		for _, g := range Grids {
			z := 5 + rng.IntN(5)
			got := map[Pos]bool{}
			for _, p := range g.Touching([][][][2]float64{poly}, z) {
				got[p] = true
			}
			rings := [][][2]float64{g.project(densify(outer, 0.1)), g.project(densify(hole, 0.1))}
			r, _ := g.Covering(ringBBox(rings[0]), z)
			want := 0
			for row := r.MinRow; row <= r.MaxRow; row++ {
				for col := r.MinCol; col <= r.MaxCol; col++ {
					w := polygonTouchesRect(rings, g.BBox(z, row, col))
					if w {
						want++
					}
					if w != got[Pos{row, col}] {
						t.Fatalf("trial %d %s z%d tile %d/%d: Touching says %v, the whole-boundary test %v", trial, g.Name, z, row, col, got[Pos{row, col}], w)
					}
				}
			}
			if want == 0 || len(got) != want {
				t.Fatalf("trial %d %s z%d: %d tiles, want %d, at least one", trial, g.Name, z, len(got), want)
			}
		}
	}
}
