package render

import (
	"sync"

	"github.com/pvs/pvs/pkg/geom"
	"github.com/pvs/pvs/pkg/metadata"
)

// footprintCache keeps footprints parsed from GeoJSON: the same products
// answer map after map.
type footprintCache struct {
	mu sync.Mutex
	m  map[string][][][][2]float64
}

// maxFootprints bounds the footprints kept (a few KB each); past it the
// cache starts again empty.
const maxFootprints = 4096

var footprints footprintCache

// get returns the polygons of a GeoJSON footprint; false if it does not
// parse.
func (c *footprintCache) get(gj string) ([][][][2]float64, bool) {
	c.mu.Lock()
	p, ok := c.m[gj]
	c.mu.Unlock()
	if ok {
		return p, p != nil
	}
	p, err := metadata.ParseGeoJSONPolygons([]byte(gj))
	if err != nil {
		p = nil
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxFootprints {
		c.m = map[string][][][][2]float64{}
	}
	c.m[gj] = p
	c.mu.Unlock()
	return p, p != nil
}

// footprintContains reports whether one polygon of polys (one without
// holes) holds the whole of ring: every vertex strictly inside and no edge
// meeting the polygon's outline. It answers false when unsure (a vertex
// or an edge on the outline), so the caller falls back to GEOS.
func footprintContains(polys [][][][2]float64, ring [][2]float64) bool {
	if len(ring) < 4 {
		return false
	}
	for _, poly := range polys {
		if len(poly) != 1 || len(poly[0]) < 4 {
			continue
		}
		outer := poly[0]
		inside := true
		for _, p := range ring {
			if !geom.InRing(outer, p) {
				inside = false
				break
			}
		}
		if inside && !ringsMeet(ring, outer) {
			return true
		}
	}
	return false
}

// ringsMeet reports whether an edge of a meets (crosses or touches) an
// edge of b; both rings are closed.
func ringsMeet(a, b [][2]float64) bool {
	for i := 0; i+1 < len(a); i++ {
		lo, hi := minmax(a[i], a[i+1])
		for j := 0; j+1 < len(b); j++ {
			bl, bh := minmax(b[j], b[j+1])
			if bh[0] < lo[0] || bl[0] > hi[0] || bh[1] < lo[1] || bl[1] > hi[1] {
				continue
			}
			if segmentsMeet(a[i], a[i+1], b[j], b[j+1]) {
				return true
			}
		}
	}
	return false
}

func minmax(p, q [2]float64) (lo, hi [2]float64) {
	return [2]float64{min(p[0], q[0]), min(p[1], q[1])}, [2]float64{max(p[0], q[0]), max(p[1], q[1])}
}

// segmentsMeet reports whether segments pq and rs share a point.
func segmentsMeet(p, q, r, s [2]float64) bool {
	d1, d2 := orient(r, s, p), orient(r, s, q)
	d3, d4 := orient(p, q, r), orient(p, q, s)
	if (d1 > 0 && d2 < 0 || d1 < 0 && d2 > 0) && (d3 > 0 && d4 < 0 || d3 < 0 && d4 > 0) {
		return true
	}
	on := func(a, b, c [2]float64) bool { // c on segment ab, given collinear
		return min(a[0], b[0]) <= c[0] && c[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= c[1] && c[1] <= max(a[1], b[1])
	}
	return d1 == 0 && on(r, s, p) || d2 == 0 && on(r, s, q) || d3 == 0 && on(p, q, r) || d4 == 0 && on(p, q, s)
}

func orient(a, b, c [2]float64) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

// ringSimple reports whether a closed ring has no two edges meeting but at
// their shared vertex (a request outline traced through a projection may
// fold).
func ringSimple(ring [][2]float64) bool {
	n := len(ring) - 1 // edges
	if n < 3 {
		return false
	}
	for i := 0; i < n; i++ {
		for j := i + 2; j < n; j++ {
			if i == 0 && j == n-1 {
				continue // the closing edge shares vertex 0
			}
			if segmentsMeet(ring[i], ring[i+1], ring[j], ring[j+1]) {
				return false
			}
		}
	}
	return true
}
