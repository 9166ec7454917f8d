package render

import (
	"fmt"
	"math"
	"sync"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/crs"
)

// CRS is the coordinate reference system of a request.
type CRS = crs.CRS

var (
	transformMu sync.Mutex
	transforms  = map[int]*godal.Transform{}
)

// ToWGS84 returns the lon/lat bbox covering bbox (x/y order) of crs. The
// edges are densified so that curved outlines are covered.
func ToWGS84(c CRS, bbox [4]float64) ([4]float64, error) {
	if c.Code == 4326 {
		return bbox, nil
	}
	cog.Init()
	transformMu.Lock()
	defer transformMu.Unlock()
	tr, ok := transforms[c.Code]
	if !ok {
		src, err := godal.NewSpatialRefFromEPSG(c.Code)
		if err != nil {
			return bbox, err
		}
		dst, err := godal.NewSpatialRefFromEPSG(4326)
		if err != nil {
			return bbox, err
		}
		tr, err = godal.NewTransform(src, dst)
		if err != nil {
			return bbox, err
		}
		transforms[c.Code] = tr
	}
	const n = 8
	var xs, ys []float64
	for i := 0; i <= n; i++ {
		t := float64(i) / n
		x := bbox[0] + (bbox[2]-bbox[0])*t
		y := bbox[1] + (bbox[3]-bbox[1])*t
		xs = append(xs, x, x, bbox[0], bbox[2])
		ys = append(ys, bbox[1], bbox[3], y, y)
	}
	ok2 := make([]bool, len(xs))
	_ = tr.TransformEx(xs, ys, nil, ok2)
	out := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	any := false
	for i := range xs {
		if !ok2[i] || math.IsNaN(xs[i]) || math.IsNaN(ys[i]) || math.IsInf(xs[i], 0) {
			continue
		}
		any = true
		out[0] = math.Min(out[0], xs[i])
		out[1] = math.Min(out[1], ys[i])
		out[2] = math.Max(out[2], xs[i])
		out[3] = math.Max(out[3], ys[i])
	}
	if !any {
		return bbox, fmt.Errorf("bbox %v of %s does not transform to EPSG:4326", bbox, c)
	}
	out[0], out[1] = math.Max(out[0], -180), math.Max(out[1], -90)
	out[2], out[3] = math.Min(out[2], 180), math.Min(out[3], 90)
	return out, nil
}
