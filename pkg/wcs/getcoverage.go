package wcs

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/pvs/pvs/pkg/crs"
)

var interpolations = []struct{ uri, gdal string }{
	{"http://www.opengis.net/def/interpolation/OGC/1/nearest-neighbour", "near"},
	{"http://www.opengis.net/def/interpolation/OGC/1/linear", "bilinear"},
	{"http://www.opengis.net/def/interpolation/OGC/1/cubic", "cubic"},
}

func parseCRSParam(v, name, code string) (int, error) {
	c, err := crs.Parse(v)
	if err != nil {
		return 0, errorf(code, strings.ToLower(name), http.StatusBadRequest, "%s=%s is not supported: %v", name, v, err)
	}
	return c.Code, nil
}

var sampleSize = map[string]int64{"Byte": 1, "UInt16": 2, "Int16": 2, "UInt32": 4, "Int32": 4, "Float32": 4, "Float64": 8}

// cut is what a GetCoverage request asks of one coverage: a window of
// its pixels, the size the window is resampled to, the bands in order, and
// the CRS of the result.
type cut struct {
	win        Window
	width      int
	height     int
	bands      []int  // 1-based, in the order asked for
	resampling string // GDAL's -r method
	outCode    int    // EPSG code of the result
}

// getCoverage answers GetCoverage: parse, window, cut, stream. The
// parameters are checked in a fixed order (coverage, CRSs, subsets, window,
// output), so a request with several faults always hears of the same one.
func (h *Handler) getCoverage(w http.ResponseWriter, r *http.Request, p map[string]string, subsets []string) error {
	ci, err := h.coverageParam(r.Context(), p)
	if err != nil {
		return err
	}
	subCode, outCode, err := crsParams(ci, p)
	if err != nil {
		return err
	}
	box, err := subsetBox(ci, subCode, subsets)
	if err != nil {
		return err
	}
	native, err := nativeBox(ci, subCode, box)
	if err != nil {
		return err
	}
	win, err := ci.Grid.window(native)
	if err != nil {
		return err
	}
	c, err := h.output(ci, win, p)
	if err != nil {
		return err
	}
	c.outCode = outCode
	return h.write(w, ci, c)
}

// coverageParam reads COVERAGEID, FORMAT and MEDIATYPE and finds the
// coverage.
func (h *Handler) coverageParam(ctx context.Context, p map[string]string) (coverageInfo, error) {
	id := p["COVERAGEID"]
	if id == "" {
		return coverageInfo{}, errorf(CodeMissingParameterValue, "coverageid", http.StatusBadRequest, "COVERAGEID is missing")
	}
	if f := p["FORMAT"]; f != "" && f != "image/tiff" {
		return coverageInfo{}, errorf(CodeInvalidParameterValue, "format", http.StatusBadRequest, "FORMAT=%s is not supported; use image/tiff", f)
	}
	if m := p["MEDIATYPE"]; m != "" {
		return coverageInfo{}, errorf(CodeInvalidParameterValue, "mediatype", http.StatusBadRequest, "MEDIATYPE=%s is not supported; GetCoverage returns a bare GeoTIFF", m)
	}
	return h.lookup(ctx, id)
}

// crsParams reads SUBSETTINGCRS and OUTPUTCRS; both default to the
// coverage's own CRS.
func crsParams(ci coverageInfo, p map[string]string) (subCode, outCode int, err error) {
	subCode, outCode = ci.EPSG, ci.EPSG
	if v := p["SUBSETTINGCRS"]; v != "" {
		if subCode, err = parseCRSParam(v, "SUBSETTINGCRS", CodeSubsettingCRSNotSupp); err != nil {
			return 0, 0, err
		}
	}
	if v := p["OUTPUTCRS"]; v != "" {
		if outCode, err = parseCRSParam(v, "OUTPUTCRS", CodeOutputCRSNotSupported); err != nil {
			return 0, 0, err
		}
	}
	return subCode, outCode, nil
}

