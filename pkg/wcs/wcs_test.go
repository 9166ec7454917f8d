package wcs

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/internal/golden"
	"github.com/pvs/pvs/pkg/cog"
)

// fileBackend offers rasters of testdata as coverages, described by GDAL.
type fileBackend struct {
	t     *testing.T
	files map[string]string // coverage ID → path
	order []string
}

func (b fileBackend) describe(id string) Coverage {
	info, err := cog.Describe(b.files[id], nil)
	if err != nil {
		b.t.Fatal(err)
	}
	c := Coverage{ID: id, CRS: info.CRS, Width: info.Width, Height: info.Height, GeoTransform: info.GeoTransform, Location: b.files[id]}
	c.BBox = [4]float64{180, 90, -180, -90}
	for _, p := range info.Footprint {
		c.BBox = [4]float64{math.Min(c.BBox[0], p[0]), math.Min(c.BBox[1], p[1]), math.Max(c.BBox[2], p[0]), math.Max(c.BBox[3], p[1])}
	}
	for _, bd := range info.Bands {
		c.Bands = append(c.Bands, Band{DataType: bd.DataType, Color: bd.Color, NoData: bd.NoData})
	}
	return c
}

func (b fileBackend) Coverages(ctx context.Context, limit int) ([]Coverage, error) {
	var out []Coverage
	for _, id := range b.order {
		out = append(out, b.describe(id))
	}
	return out, nil
}

func (b fileBackend) Coverage(ctx context.Context, id string) (Coverage, error) {
	if _, ok := b.files[id]; !ok {
		return Coverage{}, ErrNotFound
	}
	return b.describe(id), nil
}

func (b fileBackend) GDALPath(key string) string { return key }

