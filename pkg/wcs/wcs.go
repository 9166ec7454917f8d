package wcs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/internal/xmltext"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/crs"
)

// Exception codes of OWS Common 2.0, WCS 2.0.1 core and its extensions.
const (
	CodeMissingParameterValue    = "MissingParameterValue"
	CodeInvalidParameterValue    = "InvalidParameterValue"
	CodeOperationNotSupported    = "OperationNotSupported"
	CodeVersionNegotiationFailed = "VersionNegotiationFailed"
	CodeNoApplicableCode         = "NoApplicableCode"
	CodeNoSuchCoverage           = "NoSuchCoverage"
	CodeInvalidAxisLabel         = "InvalidAxisLabel"
	CodeInvalidSubsetting        = "InvalidSubsetting"
	CodeSubsettingCRSNotSupp     = "SubsettingCrs-NotSupported"
	CodeOutputCRSNotSupported    = "OutputCrs-NotSupported"
	CodeInvalidScaleFactor       = "InvalidScaleFactor"
	CodeInvalidExtent            = "InvalidExtent"
	CodeNoSuchField              = "NoSuchField"
	CodeInterpolationNotSupp     = "InterpolationMethodNotSupported"
)

// Error is an OWS exception.
type Error struct {
	Code    string
	Locator string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(code, locator string, status int, format string, args ...any) *Error {
	return &Error{Code: code, Locator: locator, Message: fmt.Sprintf(format, args...), Status: status}
}

// Band describes one band of a coverage.
type Band struct {
	DataType string // GDAL's name: Byte, UInt16, ...
	Color    string
	NoData   *float64
}

// Coverage is one registered product's raster.
type Coverage struct {
	ID           string
	BBox         [4]float64 // footprint bbox, EPSG:4326 lon/lat
	CRS          string     // EPSG:n; other CRSs are not offered
	Width        int
	Height       int
	GeoTransform [6]float64
	Bands        []Band
	Location     string // object key
}

// ErrNotFound is what a Backend returns for an unknown coverage.
var ErrNotFound = errors.New("no such coverage")

// Backend finds the coverages offered: every registered product of the
// collection whose CRS has an EPSG code, under its identifier.
type Backend interface {
	// Coverages returns up to limit coverages, newest first.
	Coverages(ctx context.Context, limit int) ([]Coverage, error)
	// Coverage returns one coverage; ErrNotFound when unknown.
	Coverage(ctx context.Context, id string) (Coverage, error)
	// GDALPath names a stored object for GDAL.
	GDALPath(key string) string
}

// Service is what the capabilities say about the service, and its limits.
type Service struct {
	Title     string
	Abstract  string
	PublicURL string // advertised endpoint; the request's own URL when empty
	// MaxBytes bounds a GetCoverage response, counted uncompressed
	// (width × height × bands × sample size).
	MaxBytes int64
	// MaxListed bounds the coverages listed in the capabilities.
	MaxListed int
}

// Handler serves WCS 2.0.1 over HTTP GET with KVP encoding.
type Handler struct {
	Backend Backend
	Service Service
	// TempDir holds GetCoverage results while they are sent.
	TempDir string
	Log     *slog.Logger
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	p := map[string]string{}
	var subsets []string
	for k, v := range r.URL.Query() {
		if len(v) == 0 {
			continue
		}
		k = strings.ToUpper(k)
		if k == "SUBSET" {
			subsets = append(subsets, v...)
			continue
		}
		p[k] = v[0]
	}
	if svc := p["SERVICE"]; !strings.EqualFold(svc, "WCS") {
		if svc == "" {
			writeException(w, errorf(CodeMissingParameterValue, "service", http.StatusBadRequest, "SERVICE is missing; use SERVICE=WCS"))
		} else {
			writeException(w, errorf(CodeInvalidParameterValue, "service", http.StatusBadRequest, "SERVICE=%s is not served here; use SERVICE=WCS", svc))
		}
		return
	}
	req := strings.ToLower(p["REQUEST"])
	if req == "" {
		writeException(w, errorf(CodeMissingParameterValue, "request", http.StatusBadRequest, "REQUEST is missing"))
		return
	}
	if req == "getcapabilities" {
		if av := p["ACCEPTVERSIONS"]; av != "" && !strings.Contains(av, "2.0.1") && !strings.Contains(av, "2.0.0") {
			writeException(w, errorf(CodeVersionNegotiationFailed, "acceptversions", http.StatusBadRequest, "ACCEPTVERSIONS=%s: this server speaks WCS 2.0.1 only", av))
			return
		}
		h.getCapabilities(w, r)
		return
	}
	switch v := p["VERSION"]; v {
	case "2.0.1", "2.0.0":
	case "":
		writeException(w, errorf(CodeMissingParameterValue, "version", http.StatusBadRequest, "VERSION is missing; use VERSION=2.0.1"))
		return
	default:
		writeException(w, errorf(CodeInvalidParameterValue, "version", http.StatusBadRequest, "VERSION=%s: this server speaks WCS 2.0.1 only", v))
		return
	}
	var err error
	switch req {
	case "describecoverage":
		err = h.describeCoverage(w, r, p)
	case "getcoverage":
		err = h.getCoverage(w, r, p, subsets)
	default:
		err = errorf(CodeOperationNotSupported, "request", http.StatusNotImplemented, "REQUEST=%s is not supported; use GetCapabilities, DescribeCoverage or GetCoverage", p["REQUEST"])
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			h.Log.Error("wcs", "request", req, "err", err)
			e = errorf(CodeNoApplicableCode, "", http.StatusInternalServerError, "the request failed; the error is logged")
		}
		writeException(w, e)
	}
}