// subsetBox reads the SUBSETs into a box in the subsetting CRS, x/y order;
// the sides no SUBSET names stay infinite.
func subsetBox(ci coverageInfo, subCode int, subsets []string) ([4]float64, error) {
	box := [4]float64{negInf, negInf, posInf, posInf}
	xs, ys := []string{"x", "E", "Long", "Lon"}, []string{"y", "N", "Lat"}
	if subCode == ci.EPSG {
		_, xs, ys = ci.axes()
		xs, ys = xs[:len(xs)-1], ys[:len(ys)-1] // grid axes i/j are not CRS axes
	}
	seen := map[string]bool{}
	for _, s := range subsets {
		sub, subCRS, err := parseSubset(s)
		if err != nil {
			return box, errorf(CodeInvalidSubsetting, "subset", http.StatusBadRequest, "%v", err)
		}
		if subCRS != "" {
			if c, err := parseCRSParam(subCRS, "SUBSET", CodeSubsettingCRSNotSupp); err != nil {
				return box, err
			} else if c != subCode {
				return box, errorf(CodeSubsettingCRSNotSupp, "subset", http.StatusBadRequest, "SUBSET %q names a CRS other than SUBSETTINGCRS", s)
			}
		}
		var lo, hi int
		switch {
		case contains(xs, sub.Axis):
			lo, hi = 0, 2
		case contains(ys, sub.Axis):
			lo, hi = 1, 3
		default:
			return box, errorf(CodeInvalidAxisLabel, "subset", http.StatusNotFound, "SUBSET axis %q is not an axis of the coverage; use %s and %s", sub.Axis, strings.Join(xs, "/"), strings.Join(ys, "/"))
		}
		if seen[strconv.Itoa(lo)] {
			return box, errorf(CodeInvalidSubsetting, "subset", http.StatusBadRequest, "axis %s is subset twice", sub.Axis)
		}
		seen[strconv.Itoa(lo)] = true
		box[lo], box[hi] = sub.Low, sub.High
	}
	// The sides the client gave (open ones are infinite by design) are
	// checked before PROJ or the grid arithmetic sees them.
	for _, v := range box {
		if math.IsInf(v, 0) {
			continue
		}
		if err := crs.CheckCoords(subCode, v); err != nil {
			return box, errorf(CodeInvalidSubsetting, "subset", http.StatusBadRequest, "SUBSET: %v", err)
		}
	}
	return box, nil
}

// nativeBox turns a subset box in the subsetting CRS into one in the
// coverage's CRS.
func nativeBox(ci coverageInfo, subCode int, box [4]float64) ([4]float64, error) {
	if subCode == ci.EPSG {
		return box, nil
	}
	extent, err := crs.TransformBBox(ci.EPSG, subCode, ci.Grid.Bounds())
	if err != nil {
		return box, errorf(CodeInvalidSubsetting, "subset", http.StatusBadRequest, "the coverage's extent does not transform to EPSG:%d", subCode)
	}
	// Open sides take the coverage's extent, then the box goes native.
	for i := range box {
		if box[i] == negInf || box[i] == posInf {
			box[i] = extent[i]
		}
	}
	point := box[0] == box[2] || box[1] == box[3]
	native, err := crs.TransformBBox(subCode, ci.EPSG, box)
	if err != nil {
		return box, errorf(CodeInvalidSubsetting, "subset", http.StatusNotFound, "the subset does not transform to the coverage's CRS")
	}
	if point {
		if box[0] == box[2] {
			c := (native[0] + native[2]) / 2
			native[0], native[2] = c, c
		}
		if box[1] == box[3] {
			c := (native[1] + native[3]) / 2
			native[1], native[3] = c, c
		}
	}
	return native, nil
}

