package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/cog"
)

// CRS is a coordinate reference system the renderer draws in.
type CRS struct {
	Code int // EPSG code; CRS:84 is 4326 with lon/lat order
	// LatLon reports that the CRS's official axis order is latitude first
	// (EPSG:4326 in WMS 1.3.0).
	LatLon bool
}

// String returns the CRS as EPSG:n.
func (c CRS) String() string { return "EPSG:" + strconv.Itoa(c.Code) }

// ParseCRS accepts EPSG:n, CRS:84, and the OGC URN and URL forms of EPSG.
func ParseCRS(s string) (CRS, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	switch u {
	case "CRS:84", "OGC:CRS84", "URN:OGC:DEF:CRS:OGC:1.3:CRS84", "HTTP://WWW.OPENGIS.NET/DEF/CRS/OGC/1.3/CRS84":
		return CRS{Code: 4326}, nil
	}
	var num string
	switch {
	case strings.HasPrefix(u, "EPSG:"):
		num = u[5:]
	case strings.HasPrefix(u, "URN:OGC:DEF:CRS:EPSG:"):
		num = u[strings.LastIndex(u, ":")+1:]
	case strings.HasPrefix(u, "HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/"):
		num = u[strings.LastIndex(u, "/")+1:]
	default:
		return CRS{}, fmt.Errorf("unsupported CRS %q", s)
	}
	code, err := strconv.Atoi(num)
	if err != nil || code <= 0 {
		return CRS{}, fmt.Errorf("unsupported CRS %q", s)
	}
	if !Supported(code) {
		return CRS{}, fmt.Errorf("unsupported CRS %q", s)
	}
	return CRS{Code: code, LatLon: code == 4326}, nil
}

// Supported reports whether the renderer serves the EPSG code: WGS 84,
// Web Mercator and the WGS 84 UTM zones.
func Supported(code int) bool {
	return code == 4326 || code == 3857 || (code >= 32601 && code <= 32660) || (code >= 32701 && code <= 32760)
}

// SupportedCodes lists the codes for capabilities documents.
func SupportedCodes() []string {
	out := []string{"EPSG:4326", "CRS:84", "EPSG:3857"}
	for z := 1; z <= 60; z++ {
		out = append(out, fmt.Sprintf("EPSG:%d", 32600+z))
	}
	for z := 1; z <= 60; z++ {
		out = append(out, fmt.Sprintf("EPSG:%d", 32700+z))
	}
	return out
}

var (
	transformMu sync.Mutex
	transforms  = map[int]*godal.Transform{}
)

// ToWGS84 returns the lon/lat bbox covering bbox (x/y order) of crs. The
// edges are densified so that curved outlines are covered.
func ToWGS84(crs CRS, bbox [4]float64) ([4]float64, error) {
	if crs.Code == 4326 {
		return bbox, nil
	}
	cog.Init()
	transformMu.Lock()
	defer transformMu.Unlock()
	tr, ok := transforms[crs.Code]
	if !ok {
		src, err := godal.NewSpatialRefFromEPSG(crs.Code)
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
		transforms[crs.Code] = tr
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
		return bbox, fmt.Errorf("bbox %v of %s does not transform to EPSG:4326", bbox, crs)
	}
	out[0], out[1] = math.Max(out[0], -180), math.Max(out[1], -90)
	out[2], out[3] = math.Min(out[2], 180), math.Min(out[3], 90)
	return out, nil
}
