package crs

import (
	"fmt"
	"math"
	"strconv"
)

// domain is where the coordinates of a CRS make sense, in x/y order.
type domain struct {
	// valid is the area the CRS covers. Boxes are clamped to it before
	// PROJ sees them: PROJ's answers outside it range from garbage to a
	// call that does not return (EPSG:3857 to lon/lat takes 0.6 s for one
	// point at x = 1e15 m, seconds at 1e16 m, and spins for good at 1e20 m).
	valid [4]float64
	// limit bounds |coordinate| in a request. Up to it a box is a map
	// that reaches past the world's edge, as web clients ask for at low
	// zooms, and is clamped; beyond it the box is refused as absurd.
	limit      float64
	geographic bool
	name       string // how an error message describes the valid area
}

const (
	webMercatorHalf = 20037508.342789244
	// webMercatorMaxLat is the latitude of the edge of the Web Mercator
	// world square.
	webMercatorMaxLat = 85.0511287798066
	// utmHalf is how far from a UTM zone's false origin coordinates are
	// kept: about twice the meridian quadrant, which holds the whole Earth in
	// transverse Mercator except the surroundings of the two points on
	// the equator 90° off the central meridian, where it runs to
	// infinity. The zone's EPSG area of use (6° wide) would be too
	// narrow: maps in UTM often reach into the next zones.
	utmHalf = 2e7
	// projectedHalf bounds the coordinates of projected CRSs whose extent
	// pvs does not know (WCS coverages in national grids): about twice
	// the Earth's circumference.
	projectedHalf = 1e8
	// metricLimit and degreeLimit are where a coordinate stops being a
	// map past the world's edge and becomes absurd: 50 Web Mercator
	// worlds, about 28 turns of longitude.
	metricLimit = 1e9
	degreeLimit = 1e4
)

var (
	geographicDomain = domain{valid: [4]float64{-180, -90, 180, 90}, limit: degreeLimit, geographic: true, name: "±180° longitude, ±90° latitude"}
	webMercator      = domain{valid: [4]float64{-webMercatorHalf, -webMercatorHalf, webMercatorHalf, webMercatorHalf}, limit: metricLimit,
		name: "the Web Mercator world, ±20037508.34 m"}
	otherProjected = domain{valid: [4]float64{-projectedHalf, -projectedHalf, projectedHalf, projectedHalf}, limit: metricLimit,
		name: "±1e8 m"}
)

// domainOf returns the domain of EPSG:code. The CRSs pvs serves are
// known here; for another code (a WCS coverage's native CRS) GDAL says
// once whether it is geographic.
func domainOf(code int) domain {
	switch {
	case code == 4326:
		return geographicDomain
	case code == 3857:
		return webMercator
	case code >= 32601 && code <= 32660, code >= 32701 && code <= 32760:
		e0, n0 := 500000.0, 0.0
		if code > 32700 {
			n0 = 10000000
		}
		return domain{valid: [4]float64{e0 - utmHalf, n0 - utmHalf, e0 + utmHalf, n0 + utmHalf}, limit: metricLimit,
			name: "UTM coordinates within 2e7 m of the zone's false origin"}
	case isGeographic(code):
		return geographicDomain
	}
	return otherProjected
}

// CheckCoords refuses coordinates of EPSG:code that no request can mean:
// NaN, infinities, and magnitudes beyond 1e9 m or 1e4 degrees.
func CheckCoords(code int, vs ...float64) error {
	d := domainOf(code)
	for _, v := range vs {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			return fmt.Errorf("coordinate %v is not a finite number", v)
		case math.Abs(v) > d.limit:
			unit := "m"
			if d.geographic {
				unit = "degrees"
			}
			return fmt.Errorf("coordinate %s is far outside EPSG:%d (beyond ±%g %s; its valid area is %s)",
				strconv.FormatFloat(v, 'g', -1, 64), code, d.limit, unit, d.name)
		}
	}
	return nil
}

// CheckBBox refuses a box of EPSG:code (x/y order) that no map can mean:
// coordinates refused by CheckCoords, or a minimum above its maximum. A
// box of zero width (a point) is allowed. A box that passes may still
// reach beyond the CRS's valid area; TransformBBox clamps it.
func CheckBBox(code int, b [4]float64) error {
	if err := CheckCoords(code, b[:]...); err != nil {
		return err
	}
	if b[0] > b[2] || b[1] > b[3] {
		return fmt.Errorf("box %v has a minimum above its maximum", b)
	}
	return nil
}

// clamp returns the part of b inside the valid area of EPSG:code; ok is
// false when there is none.
func clamp(code int, b [4]float64) (out [4]float64, ok bool) {
	v := domainOf(code).valid
	out = [4]float64{math.Max(b[0], v[0]), math.Max(b[1], v[1]), math.Min(b[2], v[2]), math.Min(b[3], v[3])}
	return out, out[0] <= out[2] && out[1] <= out[3]
}
