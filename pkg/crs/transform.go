package crs

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/airbusgeo/godal"
)

// transformPool keeps idle transformations of one pair of CRSs. An OGR
// transformation is not safe for concurrent use, and a call into PROJ
// cannot be interrupted: so each caller takes a transformation of its
// own, and one call that takes long (or never returns) holds up only its
// own request, not every transformation in the process as a single shared
// transformation behind a lock did.
type transformPool struct {
	from, to int
	idle     chan *godal.Transform
}

var transformPools sync.Map // [2]int{from, to} → *transformPool

func poolOf(from, to int) *transformPool {
	key := [2]int{from, to}
	if p, ok := transformPools.Load(key); ok {
		return p.(*transformPool)
	}
	// Idle transformations beyond twice the CPUs are closed: more would
	// only serve a burst that the CPUs cannot run at once anyway.
	p, _ := transformPools.LoadOrStore(key, &transformPool{from: from, to: to, idle: make(chan *godal.Transform, 2*runtime.GOMAXPROCS(0))})
	return p.(*transformPool)
}

// get returns an idle transformation or makes one (a lookup in the PROJ
// database, a fraction of a millisecond once it is warm).
func (p *transformPool) get() (*godal.Transform, error) {
	select {
	case t := <-p.idle:
		return t, nil
	default:
	}
	src, err := godal.NewSpatialRefFromEPSG(p.from)
	if err != nil {
		return nil, fmt.Errorf("EPSG:%d: %w", p.from, err)
	}
	defer src.Close()
	dst, err := godal.NewSpatialRefFromEPSG(p.to)
	if err != nil {
		return nil, fmt.Errorf("EPSG:%d: %w", p.to, err)
	}
	defer dst.Close()
	t, err := godal.NewTransform(src, dst)
	if err != nil {
		return nil, fmt.Errorf("transformation from EPSG:%d to EPSG:%d: %w", p.from, p.to, err)
	}
	return t, nil
}

// put gives a transformation back, or closes it when enough are idle.
func (p *transformPool) put(t *godal.Transform) {
	select {
	case p.idle <- t:
	default:
		t.Close()
	}
}

// Transform transforms points from EPSG:from to EPSG:to in place, x/y
// (lon/lat) order, and reports which succeeded. The caller vouches for
// the points (footprints from the catalogue, say); boxes from requests go
// through TransformBBox, which checks them first.
func Transform(from, to int, xs, ys []float64) ([]bool, error) {
	ok := make([]bool, len(xs))
	if from == to || len(xs) == 0 {
		for i := range ok {
			ok[i] = true
		}
		return ok, nil
	}
	p := poolOf(from, to)
	t, err := p.get()
	if err != nil {
		return nil, err
	}
	_ = t.TransformEx(xs, ys, nil, ok) // failures are in ok
	p.put(t)
	return ok, nil
}

// TransformBBox returns the bbox of EPSG:to covering bbox of EPSG:from,
// both in x/y (lon/lat) order. A box CheckBBox refuses is an error; the
// rest is clamped to the valid area of EPSG:from before PROJ sees it (an
// error when nothing is left), and the result to that of EPSG:to. The
// edges are densified so that curved outlines are covered.
func TransformBBox(from, to int, bbox [4]float64) ([4]float64, error) {
	if err := CheckBBox(from, bbox); err != nil {
		return bbox, err
	}
	box, ok := clamp(from, bbox)
	if !ok {
		return bbox, fmt.Errorf("bbox %v is outside EPSG:%d", bbox, from)
	}
	if from == to {
		return box, nil
	}
	if to == 3857 && domainOf(from).geographic {
		// Beyond the world square's latitudes Web Mercator fails: the
		// box's top and bottom edges would be lost.
		box[1] = math.Max(box[1], -webMercatorMaxLat)
		box[3] = math.Min(box[3], webMercatorMaxLat)
		if box[1] > box[3] {
			return bbox, fmt.Errorf("bbox %v is outside EPSG:3857", bbox)
		}
	}
	const n = 8
	xs := make([]float64, 0, 4*(n+1))
	ys := make([]float64, 0, 4*(n+1))
	for i := 0; i <= n; i++ {
		t := float64(i) / n
		x := box[0] + (box[2]-box[0])*t
		y := box[1] + (box[3]-box[1])*t
		xs = append(xs, x, x, box[0], box[2])
		ys = append(ys, box[1], box[3], y, y)
	}
	done, err := Transform(from, to, xs, ys)
	if err != nil {
		return bbox, err
	}
	out := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	found := false
	for i := range xs {
		if !done[i] || math.IsNaN(xs[i]) || math.IsNaN(ys[i]) || math.IsInf(xs[i], 0) || math.IsInf(ys[i], 0) {
			continue
		}
		found = true
		out[0] = math.Min(out[0], xs[i])
		out[1] = math.Min(out[1], ys[i])
		out[2] = math.Max(out[2], xs[i])
		out[3] = math.Max(out[3], ys[i])
	}
	if !found {
		return bbox, fmt.Errorf("bbox %v of EPSG:%d does not transform to EPSG:%d", bbox, from, to)
	}
	if out, ok = clamp(to, out); !ok {
		return bbox, fmt.Errorf("bbox %v of EPSG:%d is outside EPSG:%d", bbox, from, to)
	}
	return out, nil
}

var geographicCodes sync.Map // EPSG code → bool

// isGeographic reports whether EPSG:code is a geographic CRS (degrees).
// The answer is kept: a lookup in the PROJ database costs about a
// millisecond. An unknown code is not geographic.
func isGeographic(code int) bool {
	if v, ok := geographicCodes.Load(code); ok {
		return v.(bool)
	}
	sr, err := godal.NewSpatialRefFromEPSG(code)
	geo := false
	if err == nil {
		geo = sr.Geographic()
		sr.Close()
	}
	geographicCodes.Store(code, geo)
	return geo
}
