package wcs

import (
	"fmt"
	"math"
	"math/bits"
	"net/http"
	"strconv"
	"strings"

	"github.com/pvs/pvs/pkg/ows"
)

// Subset is one SUBSET parameter: a trim (Low, High) or a slice (Low only).
type Subset struct {
	Axis      string
	Low, High float64
	Slice     bool
}

// parseSubset reads "axis(low,high)", "axis(point)" and the form with a
// CRS, "axis,crs(low,high)", which WCS 2.0 KVP allows; "*" leaves a side
// open.
func parseSubset(s string) (Subset, string, error) {
	open := strings.IndexByte(s, '(')
	if open <= 0 || !strings.HasSuffix(s, ")") {
		return Subset{}, "", fmt.Errorf("SUBSET %q is not axis(low,high) or axis(point)", s)
	}
	head, body := s[:open], s[open+1:len(s)-1]
	axis, subsetCRS, _ := strings.Cut(head, ",")
	sub := Subset{Axis: strings.TrimSpace(axis)}
	parts := strings.Split(body, ",")
	num := func(v string, open float64) (float64, error) {
		v = strings.Trim(strings.TrimSpace(v), `"`)
		if v == "*" {
			return open, nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("SUBSET %q: %q is not a finite number", s, v)
		}
		return f, nil
	}
	var err error
	switch len(parts) {
	case 1:
		sub.Slice = true
		if strings.TrimSpace(parts[0]) == "*" {
			return sub, subsetCRS, fmt.Errorf("SUBSET %q: a slice needs a point", s)
		}
		sub.Low, err = num(parts[0], 0)
		sub.High = sub.Low
	case 2:
		if sub.Low, err = num(parts[0], negInf); err == nil {
			sub.High, err = num(parts[1], posInf)
		}
		if err == nil && sub.Low > sub.High {
			err = fmt.Errorf("SUBSET %q: low is above high", s)
		}
	default:
		err = fmt.Errorf("SUBSET %q has %d values; a trim has two and a slice one", s, len(parts))
	}
	return sub, subsetCRS, err
}

// axisValues reads "a(v),b(w)": SCALESIZE, SCALEAXES.
func axisValues(s string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, item := range splitTop(s) {
		open := strings.IndexByte(item, '(')
		if open <= 0 || !strings.HasSuffix(item, ")") {
			return nil, fmt.Errorf("%q is not axis(value)", item)
		}
		v, err := strconv.ParseFloat(item[open+1:len(item)-1], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
			return nil, fmt.Errorf("%q: the value must be a positive number", item)
		}
		out[strings.ToLower(axisName(item[:open]))] = v
	}
	return out, nil
}