func writeException(w http.ResponseWriter, e *Error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/2.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/ows/2.0 http://schemas.opengis.net/ows/2.0/owsExceptionReport.xsd" version="2.0.1" xml:lang="en">`)
	fmt.Fprintf(&b, `<ows:Exception exceptionCode="%s"`, esc(e.Code))
	if e.Locator != "" {
		fmt.Fprintf(&b, ` locator="%s"`, esc(e.Locator))
	}
	fmt.Fprintf(&b, `><ows:ExceptionText>%s</ows:ExceptionText></ows:Exception></ows:ExceptionReport>`, esc(e.Message))
	w.Header().Set("Content-Type", "application/xml")
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func fmtf(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// coverageInfo is what the documents and GetCoverage need of a product.
type coverageInfo struct {
	ID     string
	Cov    Coverage
	EPSG   int
	LatLon bool // the CRS's axis order is latitude first
	Grid   Grid
}

// axes returns the CRS axis labels in the CRS's order, and the names the
// horizontal (x) and vertical (y) axes answer to in SUBSET and SCALE*.
func (c coverageInfo) axes() (labels [2]string, xs, ys []string) {
	if c.LatLon {
		return [2]string{"Lat", "Long"}, []string{"Long", "Lon", "x", "i"}, []string{"Lat", "y", "j"}
	}
	return [2]string{"x", "y"}, []string{"x", "E", "i"}, []string{"y", "N", "j"}
}

func srsURI(code int) string { return "http://www.opengis.net/def/crs/EPSG/0/" + strconv.Itoa(code) }

// info reads the coverage of a product; products without an EPSG CRS
// are not offered.
func info(cov Coverage) (coverageInfo, error) {
	code, err := strconv.Atoi(strings.TrimPrefix(cov.CRS, "EPSG:"))
	if err != nil || !strings.HasPrefix(cov.CRS, "EPSG:") {
		return coverageInfo{}, fmt.Errorf("its CRS has no EPSG code")
	}
	ci := coverageInfo{ID: cov.ID, Cov: cov, EPSG: code,
		Grid: Grid{Width: cov.Width, Height: cov.Height, GeoTransform: cov.GeoTransform}}
	ci.LatLon = epsgLatLon(code)
	return ci, nil
}

var latLonCodes sync.Map // EPSG code → bool

// epsgLatLon reports whether the EPSG CRS puts latitude first. The answer
// is kept: a lookup in the PROJ database costs about a millisecond, and
// the capabilities ask it of every coverage.
func epsgLatLon(code int) bool {
	if v, ok := latLonCodes.Load(code); ok {
		return v.(bool)
	}
	cog.Init()
	sr, err := godal.NewSpatialRefFromEPSG(code)
	if err != nil {
		return false
	}
	defer sr.Close()
	latLon := sr.Geographic() && sr.EPSGTreatsAsLatLong()
	latLonCodes.Store(code, latLon)
	return latLon
}

func (h *Handler) lookup(ctx context.Context, id string) (coverageInfo, error) {
	cov, err := h.Backend.Coverage(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return coverageInfo{}, errorf(CodeNoSuchCoverage, "coverageid", http.StatusNotFound, "no coverage %q", id)
	}
	if err != nil {
		return coverageInfo{}, err
	}
	ci, err := info(cov)
	if err != nil {
		return coverageInfo{}, errorf(CodeNoSuchCoverage, "coverageid", http.StatusNotFound, "coverage %q is not offered over WCS: %v", id, err)
	}
	return ci, nil
}

func (h *Handler) endpoint(r *http.Request) string {
	if h.Service.PublicURL != "" {
		return h.Service.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.Path
}

var profiles = []string{
	"http://www.opengis.net/spec/WCS/2.0/conf/core",
	"http://www.opengis.net/spec/WCS_protocol-binding_get-kvp/1.0/conf/get-kvp",
	"http://www.opengis.net/spec/GMLCOV/1.0/conf/gml-coverage",
	"http://www.opengis.net/spec/WCS_geotiff-coverages/1.0/conf/geotiff-coverage",
	"http://www.opengis.net/spec/WCS_service-extension_crs/1.0/conf/crs",
	"http://www.opengis.net/spec/WCS_service-extension_scaling/1.0/conf/scaling",
	"http://www.opengis.net/spec/WCS_service-extension_range-subsetting/1.0/conf/record-subsetting",
	"http://www.opengis.net/spec/WCS_service-extension_interpolation/1.0/conf/interpolation",
}

func (h *Handler) getCapabilities(w http.ResponseWriter, r *http.Request) {
	limit := h.Service.MaxListed
	if limit <= 0 {
		limit = 1000
	}
	recs, err := h.Backend.Coverages(r.Context(), limit)
	if err != nil {
		h.Log.Error("wcs capabilities", "err", err)
		writeException(w, errorf(CodeNoApplicableCode, "", http.StatusServiceUnavailable, "coverages are not available; the error is logged"))
		return
	}
	u := esc(h.endpoint(r))
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<wcs:Capabilities xmlns:wcs="http://www.opengis.net/wcs/2.0" xmlns:ows="http://www.opengis.net/ows/2.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:crs="http://www.opengis.net/wcs/service-extension/crs/1.0" xmlns:int="http://www.opengis.net/WCS_service-extension_interpolation/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/wcs/2.0 http://schemas.opengis.net/wcs/2.0/wcsGetCapabilities.xsd" version="2.0.1">` + "\n")
	fmt.Fprintf(&b, "<ows:ServiceIdentification><ows:Title>%s</ows:Title><ows:Abstract>%s</ows:Abstract><ows:ServiceType codeSpace=\"OGC\">OGC WCS</ows:ServiceType><ows:ServiceTypeVersion>2.0.1</ows:ServiceTypeVersion>",
		esc(h.Service.Title), esc(h.Service.Abstract))
	for _, pr := range profiles {
		fmt.Fprintf(&b, "<ows:Profile>%s</ows:Profile>", pr)
	}
	b.WriteString("</ows:ServiceIdentification>\n<ows:ServiceProvider><ows:ProviderName>pvs</ows:ProviderName><ows:ServiceContact/></ows:ServiceProvider>\n<ows:OperationsMetadata>")
	for _, op := range []string{"GetCapabilities", "DescribeCoverage", "GetCoverage"} {
		fmt.Fprintf(&b, `<ows:Operation name="%s"><ows:DCP><ows:HTTP><ows:Get xlink:href="%s?"/></ows:HTTP></ows:DCP></ows:Operation>`, op, u)
	}
	b.WriteString("</ows:OperationsMetadata>\n<wcs:ServiceMetadata><wcs:formatSupported>image/tiff</wcs:formatSupported><wcs:Extension>")
	b.WriteString("<int:InterpolationMetadata>")
	for _, m := range interpolations {
		fmt.Fprintf(&b, "<int:InterpolationSupported>%s</int:InterpolationSupported>", m.uri)
	}
	b.WriteString("</int:InterpolationMetadata><crs:CrsMetadata>")
	for _, c := range crs.SupportedCodes() {
		if c == "CRS:84" {
			continue
		}
		fmt.Fprintf(&b, "<crs:crsSupported>%s</crs:crsSupported>", srsURI(mustCode(c)))
	}
	b.WriteString("</crs:CrsMetadata></wcs:Extension></wcs:ServiceMetadata>\n<wcs:Contents>\n")
	for _, rec := range recs {
		if _, err := info(rec); err != nil {
			continue
		}
		id := rec.ID
		fmt.Fprintf(&b, "<wcs:CoverageSummary><wcs:CoverageId>%s</wcs:CoverageId><wcs:CoverageSubtype>RectifiedGridCoverage</wcs:CoverageSubtype><ows:WGS84BoundingBox><ows:LowerCorner>%s %s</ows:LowerCorner><ows:UpperCorner>%s %s</ows:UpperCorner></ows:WGS84BoundingBox></wcs:CoverageSummary>\n",
			esc(id), fmtf(rec.BBox[0]), fmtf(rec.BBox[1]), fmtf(rec.BBox[2]), fmtf(rec.BBox[3]))
	}
	b.WriteString("</wcs:Contents>\n</wcs:Capabilities>\n")
	w.Header().Set("Content-Type", "application/xml")
	w.Write(b.Bytes())
}

func mustCode(s string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(s, "EPSG:"))
	return n
}

// dataTypes maps GDAL's type names to OGC data type names and value ranges.
var dataTypes = map[string]struct{ name, interval string }{
	"Byte":    {"unsignedByte", "0 255"},
	"UInt16":  {"unsignedShort", "0 65535"},
	"Int16":   {"signedShort", "-32768 32767"},
	"UInt32":  {"unsignedInt", "0 4294967295"},
	"Int32":   {"signedInt", "-2147483648 2147483647"},
	"Float32": {"float32", "-3.4028234663852886e+38 3.4028234663852886e+38"},
	"Float64": {"float64", "-1.7976931348623157e+308 1.7976931348623157e+308"},
}

// pair writes two values in the CRS's axis order, given x/y ones.
func (c coverageInfo) pair(x, y float64) string {
	if c.LatLon {
		return fmtf(y) + " " + fmtf(x)
	}
	return fmtf(x) + " " + fmtf(y)
}

func (h *Handler) describeCoverage(w http.ResponseWriter, r *http.Request, p map[string]string) error {
	ids := p["COVERAGEID"]
	if ids == "" {
		return errorf(CodeMissingParameterValue, "coverageid", http.StatusBadRequest, "COVERAGEID is missing")
	}
	var infos []coverageInfo
	for _, id := range strings.Split(ids, ",") {
		ci, err := h.lookup(r.Context(), strings.TrimSpace(id))
		if err != nil {
			return err
		}
		infos = append(infos, ci)
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<wcs:CoverageDescriptions xmlns:wcs="http://www.opengis.net/wcs/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:gmlcov="http://www.opengis.net/gmlcov/1.0" xmlns:swe="http://www.opengis.net/swe/2.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/wcs/2.0 http://schemas.opengis.net/wcs/2.0/wcsDescribeCoverage.xsd">` + "\n")
	for _, ci := range infos {
		labels, _, _ := ci.axes()
		uom := "m m"
		if ci.LatLon {
			uom = "deg deg"
		}
		srs := srsURI(ci.EPSG)
		bb := ci.Grid.Bounds()
		gt := ci.Grid.GeoTransform
		id := esc(ci.ID)
		gid := gmlID(ci.ID)
		fmt.Fprintf(&b, `<wcs:CoverageDescription gml:id="%s">`, gid)
		fmt.Fprintf(&b, `<gml:boundedBy><gml:Envelope srsName="%s" axisLabels="%s %s" uomLabels="%s" srsDimension="2"><gml:lowerCorner>%s</gml:lowerCorner><gml:upperCorner>%s</gml:upperCorner></gml:Envelope></gml:boundedBy>`,
			srs, labels[0], labels[1], uom, ci.pair(bb[0], bb[1]), ci.pair(bb[2], bb[3]))
		fmt.Fprintf(&b, `<wcs:CoverageId>%s</wcs:CoverageId>`, id)
		fmt.Fprintf(&b, `<gml:domainSet><gml:RectifiedGrid dimension="2" gml:id="%s_grid"><gml:limits><gml:GridEnvelope><gml:low>0 0</gml:low><gml:high>%d %d</gml:high></gml:GridEnvelope></gml:limits><gml:axisLabels>i j</gml:axisLabels>`,
			gid, ci.Grid.Width-1, ci.Grid.Height-1)
		// The origin is the centre of the first pixel.
		fmt.Fprintf(&b, `<gml:origin><gml:Point gml:id="%s_origin" srsName="%s"><gml:pos>%s</gml:pos></gml:Point></gml:origin>`,
			gid, srs, ci.pair(gt[0]+gt[1]/2, gt[3]+gt[5]/2))
		fmt.Fprintf(&b, `<gml:offsetVector srsName="%s">%s</gml:offsetVector><gml:offsetVector srsName="%s">%s</gml:offsetVector></gml:RectifiedGrid></gml:domainSet>`,
			srs, ci.pair(gt[1], 0), srs, ci.pair(0, gt[5]))
		b.WriteString(`<gmlcov:rangeType><swe:DataRecord>`)
		for i, band := range ci.Cov.Bands {
			dt, ok := dataTypes[band.DataType]
			if !ok {
				dt = dataTypes["Float64"]
			}
			fmt.Fprintf(&b, `<swe:field name="band%d"><swe:Quantity definition="http://www.opengis.net/def/dataType/OGC/0/%s"><swe:description>band %d (%s, %s)</swe:description>`,
				i+1, dt.name, i+1, esc(band.DataType), esc(band.Color))
			if band.NoData != nil {
				fmt.Fprintf(&b, `<swe:nilValues><swe:NilValues><swe:nilValue reason="http://www.opengis.net/def/nil/OGC/0/unknown">%s</swe:nilValue></swe:NilValues></swe:nilValues>`, fmtf(*band.NoData))
			}
			fmt.Fprintf(&b, `<swe:uom code="10^0"/><swe:constraint><swe:AllowedValues><swe:interval>%s</swe:interval></swe:AllowedValues></swe:constraint></swe:Quantity></swe:field>`, dt.interval)
		}
		b.WriteString(`</swe:DataRecord></gmlcov:rangeType><wcs:ServiceParameters><wcs:CoverageSubtype>RectifiedGridCoverage</wcs:CoverageSubtype><wcs:nativeFormat>image/tiff</wcs:nativeFormat></wcs:ServiceParameters></wcs:CoverageDescription>` + "\n")
	}
	b.WriteString("</wcs:CoverageDescriptions>\n")
	w.Header().Set("Content-Type", "application/xml")
	_, err := w.Write(b.Bytes())
	return err
}

// gmlID makes an identifier a valid xs:ID (an NCName).
func gmlID(s string) string {
	var b strings.Builder
	for i, c := range s {
		ok := c == '_' || c == '-' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if i == 0 && !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			b.WriteByte('_')
		}
		if ok {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

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

func (h *Handler) getCoverage(w http.ResponseWriter, r *http.Request, p map[string]string, subsets []string) error {
	id := p["COVERAGEID"]
	if id == "" {
		return errorf(CodeMissingParameterValue, "coverageid", http.StatusBadRequest, "COVERAGEID is missing")
	}
	if f := p["FORMAT"]; f != "" && f != "image/tiff" {
		return errorf(CodeInvalidParameterValue, "format", http.StatusBadRequest, "FORMAT=%s is not supported; use image/tiff", f)
	}
	if m := p["MEDIATYPE"]; m != "" {
		return errorf(CodeInvalidParameterValue, "mediatype", http.StatusBadRequest, "MEDIATYPE=%s is not supported; GetCoverage returns a bare GeoTIFF", m)
	}
	ci, err := h.lookup(r.Context(), id)
	if err != nil {
		return err
	}
	subCode, outCode := ci.EPSG, ci.EPSG
	if v := p["SUBSETTINGCRS"]; v != "" {
		if subCode, err = parseCRSParam(v, "SUBSETTINGCRS", CodeSubsettingCRSNotSupp); err != nil {
			return err
		}
	}
	if v := p["OUTPUTCRS"]; v != "" {
		if outCode, err = parseCRSParam(v, "OUTPUTCRS", CodeOutputCRSNotSupported); err != nil {
			return err
		}
	}
	// The subset box, in the subsetting CRS, x/y order.
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
			return errorf(CodeInvalidSubsetting, "subset", http.StatusBadRequest, "%v", err)
		}
		if subCRS != "" {
			if c, err := parseCRSParam(subCRS, "SUBSET", CodeSubsettingCRSNotSupp); err != nil {
				return err
			} else if c != subCode {
				return errorf(CodeSubsettingCRSNotSupp, "subset", http.StatusBadRequest, "SUBSET %q names a CRS other than SUBSETTINGCRS", s)
			}
		}
		var lo, hi int
		switch {
		case contains(xs, sub.Axis):
			lo, hi = 0, 2
		case contains(ys, sub.Axis):
			lo, hi = 1, 3
		default:
			return errorf(CodeInvalidAxisLabel, "subset", http.StatusNotFound, "SUBSET axis %q is not an axis of the coverage; use %s and %s", sub.Axis, strings.Join(xs, "/"), strings.Join(ys, "/"))
		}
		if seen[strconv.Itoa(lo)] {
			return errorf(CodeInvalidSubsetting, "subset", http.StatusBadRequest, "axis %s is subset twice", sub.Axis)
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
			return errorf(CodeInvalidSubsetting, "subset", http.StatusBadRequest, "SUBSET: %v", err)
		}
	}
	native := box
	if subCode != ci.EPSG {
		extent, err := crs.TransformBBox(ci.EPSG, subCode, ci.Grid.Bounds())
		if err != nil {
			return errorf(CodeInvalidSubsetting, "subset", http.StatusBadRequest, "the coverage's extent does not transform to EPSG:%d", subCode)
		}
		// Open sides take the coverage's extent, then the box goes native.
		for i := range box {
			if box[i] == negInf || box[i] == posInf {
				box[i] = extent[i]
			}
		}
		point := box[0] == box[2] || box[1] == box[3]
		if native, err = crs.TransformBBox(subCode, ci.EPSG, box); err != nil {
			return errorf(CodeInvalidSubsetting, "subset", http.StatusNotFound, "the subset does not transform to the coverage's CRS")
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
	}
	win, err := ci.Grid.window(native)
	if err != nil {
		return err
	}
	_, sxs, sys := ci.axes()
	ow, oh, err := outputSize(win.W, win.H, p["SCALEFACTOR"], p["SCALESIZE"], p["SCALEAXES"], sxs, sys)
	if err != nil {
		return err
	}
	if p["SCALEEXTENT"] != "" {
		return errorf(CodeOperationNotSupported, "scaleextent", http.StatusNotImplemented, "SCALEEXTENT is not supported; use SCALESIZE, SCALEAXES or SCALEFACTOR")
	}
	bands, err := rangeSubset(p["RANGESUBSET"], len(ci.Cov.Bands))
	if err != nil {
		return err
	}
	resampling := "near"
	if v := p["INTERPOLATION"]; v != "" {
		resampling = ""
		for _, m := range interpolations {
			if v == m.uri || strings.EqualFold(v, m.uri[strings.LastIndexByte(m.uri, '/')+1:]) {
				resampling = m.gdal
			}
		}
		if resampling == "" {
			return errorf(CodeInterpolationNotSupp, "interpolation", http.StatusBadRequest, "INTERPOLATION=%s is not supported", v)
		}
	}
	var sample int64 = 8
	if len(ci.Cov.Bands) > 0 {
		if s, ok := sampleSize[ci.Cov.Bands[0].DataType]; ok {
			sample = s
		}
	}
	size, ok := coverageBytes(ow, oh, len(bands), sample)
	if !ok {
		return errorf(CodeInvalidParameterValue, "subset", http.StatusBadRequest,
			"the coverage asked for is %dx%d pixels, %d bands: more bytes than a file can hold; subset it or scale it down", ow, oh, len(bands))
	}
	if h.Service.MaxBytes > 0 && size > h.Service.MaxBytes {
		return errorf(CodeInvalidParameterValue, "subset", http.StatusBadRequest,
			"the coverage asked for is %dx%d pixels, %d bands: %d MB uncompressed, above this server's limit of %d MB; subset it or scale it down",
			ow, oh, len(bands), size>>20, h.Service.MaxBytes>>20)
	}
	return h.write(w, r, ci, win, ow, oh, bands, resampling, outCode)
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

// write cuts the window with GDAL into a temporary GeoTIFF and streams it.
func (h *Handler) write(w http.ResponseWriter, r *http.Request, ci coverageInfo, win Window, ow, oh int, bands []int, resampling string, outCode int) error {
	dir, err := os.MkdirTemp(h.TempDir, "wcs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "out.tif")
	logger := godal.ErrLogger(cog.Errors(h.Log))
	src, err := cog.Open(h.Backend.GDALPath(ci.Cov.Location), godal.RasterOnly(), logger)
	if err != nil {
		return fmt.Errorf("open %s: %w", ci.Cov.Location, err)
	}
	defer src.Close()
	creation := []string{"-co", "TILED=YES", "-co", "COMPRESS=DEFLATE", "-co", "BIGTIFF=IF_SAFER"}
	switches := []string{"-srcwin", strconv.Itoa(win.X), strconv.Itoa(win.Y), strconv.Itoa(win.W), strconv.Itoa(win.H),
		"-outsize", strconv.Itoa(ow), strconv.Itoa(oh), "-r", resampling}
	for _, b := range bands {
		switches = append(switches, "-b", strconv.Itoa(b))
	}
	if outCode == ci.EPSG {
		out, err := src.Translate(name, append(append(switches, "-of", "GTiff"), creation...), logger)
		if err != nil {
			return fmt.Errorf("translate: %w", err)
		}
		if err := out.Close(); err != nil {
			return err
		}
	} else {
		vrt, err := src.Translate("", append(switches, "-of", "VRT"), logger)
		if err != nil {
			return fmt.Errorf("translate: %w", err)
		}
		defer vrt.Close()
		ws := append([]string{"-of", "GTiff", "-t_srs", "EPSG:" + strconv.Itoa(outCode), "-r", resampling}, creation...)
		out, err := vrt.Warp(name, ws, logger)
		if err != nil {
			return errorf(CodeOutputCRSNotSupported, "outputcrs", http.StatusBadRequest, "the coverage cannot be warped to EPSG:%d: %v", outCode, err)
		}
		if err := out.Close(); err != nil {
			return err
		}
	}
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/tiff")
	w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s.tif"`, url.PathEscape(ci.ID)))
	if _, err := io.Copy(w, f); err != nil {
		h.Log.Warn("wcs: sending coverage", "coverage", ci.ID, "err", err)
	}
	return nil
}

// esc escapes XML text.
var esc = xmltext.Escape
