package tile

import (
	"math"

	"github.com/pvs/pvs/pkg/geom"
)

// Pos is a tile of one level.
type Pos struct{ Row, Col int }

// Touching returns the tiles of level z that intersect (boundary included)
// the polygons, given as rings of lon/lat points in EPSG:4326, outer ring
// first. Edges are straight in lon/lat; they are densified before they are
// projected to the grid's CRS.
func (g Grid) Touching(polys [][][][2]float64, z int) []Pos {
	var out []Pos
	seen := map[Pos]bool{}
	for _, poly := range polys {
		rings := make([][][2]float64, 0, len(poly))
		for _, ring := range poly {
			rings = append(rings, g.project(densify(ring, 0.1)))
		}
		if len(rings) == 0 || len(rings[0]) < 3 {
			continue
		}
		r, ok := g.Covering(ringBBox(rings[0]), z)
		if !ok {
			continue
		}
		var segs [][2][2]float64
		for row := r.MinRow; row <= r.MaxRow; row++ {
			// Only the edges that reach the row's height can touch its
			// tiles: the others are left out of every test in the row.
			rb := g.BBox(z, row, r.MinCol)
			segs = segs[:0]
			for _, ring := range rings {
				for i := 0; i+1 < len(ring); i++ {
					a, b := ring[i], ring[i+1]
					if max(a[1], b[1]) >= rb[1] && min(a[1], b[1]) <= rb[3] {
						segs = append(segs, [2][2]float64{a, b})
					}
				}
			}
			for col := r.MinCol; col <= r.MaxCol; col++ {
				p := Pos{row, col}
				if seen[p] {
					continue
				}
				if rectTouches(rings, segs, g.BBox(z, row, col)) {
					seen[p] = true
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// rectTouches reports whether the polygon (outer ring, then holes) and
// the closed rectangle share a point, given the boundary edges that can
// touch the rectangle (all those that reach its height).
func rectTouches(rings [][][2]float64, segs [][2][2]float64, r [4]float64) bool {
	for _, s := range segs {
		if segmentTouchesRect(s[0], s[1], r) {
			return true
		}
	}
	return centreInside(rings, r)
}

// project maps lon/lat points to the grid's CRS.
func (g Grid) project(ring [][2]float64) [][2]float64 {
	out := make([][2]float64, len(ring))
	for i, p := range ring {
		b := g.FromWGS84([4]float64{p[0], p[1], p[0], p[1]})
		out[i] = [2]float64{b[0], b[1]}
	}
	return out
}

// densify inserts points so that no edge is longer than step degrees.
func densify(ring [][2]float64, step float64) [][2]float64 {
	out := make([][2]float64, 0, len(ring))
	for i := 0; i+1 < len(ring); i++ {
		a, b := ring[i], ring[i+1]
		n := int(math.Ceil(math.Max(math.Abs(b[0]-a[0]), math.Abs(b[1]-a[1])) / step))
		for k := 0; k < max(n, 1); k++ {
			t := float64(k) / float64(max(n, 1))
			out = append(out, [2]float64{a[0] + (b[0]-a[0])*t, a[1] + (b[1]-a[1])*t})
		}
	}
	if len(ring) > 0 {
		out = append(out, ring[len(ring)-1])
	}
	return out
}

func ringBBox(r [][2]float64) [4]float64 {
	b := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, p := range r {
		b[0], b[1] = math.Min(b[0], p[0]), math.Min(b[1], p[1])
		b[2], b[3] = math.Max(b[2], p[0]), math.Max(b[3], p[1])
	}
	return b
}

// centreInside tells, for a rectangle no boundary meets (wholly inside or
// outside the polygon), whether it is inside: by its centre.
func centreInside(rings [][][2]float64, r [4]float64) bool {
	c := [2]float64{(r[0] + r[2]) / 2, (r[1] + r[3]) / 2}
	if !geom.InRing(rings[0], c) {
		return false
	}
	for _, hole := range rings[1:] {
		if geom.InRing(hole, c) {
			return false
		}
	}
	return true
}

// segmentTouchesRect clips the segment a-b to the rectangle (Liang-Barsky).
func segmentTouchesRect(a, b [2]float64, r [4]float64) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := b[0]-a[0], b[1]-a[1]
	for _, c := range [4][2]float64{{-dx, a[0] - r[0]}, {dx, r[2] - a[0]}, {-dy, a[1] - r[1]}, {dy, r[3] - a[1]}} {
		p, q := c[0], c[1]
		if p == 0 {
			if q < 0 {
				return false
			}
			continue
		}
		t := q / p
		if p < 0 {
			if t > t1 {
				return false
			}
			t0 = math.Max(t0, t)
		} else {
			if t < t0 {
				return false
			}
			t1 = math.Min(t1, t)
		}
	}
	return t0 <= t1
}