// axisName strips an axis URI down to its label
// (http://www.opengis.net/def/axis/OGC/1/i is i).
func axisName(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// splitTop splits on commas outside parentheses.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// Grid is a coverage's native grid.
type Grid struct {
	Width, Height int
	GeoTransform  [6]float64 // north-up: [2] and [4] are 0
}

// Bounds returns the grid's extent [minx, miny, maxx, maxy].
func (g Grid) Bounds() [4]float64 {
	gt := g.GeoTransform
	x0, x1 := gt[0], gt[0]+float64(g.Width)*gt[1]
	y0, y1 := gt[3], gt[3]+float64(g.Height)*gt[5]
	return [4]float64{math.Min(x0, x1), math.Min(y0, y1), math.Max(x0, x1), math.Max(y0, y1)}
}

// Window is a pixel window of a grid.
type Window struct{ X, Y, W, H int }

// window returns the pixels of g that the native-CRS box covers: whole
// pixels, any pixel the box touches. A zero-width side (a slice) selects
// the pixel holding the point.
func (g Grid) window(box [4]float64) (Window, error) {
	gt := g.GeoTransform
	if gt[2] != 0 || gt[4] != 0 {
		return Window{}, fmt.Errorf("rotated grids are not supported")
	}
	b := g.Bounds()
	if box[0] > b[2] || box[2] < b[0] || box[1] > b[3] || box[3] < b[1] {
		return Window{}, errOutside
	}
	col := func(x float64) float64 { return (x - gt[0]) / gt[1] }
	row := func(y float64) float64 { return (y - gt[3]) / gt[5] }
	c0, c1 := col(box[0]), col(box[2])
	r0, r1 := row(box[3]), row(box[1])
	if c0 > c1 {
		c0, c1 = c1, c0
	}
	if r0 > r1 {
		r0, r1 = r1, r0
	}
	clampi := func(v float64, hi int) int { return int(math.Max(0, math.Min(float64(hi), v))) }
	// Edges within a millionth of a pixel of a pixel edge are on it: a
	// box from a grid's own coordinates must not pick up a sliver.
	const eps = 1e-6
	x0 := clampi(math.Floor(c0+eps), g.Width-1)
	y0 := clampi(math.Floor(r0+eps), g.Height-1)
	x1 := clampi(math.Ceil(c1-eps), g.Width)
	y1 := clampi(math.Ceil(r1-eps), g.Height)
	if x1 <= x0 {
		x1 = x0 + 1
	}
	if y1 <= y0 {
		y1 = y0 + 1
	}
	return Window{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}, nil
}

var errOutside = &ows.Exception{Code: CodeInvalidSubsetting, Locator: "subset", Message: "the subset does not intersect the coverage", Status: http.StatusNotFound}

// maxSide is the most pixels a side of an output can have: GDAL counts
// them in a C int.
const maxSide = 1<<31 - 1

// outputSize applies the scaling parameters to a window of w×h pixels.
// Axis names are the grid's (i, j) or the CRS's (x, y, Lat, Long, ...):
// xAxes and yAxes list what names the horizontal and vertical axes go by.
// A side beyond maxSide is the client's error, named after the parameter
// that asked for it, before any float is converted to an int.
func outputSize(w, h int, factor string, size, axes string, xAxes, yAxes []string) (int, int, error) {
	ow, oh := float64(w), float64(h)
	wBy, hBy := "", "" // the parameter that set each side
	if factor != "" {
		f, err := strconv.ParseFloat(factor, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 {
			return 0, 0, &ows.Exception{Code: CodeInvalidScaleFactor, Locator: "scalefactor", Message: fmt.Sprintf("SCALEFACTOR %q must be a positive number", factor), Status: http.StatusBadRequest}
		}
		ow, oh = ow/f, oh/f
		wBy, hBy = "scalefactor", "scalefactor"
	}
	pick := func(m map[string]float64, names []string) (float64, bool) {
		for _, n := range names {
			if v, ok := m[strings.ToLower(n)]; ok {
				return v, true
			}
		}
		return 0, false
	}
	check := func(m map[string]float64, param string) error {
		for k := range m {
			if !contains(xAxes, k) && !contains(yAxes, k) {
				return &ows.Exception{Code: CodeInvalidAxisLabel, Locator: param, Message: fmt.Sprintf("%s names axis %q; the axes are %s and %s", strings.ToUpper(param), k, strings.Join(xAxes, "/"), strings.Join(yAxes, "/")), Status: http.StatusNotFound}
			}
		}
		return nil
	}
	if axes != "" {
		m, err := axisValues(axes)
		if err != nil {
			return 0, 0, &ows.Exception{Code: CodeInvalidScaleFactor, Locator: "scaleaxes", Message: "SCALEAXES: " + err.Error(), Status: http.StatusBadRequest}
		}
		if err := check(m, "scaleaxes"); err != nil {
			return 0, 0, err
		}
		if v, ok := pick(m, xAxes); ok {
			ow, wBy = float64(w)/v, "scaleaxes"
		}
		if v, ok := pick(m, yAxes); ok {
			oh, hBy = float64(h)/v, "scaleaxes"
		}
	}
	if size != "" {
		m, err := axisValues(size)
		if err != nil {
			return 0, 0, &ows.Exception{Code: CodeInvalidExtent, Locator: "scalesize", Message: "SCALESIZE: " + err.Error(), Status: http.StatusBadRequest}
		}
		if err := check(m, "scalesize"); err != nil {
			return 0, 0, err
		}
		if v, ok := pick(m, xAxes); ok {
			ow, wBy = v, "scalesize"
		}
		if v, ok := pick(m, yAxes); ok {
			oh, hBy = v, "scalesize"
		}
	}
	for _, side := range []struct {
		v  float64
		by string
	}{{ow, wBy}, {oh, hBy}} {
		if side.v <= maxSide {
			continue
		}
		code := CodeInvalidScaleFactor
		if side.by == "scalesize" {
			code = CodeInvalidExtent
		}
		return 0, 0, &ows.Exception{Code: code, Locator: side.by, Status: http.StatusBadRequest,
			Message: fmt.Sprintf("%s asks for an output %.4g pixels wide or high; at most %d are possible", strings.ToUpper(side.by), side.v, maxSide)}
	}
	iw, ih := int(math.Round(ow)), int(math.Round(oh))
	if iw < 1 {
		iw = 1
	}
	if ih < 1 {
		ih = 1
	}
	return iw, ih, nil
}

// coverageBytes is w × h × bands × sample; ok is false when the product
// does not fit an int64 (so that no overflow slips under a size limit).
func coverageBytes(w, h, bands int, sample int64) (n int64, ok bool) {
	if w < 0 || h < 0 || bands < 0 || sample < 0 {
		return 0, false
	}
	p := uint64(1)
	for _, f := range []uint64{uint64(w), uint64(h), uint64(bands), uint64(sample)} {
		hi, lo := bits.Mul64(p, f)
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		p = lo
	}
	return int64(p), true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
