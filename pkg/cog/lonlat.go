package cog

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/geom"
)

// lonLat takes polygons in sr to EPSG:4326 lon/lat, longitudes within ±180.
// Three things happen only on the way to lon/lat, and are handled here:
//
//   - points PROJ cannot place (off the disk of a geostationary view) are
//     skipped: the outline is drawn through those it can;
//   - a ring crossing the antimeridian is unwrapped (continuous past ±180),
//     then split into parts on both sides;
//   - a ring round a pole comes back in lon/lat as a line from -180 to 180;
//     it is closed through the pole, so that the area near the pole is part
//     of the footprint (or, for a hole round the pole, not part of it).
func lonLat(sr *godal.SpatialRef, polys [][][][2]float64, step float64) ([][][][2]float64, error) {
	wgs, err := godal.NewSpatialRefFromEPSG(4326)
	if err != nil {
		return nil, err
	}
	defer wgs.Close()
	tr, err := godal.NewTransform(sr, wgs)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	poles := nativePoles(wgs, sr)
	var all *godal.Geometry
	defer func() { closeGeom(all) }()
	for _, p := range polys {
		g, err := polygonLonLat(tr, poles, p, step)
		if err != nil {
			return nil, err
		}
		if all, err = union(all, g); err != nil {
			return nil, err
		}
	}
	if all == nil || all.Empty() {
		return nil, errors.New("no point of the valid pixels' outline can be placed in lon/lat")
	}
	return polygonsOf(all, godal.SignificantDigits(9))
}

// polygonLonLat is one polygon of lonLat. Holes that do not go round a pole
// are nodata pixels inside a scene: holes of the mask, not of the product.
func polygonLonLat(tr *godal.Transform, poles [2]*[2]float64, p [][][2]float64, step float64) (*godal.Geometry, error) {
	shell := projectRing(tr, p[0], step)
	if len(shell) < 4 {
		return nil, nil
	}
	g, err := wrapped(closeRing(shell, p[0], poles))
	if err != nil {
		return nil, err
	}
	for _, hole := range p[1:] {
		h := projectRing(tr, hole, step)
		if len(h) < 4 || turns(h) == 0 {
			continue
		}
		hg, err := wrapped(closeRing(h, hole, poles))
		if err != nil {
			g.Close()
			return nil, err
		}
		d, err := g.Difference(hg)
		g.Close()
		hg.Close()
		if err != nil {
			return nil, fmt.Errorf("hole round the pole: %w", err)
		}
		g = d
	}
	return g, nil
}

// projectRing densifies a closed ring of the raster's CRS (so that
// reprojection bends its edges), transforms it to lon/lat and unwraps the
// longitudes: each point is within 180° of the one before. The last point
// is the first again, its longitude unwrapped too: 360 away from the first
// for a ring round a pole. Where the ring leaves the part of the CRS that
// PROJ can place (the disk of a geostationary view), it follows that part's
// limit instead.
func projectRing(tr *godal.Transform, ring [][2]float64, step float64) [][2]float64 {
	pts := densify(ring, step)
	if len(pts) == 0 {
		return nil
	}
	ll, ok := transform(tr, pts)
	var out [][2]float64
	n := len(pts)
	for i := range pts {
		if ok[i] {
			out = append(out, ll[i])
			continue
		}
		// A point off the limit: where its good neighbours' segments
		// towards it leave the limit.
		if prev := (i + n - 1) % n; ok[prev] {
			out = append(out, limit(tr, pts[prev], pts[i]))
		}
		if next := (i + 1) % n; ok[next] {
			out = append(out, limit(tr, pts[next], pts[i]))
		}
	}
	if len(out) == 0 {
		return nil
	}
	out = append(out, out[0])
	for i := 1; i < len(out); i++ {
		out[i][0] += 360 * math.Round((out[i-1][0]-out[i][0])/360)
	}
	return out
}

