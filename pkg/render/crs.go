package render

import "github.com/pvs/pvs/pkg/crs"

// CRS is the coordinate reference system of a request.
type CRS = crs.CRS

// ToWGS84 returns the lon/lat bbox covering bbox (x/y order) of crs. The
// edges are densified so that curved outlines are covered.
func ToWGS84(c CRS, bbox [4]float64) ([4]float64, error) {
	return crs.TransformBBox(c.Code, 4326, bbox)
}
