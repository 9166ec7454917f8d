package crs

import (
	"fmt"
	"math"
	"sync"

	"github.com/airbusgeo/godal"
)

var (
	transformMu sync.Mutex
	transforms  = map[[2]int]*godal.Transform{}
)

// TransformBBox returns the bbox of EPSG:to covering bbox of EPSG:from,
// both in x/y (lon/lat) order. The edges are densified so that curved
// outlines are covered. Boxes in EPSG:4326 are clamped to ±180/±90.
func TransformBBox(from, to int, bbox [4]float64) ([4]float64, error) {
	if from == to {
		return bbox, nil
	}
	transformMu.Lock()
	defer transformMu.Unlock()
	key := [2]int{from, to}
	tr, ok := transforms[key]
	if !ok {
		src, err := godal.NewSpatialRefFromEPSG(from)
		if err != nil {
			return bbox, err
		}
		defer src.Close()
		dst, err := godal.NewSpatialRefFromEPSG(to)
		if err != nil {
			return bbox, err
		}
		defer dst.Close()
		if tr, err = godal.NewTransform(src, dst); err != nil {
			return bbox, err
		}
		transforms[key] = tr
	}
	const n = 8
	xs := make([]float64, 0, 4*(n+1))
	ys := make([]float64, 0, 4*(n+1))
	for i := 0; i <= n; i++ {
		t := float64(i) / n
		x := bbox[0] + (bbox[2]-bbox[0])*t
		y := bbox[1] + (bbox[3]-bbox[1])*t
		xs = append(xs, x, x, bbox[0], bbox[2])
		ys = append(ys, bbox[1], bbox[3], y, y)
	}
	done := make([]bool, len(xs))
	_ = tr.TransformEx(xs, ys, nil, done)
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
	if to == 4326 {
		out[0], out[1] = math.Max(out[0], -180), math.Max(out[1], -90)
		out[2], out[3] = math.Min(out[2], 180), math.Min(out[3], 90)
	}
	return out, nil
}