// densify returns the points of a closed ring, the last one left out, with
// edges of at most 2 steps (and at most 64 points an edge).
func densify(ring [][2]float64, step float64) [][2]float64 {
	var pts [][2]float64
	for k := 0; k+1 < len(ring); k++ {
		a, b := ring[k], ring[k+1]
		n := int(math.Ceil(math.Hypot(b[0]-a[0], b[1]-a[1]) / (2 * step)))
		n = min(max(n, 1), 64)
		for i := 0; i < n; i++ {
			t := float64(i) / float64(n)
			pts = append(pts, [2]float64{a[0] + (b[0]-a[0])*t, a[1] + (b[1]-a[1])*t})
		}
	}
	return pts
}

// transform takes pts to lon/lat; ok says which could be.
func transform(tr *godal.Transform, pts [][2]float64) ([][2]float64, []bool) {
	xs, ys, ok := make([]float64, len(pts)), make([]float64, len(pts)), make([]bool, len(pts))
	for i, p := range pts {
		xs[i], ys[i] = p[0], p[1]
	}
	// The error only says that some points failed; ok says which.
	_ = tr.TransformEx(xs, ys, nil, ok)
	out := make([][2]float64, len(pts))
	for i := range pts {
		ok[i] = ok[i] && finite(xs[i]) && finite(ys[i])
		out[i] = [2]float64{xs[i], ys[i]}
	}
	return out, ok
}

