package render

import "github.com/pvs/pvs/pkg/crs"

// CRS is the coordinate reference system of a request.
type CRS = crs.CRS

// ToWGS84 returns the lon/lat bbox covering bbox (x/y order) of crs, as
// crs.TransformBBox does: an absurd box is an error, one reaching past
// the CRS's valid area is clamped to it, one wholly outside is an error.
func ToWGS84(c CRS, bbox [4]float64) ([4]float64, error) {
	return crs.TransformBBox(c.Code, 4326, bbox)
}