func newHandler(t *testing.T) *Handler {
	t.Helper()
	cog.Init()
	root := filepath.Join("..", "..", "testdata", "rasters")
	b := fileBackend{t: t, files: map[string]string{
		"UTM_RGB":   filepath.Join(root, "RGB.byte.tif"),
		"WGS84_RGB": filepath.Join(root, "rgbsmall.tif"),
		"NO_EPSG":   filepath.Join(root, "float_raster_with_nodata.tif"),
	}, order: []string{"UTM_RGB", "WGS84_RGB", "NO_EPSG"}}
	return &Handler{Backend: b, TempDir: t.TempDir(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Service: Service{Title: "Test", Abstract: "test coverages", PublicURL: "http://example.test/ows", MaxBytes: 1 << 20}}
}

func get(h http.Handler, query string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/ows?"+query, nil))
	return rec
}

// Documents are compared whole with reviewed copies; run
// `go test ./pkg/wcs -update` after an intended change and review the diff.
// They validate against wcsGetCapabilities.xsd and wcsDescribeCoverage.xsd.
func TestDocumentsGolden(t *testing.T) {
	h := newHandler(t)
	for name, q := range map[string]string{
		"capabilities.xml":    "SERVICE=WCS&REQUEST=GetCapabilities",
		"describe_utm.xml":    "SERVICE=WCS&VERSION=2.0.1&REQUEST=DescribeCoverage&COVERAGEID=UTM_RGB",
		"describe_latlon.xml": "SERVICE=WCS&VERSION=2.0.1&REQUEST=DescribeCoverage&COVERAGEID=WGS84_RGB",
	} {
		rec := get(h, q)
		if rec.Code != 200 {
			t.Fatalf("%s: status %d: %s", name, rec.Code, rec.Body)
		}
		golden.Check(t, name, rec.Body.Bytes())
		golden.Valid(t, name, rec.Body.Bytes())
	}
	// The coverage without an EPSG CRS is not listed.
	if body := get(h, "SERVICE=WCS&REQUEST=GetCapabilities").Body.String(); strings.Contains(body, "NO_EPSG") {
		t.Error("capabilities list a coverage without an EPSG CRS")
	}
}

// coverage fetches a GetCoverage and opens the result with GDAL.
func coverage(t *testing.T, h http.Handler, query string) *godal.Dataset {
	t.Helper()
	rec := get(h, "SERVICE=WCS&VERSION=2.0.1&REQUEST=GetCoverage&"+query)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/tiff" {
		t.Fatalf("%s: status %d, %s: %s", query, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	path := filepath.Join(t.TempDir(), "out.tif")
	if err := os.WriteFile(path, rec.Body.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ds, err := godal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	return ds
}

func pixels(t *testing.T, ds *godal.Dataset, x, y, w, h int, bands ...int) []byte {
	t.Helper()
	buf := make([]byte, w*h*len(bands))
	if err := ds.Read(x, y, buf, w, h, godal.Bands(bands...)); err != nil {
		t.Fatal(err)
	}
	return buf
}

func TestGetCoverageNativeSubsetMatchesSource(t *testing.T) {
	h := newHandler(t)
	src, err := godal.Open(filepath.Join("..", "..", "testdata", "rasters", "RGB.byte.tif"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	gt, _ := src.GeoTransform()
	// The box of pixels 100..299 × 50..199, given by pixel edges.
	x0, x1 := gt[0]+100*gt[1], gt[0]+300*gt[1]
	y0, y1 := gt[3]+200*gt[5], gt[3]+50*gt[5]
	q := url.Values{"COVERAGEID": {"UTM_RGB"}, "SUBSET": {"x(" + fmtf(x0) + "," + fmtf(x1) + ")", "y(" + fmtf(y0) + "," + fmtf(y1) + ")"}}
	ds := coverage(t, h, q.Encode())
	if st := ds.Structure(); st.SizeX != 200 || st.SizeY != 150 || st.NBands != 3 {
		t.Fatalf("got %dx%d×%d, want 200x150×3", st.SizeX, st.SizeY, st.NBands)
	}
	ogt, _ := ds.GeoTransform()
	if math.Abs(ogt[0]-x0) > 1e-6 || math.Abs(ogt[3]-y1) > 1e-6 || ogt[1] != gt[1] || ogt[5] != gt[5] {
		t.Errorf("geotransform %v, want origin %v,%v and the source's pixel size", ogt, x0, y1)
	}
	if string(pixels(t, ds, 0, 0, 200, 150, 0, 1, 2)) != string(pixels(t, src, 100, 50, 200, 150, 0, 1, 2)) {
		t.Error("pixels differ from the source window")
	}
	// RANGESUBSET reorders bands; a slice gives one column.
	ds = coverage(t, h, q.Encode()+"&RANGESUBSET=band3,band1")
	if string(pixels(t, ds, 0, 0, 200, 150, 0)) != string(pixels(t, src, 100, 50, 200, 150, 2)) ||
		string(pixels(t, ds, 0, 0, 200, 150, 1)) != string(pixels(t, src, 100, 50, 200, 150, 0)) {
		t.Error("RANGESUBSET=band3,band1 does not give bands 3 and 1")
	}
	slice := url.Values{"COVERAGEID": {"UTM_RGB"}, "SUBSET": {"x(" + fmtf(gt[0]+120.5*gt[1]) + ")"}}
	ds = coverage(t, h, slice.Encode())
	if st := ds.Structure(); st.SizeX != 1 || st.SizeY != 718 {
		t.Errorf("slice: got %dx%d, want 1x718", st.SizeX, st.SizeY)
	}
	if string(pixels(t, ds, 0, 0, 1, 718, 0)) != string(pixels(t, src, 120, 0, 1, 718, 0)) {
		t.Error("slice: pixels differ from source column 120")
	}
}

func TestGetCoverageScalingAndCRS(t *testing.T) {
	h := newHandler(t)
	for q, want := range map[string][2]int{
		"COVERAGEID=UTM_RGB&SCALEFACTOR=2":                              {396, 359},
		"COVERAGEID=UTM_RGB&SCALESIZE=i(100),j(80)":                     {100, 80},
		"COVERAGEID=UTM_RGB&SCALESIZE=x(64)":                            {64, 718},
		"COVERAGEID=UTM_RGB&SCALEAXES=x(2),y(4)":                        {396, 180},
		"COVERAGEID=WGS84_RGB&SCALESIZE=Long(25)":                       {25, 50},
		"COVERAGEID=WGS84_RGB&SUBSET=Lat(-90,*)":                        {50, 50},
		"COVERAGEID=WGS84_RGB&SUBSET=Long(*,1000)":                      {50, 50},
		"COVERAGEID=UTM_RGB&SCALESIZE=i(10),j(10)&INTERPOLATION=linear": {10, 10},
	} {
		ds := coverage(t, h, q)
		if st := ds.Structure(); st.SizeX != want[0] || st.SizeY != want[1] {
			t.Errorf("%s: got %dx%d, want %dx%d", q, st.SizeX, st.SizeY, want[0], want[1])
		}
	}
	// A box in EPSG:4326 on a UTM coverage: the result covers it.
	box := [4]float64{-77.5, 24.5, -77, 25}
	ds := coverage(t, h, "COVERAGEID=UTM_RGB&SUBSETTINGCRS=http://www.opengis.net/def/crs/EPSG/0/4326&SUBSET=Lat(24.5,25)&SUBSET=Long(-77.5,-77)")
	b, err := ds.Bounds(godal.ErrLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	sr, _ := godal.NewSpatialRefFromEPSG(4326)
	defer sr.Close()
	ll, err := ds.Bounds(sr)
	if err != nil {
		t.Fatal(err)
	}
	const tol = 0.01 // the result is whole pixels of 300 m
	if ll[0] > box[0]+tol || ll[1] > box[1]+tol || ll[2] < box[2]-tol || ll[3] < box[3]-tol {
		t.Errorf("result %v (native %v) does not cover %v", ll, b, box)
	}
	if ll[0] < box[0]-0.1 || ll[2] > box[2]+0.1 {
		t.Errorf("result %v reaches far beyond %v", ll, box)
	}
	// OUTPUTCRS warps.
	ds = coverage(t, h, "COVERAGEID=UTM_RGB&SCALEFACTOR=4&OUTPUTCRS=http://www.opengis.net/def/crs/EPSG/0/4326")
	osr := ds.SpatialRef()
	defer osr.Close()
	if osr.AuthorityCode("") != "4326" {
		t.Errorf("OUTPUTCRS=4326 gave a result in EPSG:%s", osr.AuthorityCode(""))
	}
}

func TestExceptions(t *testing.T) {
	h := newHandler(t)
	gc := "SERVICE=WCS&VERSION=2.0.1&REQUEST=GetCoverage&"
	for _, c := range []struct {
		query, code string
		status      int
	}{
		{"REQUEST=GetCapabilities", "MissingParameterValue", 400},
		{"SERVICE=WMS&REQUEST=GetCapabilities", "InvalidParameterValue", 400},
		{"SERVICE=WCS", "MissingParameterValue", 400},
		{"SERVICE=WCS&REQUEST=GetCapabilities&ACCEPTVERSIONS=1.0.0", "VersionNegotiationFailed", 400},
		{"SERVICE=WCS&REQUEST=DescribeCoverage&COVERAGEID=UTM_RGB", "MissingParameterValue", 400},
		{"SERVICE=WCS&VERSION=1.0.0&REQUEST=DescribeCoverage&COVERAGEID=UTM_RGB", "InvalidParameterValue", 400},
		{"SERVICE=WCS&VERSION=2.0.1&REQUEST=Transaction", "OperationNotSupported", 501},
		{"SERVICE=WCS&VERSION=2.0.1&REQUEST=DescribeCoverage", "MissingParameterValue", 400},
		{"SERVICE=WCS&VERSION=2.0.1&REQUEST=DescribeCoverage&COVERAGEID=nope", "NoSuchCoverage", 404},
		{"SERVICE=WCS&VERSION=2.0.1&REQUEST=DescribeCoverage&COVERAGEID=NO_EPSG", "NoSuchCoverage", 404},
		{gc + "COVERAGEID=nope", "NoSuchCoverage", 404},
		{gc, "MissingParameterValue", 400},
		{gc + "COVERAGEID=UTM_RGB&FORMAT=image/png", "InvalidParameterValue", 400},
		{gc + "COVERAGEID=UTM_RGB&SUBSET=Lat(1,2)", "InvalidAxisLabel", 404},
		{gc + "COVERAGEID=UTM_RGB&SUBSET=x(2,1)", "InvalidSubsetting", 400},
		{gc + "COVERAGEID=UTM_RGB&SUBSET=x(NaN,1)", "InvalidSubsetting", 400},
		{gc + "COVERAGEID=UTM_RGB&SUBSET=x(1,2,3)", "InvalidSubsetting", 400},
		{gc + "COVERAGEID=UTM_RGB&SUBSET=x1,2", "InvalidSubsetting", 400},
		{gc + "COVERAGEID=UTM_RGB&SUBSET=x(0,1)&SUBSET=x(0,1)", "InvalidSubsetting", 400},
		{gc + "COVERAGEID=UTM_RGB&SUBSET=x(0,1)", "InvalidSubsetting", 404},
		{gc + "COVERAGEID=UTM_RGB&SUBSETTINGCRS=EPSG:99999", "SubsettingCrs-NotSupported", 400},
		{gc + "COVERAGEID=UTM_RGB&OUTPUTCRS=EPSG:0", "OutputCrs-NotSupported", 400},
		{gc + "COVERAGEID=UTM_RGB&SCALEFACTOR=0", "InvalidScaleFactor", 400},
		{gc + "COVERAGEID=UTM_RGB&SCALEFACTOR=abc", "InvalidScaleFactor", 400},
		{gc + "COVERAGEID=UTM_RGB&SCALESIZE=k(10)", "InvalidAxisLabel", 404},
		{gc + "COVERAGEID=UTM_RGB&SCALESIZE=i(-1)", "InvalidExtent", 400},
		{gc + "COVERAGEID=UTM_RGB&RANGESUBSET=band9", "NoSuchField", 404},
		{gc + "COVERAGEID=UTM_RGB&RANGESUBSET=red'%20OR%201=1", "NoSuchField", 404},
		{gc + "COVERAGEID=UTM_RGB&INTERPOLATION=sinc", "InterpolationMethodNotSupported", 400},
		{gc + "COVERAGEID=UTM_RGB&SCALESIZE=i(100000),j(100000)", "InvalidParameterValue", 400},
		{gc + "COVERAGEID=UTM_RGB&SUBSET=x(-1e300,1e300)", "InvalidSubsetting", 400},
		{gc + "COVERAGEID=UTM_RGB&SUBSET=y(0,1e20)", "InvalidSubsetting", 400},
		{gc + "COVERAGEID=UTM_RGB&SUBSETTINGCRS=EPSG:3857&SUBSET=x(-1e300,1e300)", "InvalidSubsetting", 400},
		{gc + "COVERAGEID=UTM_RGB&SUBSETTINGCRS=EPSG:4326&SUBSET=Long(-1e20,0)", "InvalidSubsetting", 400},
		{gc + "COVERAGEID=UTM_RGB&SCALESIZE=i(3e9),j(10)", "InvalidExtent", 400},
		{gc + "COVERAGEID=UTM_RGB&SCALEFACTOR=1e-300", "InvalidScaleFactor", 400},
		{gc + "COVERAGEID=UTM_RGB&SCALEAXES=i(1e-300)", "InvalidScaleFactor", 400},
		// 2e9 × 2e9 × 3 bytes overflows an int64: it must not pass the limit.
		{gc + "COVERAGEID=UTM_RGB&SCALESIZE=i(2000000000),j(2000000000)", "InvalidParameterValue", 400},
	} {
		rec := get(h, c.query)
		body := rec.Body.String()
		if rec.Code != c.status || !strings.Contains(body, `exceptionCode="`+c.code+`"`) || !strings.Contains(body, "<ows:ExceptionText>") {
			t.Errorf("%s: got %d %s, want %d %s", c.query, rec.Code, body, c.status, c.code)
		}
	}
}

func TestCoverageBytes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		w, h, bands int
		sample      int64
		want        int64
		ok          bool
	}{
		{256, 256, 3, 1, 196608, true},
		{100000, 100000, 4, 8, 320000000000, true},
		{2000000000, 2000000000, 3, 1, 0, false},            // 1.2e19: past int64
		{maxSide, maxSide, 1, 1, 4611686014132420609, true}, // just fits
		{maxSide, maxSide, 3, 1, 0, false},
		{maxSide, maxSide, 255, 8, 0, false}, // wraps past 2^64 unchecked
		{-1, 10, 1, 1, 0, false},
	} {
		got, ok := coverageBytes(c.w, c.h, c.bands, c.sample)
		if got != c.want || ok != c.ok {
			t.Errorf("%d×%d×%d×%d: %d %v, want %d %v", c.w, c.h, c.bands, c.sample, got, ok, c.want, c.ok)
		}
	}
}

func TestParseSubset(t *testing.T) {
	for in, want := range map[string]Subset{
		"x(1,2)":           {Axis: "x", Low: 1, High: 2},
		"Lat(-5.5)":        {Axis: "Lat", Low: -5.5, High: -5.5, Slice: true},
		"y(*,3)":           {Axis: "y", Low: negInf, High: 3},
		`x("10","20")`:     {Axis: "x", Low: 10, High: 20},
		"E,EPSG:4326(1,2)": {Axis: "E", Low: 1, High: 2},
	} {
		got, _, err := parseSubset(in)
		if err != nil || got.Axis != want.Axis || got.Slice != want.Slice || got.High != want.High ||
			got.Low != want.Low {
			t.Errorf("%s: got %+v, %v; want %+v", in, got, err, want)
		}
	}
}

func FuzzParseSubset(f *testing.F) {
	for _, s := range []string{"x(1,2)", "Lat(5)", "y(*,*)", "a,b(1,2)", "(", "x()", "x(1,)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sub, _, err := parseSubset(s)
		if err == nil && (math.IsNaN(sub.Low) || math.IsNaN(sub.High) || sub.Low > sub.High) {
			t.Errorf("%q parsed to %+v", s, sub)
		}
	})
}