// limit bisects the segment from good (which transforms) to bad (which
// does not) for the last point that transforms, in lon/lat.
func limit(tr *godal.Transform, good, bad [2]float64) [2]float64 {
	ll, _ := transform(tr, [][2]float64{good})
	for range 30 {
		mid := [2]float64{(good[0] + bad[0]) / 2, (good[1] + bad[1]) / 2}
		m, ok := transform(tr, [][2]float64{mid})
		if ok[0] {
			good, ll = mid, m
		} else {
			bad = mid
		}
	}
	return ll[0]
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// turns is how many times an unwrapped ring goes round a pole.
func turns(ll [][2]float64) int {
	return int(math.Round((ll[len(ll)-1][0] - ll[0][0]) / 360))
}

// closeRing closes an unwrapped ring that goes round a pole through that
// pole: along the pole's latitude back to where it started.
func closeRing(ll, native [][2]float64, poles [2]*[2]float64) [][2]float64 {
	if turns(ll) == 0 {
		return ll
	}
	lat := poleLat(ll, native, poles)
	first, last := ll[0], ll[len(ll)-1]
	out := append([][2]float64(nil), ll...)
	return append(out, [2]float64{last[0], lat}, [2]float64{first[0], lat}, first)
}

// poleLat is the latitude of the pole a ring goes round: the one inside the
// ring in the raster's CRS, else (a pole PROJ cannot place there) the one on
// the side of the ring's mean latitude.
func poleLat(ll, native [][2]float64, poles [2]*[2]float64) float64 {
	for i, lat := range [2]float64{-90, 90} {
		if poles[i] != nil && geom.InRing(native, *poles[i]) {
			return lat
		}
	}
	mean := 0.0
	for _, p := range ll {
		mean += p[1]
	}
	if mean < 0 {
		return -90
	}
	return 90
}

// nativePoles are the south and north poles in sr, nil where they do not
// transform.
func nativePoles(wgs, sr *godal.SpatialRef) [2]*[2]float64 {
	var out [2]*[2]float64
	tr, err := godal.NewTransform(wgs, sr)
	if err != nil {
		return out
	}
	defer tr.Close()
	xs, ys, ok := []float64{0, 0}, []float64{-90, 90}, []bool{false, false}
	_ = tr.TransformEx(xs, ys, nil, ok)
	for i := range xs {
		if ok[i] && finite(xs[i]) && finite(ys[i]) {
			out[i] = &[2]float64{xs[i], ys[i]}
		}
	}
	return out
}

// wrapped returns the polygon of an unwrapped ring with every longitude
// within ±180: the parts past ±180 are cut off and moved by 360°.
func wrapped(ring [][2]float64) (*godal.Geometry, error) {
	g, err := geometryOf([][][][2]float64{{ring}})
	if err != nil {
		return nil, err
	}
	defer g.Close()
	if !g.Valid() {
		// A simplified outline may touch itself; GEOS refuses to cut such a
		// polygon, a zero buffer repairs it.
		fixed, err := g.Buffer(0, 8)
		if err != nil {
			return nil, err
		}
		defer fixed.Close()
		g = fixed
	}
	var out *godal.Geometry
	for k := -1; k <= 1; k++ {
		west := -180 + 360*float64(k)
		box, err := geometryOf([][][][2]float64{{{{west, -90}, {west + 360, -90}, {west + 360, 90}, {west, 90}, {west, -90}}}})
		if err != nil {
			return nil, err
		}
		part, err := g.Intersection(box)
		box.Close()
		if err != nil {
			return nil, fmt.Errorf("cut at the antimeridian: %w", err)
		}
		polys, err := polygonsOf(part)
		part.Close()
		if err != nil {
			closeGeom(out)
			return nil, err
		}
		if len(polys) == 0 {
			continue
		}
		shift(polys, -360*float64(k))
		moved, err := geometryOf(polys)
		if err != nil {
			closeGeom(out)
			return nil, err
		}
		if out, err = union(out, moved); err != nil {
			return nil, err
		}
	}
	if out == nil {
		return geometryOf(nil)
	}
	return out, nil
}

func shift(polys [][][][2]float64, dlon float64) {
	for _, p := range polys {
		for _, r := range p {
			for i := range r {
				r[i][0] += dlon
			}
		}
	}
}

// union returns a ∪ b, closing both; a may be nil.
func union(a, b *godal.Geometry) (*godal.Geometry, error) {
	if b == nil {
		return a, nil
	}
	if a == nil {
		return b, nil
	}
	u, err := a.Union(b)
	a.Close()
	b.Close()
	if err != nil {
		return nil, fmt.Errorf("union of footprint parts: %w", err)
	}
	return u, nil
}

func closeGeom(g *godal.Geometry) {
	if g != nil {
		g.Close()
	}
}

// geometryOf makes a MultiPolygon of polygons (lon/lat or any plane).
func geometryOf(polys [][][][2]float64) (*godal.Geometry, error) {
	if polys == nil {
		polys = [][][][2]float64{}
	}
	b, err := json.Marshal(map[string]any{"type": "MultiPolygon", "coordinates": polys})
	if err != nil {
		return nil, err
	}
	return godal.NewGeometryFromGeoJSON(string(b))
}

// geoJSON is what polygonsOf reads: GEOS answers with a Polygon, a
// MultiPolygon or, where a cut leaves lines or points, a collection.
type geoJSON struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
	Geometries  []geoJSON       `json:"geometries"`
}

// polygonsOf returns the polygons of g, leaving out lines and points.
func polygonsOf(g *godal.Geometry, opts ...godal.GeoJSONOption) ([][][][2]float64, error) {
	if g.Empty() {
		return nil, nil
	}
	s, err := g.GeoJSON(opts...)
	if err != nil {
		return nil, err
	}
	var doc geoJSON
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		return nil, err
	}
	return doc.polygons()
}

func (g geoJSON) polygons() ([][][][2]float64, error) {
	switch g.Type {
	case "Polygon":
		var p [][][2]float64
		err := json.Unmarshal(g.Coordinates, &p)
		return [][][][2]float64{p}, err
	case "MultiPolygon":
		var mp [][][][2]float64
		err := json.Unmarshal(g.Coordinates, &mp)
		return mp, err
	case "GeometryCollection":
		var out [][][][2]float64
		for _, m := range g.Geometries {
			p, err := m.polygons()
			if err != nil {
				return nil, err
			}
			out = append(out, p...)
		}
		return out, nil
	}
	return nil, nil
}