// output reads how the window is delivered (scaling, bands, interpolation)
// and holds the result to the server's size limit.
func (h *Handler) output(ci coverageInfo, win Window, p map[string]string) (cut, error) {
	_, sxs, sys := ci.axes()
	ow, oh, err := outputSize(win.W, win.H, p["SCALEFACTOR"], p["SCALESIZE"], p["SCALEAXES"], sxs, sys)
	if err != nil {
		return cut{}, err
	}
	if p["SCALEEXTENT"] != "" {
		return cut{}, errorf(CodeOperationNotSupported, "scaleextent", http.StatusNotImplemented, "SCALEEXTENT is not supported; use SCALESIZE, SCALEAXES or SCALEFACTOR")
	}
	bands, err := rangeSubset(p["RANGESUBSET"], len(ci.Cov.Bands))
	if err != nil {
		return cut{}, err
	}
	resampling, err := interpolation(p["INTERPOLATION"])
	if err != nil {
		return cut{}, err
	}
	if err := h.checkSize(ci, ow, oh, len(bands)); err != nil {
		return cut{}, err
	}
	return cut{win: win, width: ow, height: oh, bands: bands, resampling: resampling}, nil
}

// interpolation reads INTERPOLATION, by URI or by its last segment, into
// GDAL's resampling method; nearest neighbour when it is not given.
func interpolation(v string) (string, error) {
	if v == "" {
		return "near", nil
	}
	resampling := ""
	for _, m := range interpolations {
		if v == m.uri || strings.EqualFold(v, m.uri[strings.LastIndexByte(m.uri, '/')+1:]) {
			resampling = m.gdal
		}
	}
	if resampling == "" {
		return "", errorf(CodeInterpolationNotSupp, "interpolation", http.StatusBadRequest, "INTERPOLATION=%s is not supported", v)
	}
	return resampling, nil
}

// checkSize refuses a result above Service.MaxBytes, counted uncompressed
// with the first band's sample size.
func (h *Handler) checkSize(ci coverageInfo, ow, oh, nbands int) error {
	var sample int64 = 8
	if len(ci.Cov.Bands) > 0 {
		if s, ok := sampleSize[ci.Cov.Bands[0].DataType]; ok {
			sample = s
		}
	}
	size, ok := coverageBytes(ow, oh, nbands, sample)
	if !ok {
		return errorf(CodeInvalidParameterValue, "subset", http.StatusBadRequest,
			"the coverage asked for is %dx%d pixels, %d bands: more bytes than a file can hold; subset it or scale it down", ow, oh, nbands)
	}
	if h.Service.MaxBytes > 0 && size > h.Service.MaxBytes {
		return errorf(CodeInvalidParameterValue, "subset", http.StatusBadRequest,
			"the coverage asked for is %dx%d pixels, %d bands: %d MB uncompressed, above this server's limit of %d MB; subset it or scale it down",
			ow, oh, nbands, size>>20, h.Service.MaxBytes>>20)
	}
	return nil
}

var negInf, posInf = math.Inf(-1), math.Inf(1)

// rangeSubset reads RANGESUBSET: band names (band1) or ranges of them
// (band1:band3), in the order given.
func rangeSubset(v string, n int) ([]int, error) {
	all := make([]int, n)
	for i := range all {
		all[i] = i + 1
	}
	if v == "" {
		return all, nil
	}
	band := func(s string) (int, error) {
		s = strings.TrimSpace(s)
		k, err := strconv.Atoi(strings.TrimPrefix(strings.ToLower(s), "band"))
		if err != nil || k < 1 || k > n || !strings.HasPrefix(strings.ToLower(s), "band") {
			return 0, errorf(CodeNoSuchField, "rangesubset", http.StatusNotFound, "RANGESUBSET: no field %q; the fields are band1 to band%d", s, n)
		}
		return k, nil
	}
	var out []int
	for _, item := range strings.Split(v, ",") {
		a, b, isRange := strings.Cut(item, ":")
		lo, err := band(a)
		if err != nil {
			return nil, err
		}
		hi := lo
		if isRange {
			if hi, err = band(b); err != nil {
				return nil, err
			}
		}
		step := 1
		if hi < lo {
			step = -1
		}
		for k := lo; ; k += step {
			out = append(out, k)
			if k == hi {
				break
			}
		}
	}
	return out, nil
}
