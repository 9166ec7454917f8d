package render

import (
	"math"

	"github.com/pvs/pvs/pkg/bandexpr"
	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/config"
)

// autoRange is the range a browse without an explicit one stretches a
// coverage of rec by, and false when it is drawn as today (values as they
// are). Byte data keep the identity: 0–255 is already what a screen shows,
// and stretching would change every existing Byte browse. Other data types
// are stretched from the envelope of the 2nd and 98th percentiles of the
// bands drawn, taken from the product type's ranges when the registry has
// them (so that adjacent scenes of one type match) and else from the
// product's own statistics. One range for all the bands drawn keeps their
// ratios, and so the colours.
func autoRange(b config.Browse, expr *bandexpr.Expr, rec catalog.Record, cov catalog.Coverage) ([]float64, bool) {
	if len(b.Range) == 2 || expr != nil || len(cov.Bands) == 0 || cov.Bands[0].DataType == "Byte" {
		return nil, false
	}
	bands, ok := browseBands(b, expr, len(cov.Bands))
	if !ok {
		return nil, false
	}
	if lo, hi, ok := envelope(bands, func(k int) (float64, float64, bool) {
		for _, r := range rec.TypeRanges {
			if r.Band == k {
				return r.Low, r.High, true
			}
		}
		return 0, 0, false
	}); ok {
		return []float64{lo, hi}, true
	}
	if lo, hi, ok := envelope(bands, func(k int) (float64, float64, bool) {
		if s := cov.Bands[k-1].Stats; s != nil {
			return s.P2, s.P98, true
		}
		return 0, 0, false
	}); ok {
		return []float64{lo, hi}, true
	}
	return nil, false
}

// envelope is the lowest low and highest high of bands, when every band
// has a range and the envelope is not empty.
func envelope(bands []int, rangeOf func(int) (float64, float64, bool)) (float64, float64, bool) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, k := range bands {
		l, h, ok := rangeOf(k)
		if !ok {
			return 0, 0, false
		}
		lo, hi = math.Min(lo, l), math.Max(hi, h)
	}
	return lo, hi, hi > lo
}
