package wms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pvs/pvs/pkg/crs"
	"github.com/pvs/pvs/pkg/imgenc"
	"github.com/pvs/pvs/pkg/layer"
	"github.com/pvs/pvs/pkg/ows"
	"github.com/pvs/pvs/pkg/period"
)

// Layer is one named layer offered by the backend.
type Layer = layer.Layer

// ProductLayers is implemented by backends that offer every product as a
// layer named by its identifier (not listed in capabilities).
type ProductLayers interface {
	ProductLayer(ctx context.Context, name string) (Layer, bool, error)
}

// MapRequest is a validated GetMap, as the backend draws it.
type MapRequest struct {
	Layer  Layer
	CRS    crs.CRS
	BBox   [4]float64 // x/y order: easting/northing or lon/lat
	Width  int
	Height int
	// Times are the TIME values (instants and intervals); products whose
	// time intersects one of them are drawn. Empty: every product.
	Times []period.Period
	// Background, when set, is the opaque colour to draw on (the output
	// is not transparent); backends may draw on it or leave the image
	// transparent for the handler to flatten.
	Background *color.NRGBA
}

// Backend lists layers and draws images.
type Backend interface {
	Layers(ctx context.Context) ([]Layer, error)
	// Render draws the request on a transparent canvas. An error wrapping
	// ErrLimit is the client's to fix (too many products, say).
	Render(ctx context.Context, req MapRequest) (*image.NRGBA, error)
}

// Recycler is a Backend that reuses the images it draws: Recycle is called
// with each image once it has been sent.
type Recycler interface {
	Recycle(img *image.NRGBA)
}

// RawFormat is an internal GetMap format, not advertised: the image as
// WIDTH x HEIGHT non-premultiplied RGBA bytes, row by row. The cache asks
// for metatiles in it, to cut them without decoding a PNG.
const RawFormat = "application/x-pvs-rgba"

// ErrLimit marks a request that exceeds a limit of the server.
var ErrLimit = errors.New("request exceeds a server limit")

// Service metadata for capabilities documents.
type Service struct {
	Title     string
	Abstract  string
	PublicURL string // advertised online resource; the request's own URL when empty
	MaxSize   int
}

// Handler serves WMS requests.
type Handler struct {
	Backend Backend
	Service Service
	Log     *slog.Logger
}

// params is a case-insensitive view of the query string.
type params map[string]string

func parseParams(q url.Values) params {
	p := params{}
	for k, v := range q {
		if len(v) > 0 {
			p[strings.ToUpper(k)] = v[0]
		}
	}
	return p
}

func (p params) get(k string) string { return p[k] }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	p := parseParams(r.URL.Query())
	version := negotiate(p.get("VERSION"), p.get("WMTVER"))
	if svc := p.get("SERVICE"); svc != "" && !strings.EqualFold(svc, "WMS") {
		writeException(w, errorf(CodeInvalidParameterValue, "service", "SERVICE=%s is not served here; use SERVICE=WMS", svc), version, "", 0, 0, "", color.NRGBA{}, false)
		return
	}
	switch strings.ToLower(p.get("REQUEST")) {
	case "getcapabilities", "capabilities":
		h.getCapabilities(w, r, p)
	case "getmap", "map":
		h.getMap(w, r, p, version)
	case "getfeatureinfo", "feature_info":
		h.getFeatureInfo(w, r, p, version)
	case "getlegendgraphic":
		h.getLegendGraphic(w, r, p, version)
	case "":
		writeException(w, errorf(CodeMissingParameterValue, "request", "REQUEST is missing"), version, "", 0, 0, "", color.NRGBA{}, false)
	default:
		writeException(w, errorf(CodeOperationNotSupported, "request", "REQUEST=%s is not supported", p.get("REQUEST")), version, "", 0, 0, "", color.NRGBA{}, false)
	}
}

// negotiate picks the version to answer with: 1.1.1 for requests that ask
// for anything below 1.3.0, 1.3.0 otherwise.
func negotiate(version, wmtver string) string {
	if version == "" {
		version = wmtver
	}
	if version == "" {
		return "1.3.0"
	}
	if compareVersion(version, "1.3.0") < 0 {
		return "1.1.1"
	}
	return "1.3.0"
}

func compareVersion(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < 3; i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// mapRequest is a validated GetMap.
type mapRequest struct {
	layer       Layer
	req         MapRequest
	format      string
	transparent bool
	bg          color.NRGBA
}

func (h *Handler) getMap(w http.ResponseWriter, r *http.Request, p params, version string) {
	exceptions := p.get("EXCEPTIONS")
	width, _ := strconv.Atoi(p.get("WIDTH"))
	height, _ := strconv.Atoi(p.get("HEIGHT"))
	format := p.get("FORMAT")
	bg, _ := parseColor(p.get("BGCOLOR"))
	transparent := strings.EqualFold(p.get("TRANSPARENT"), "TRUE")
	fail := func(e *ows.Exception) {
		okSize := width > 0 && height > 0 && width <= h.Service.MaxSize && height <= h.Service.MaxSize
		if !okSize || !imageFormat(format) {
			width, height = 0, 0 // no image can be drawn for this request
		}
		writeException(w, e, version, exceptions, width, height, format, bg, transparent)
	}
	mr, e := h.parseGetMap(r.Context(), p, version)
	if e != nil {
		fail(e)
		return
	}
	if mr.format != RawFormat && (!mr.transparent || mr.format == "image/jpeg") {
		bg := mr.bg
		mr.req.Background = &bg
	}
	img, err := h.Backend.Render(r.Context(), mr.req)
	if err != nil {
		if errors.Is(err, ErrLimit) {
			fail(errorf(CodeInvalidParameterValue, "bbox", "%v", err))
			return
		}
		if r.Context().Err() != nil {
			return // client went away
		}
		h.Log.Error("render", "layer", mr.layer.Name, "err", err)
		fail(&ows.Exception{Code: CodeNoApplicableCode, Message: "the map could not be drawn; the error is logged", Status: http.StatusInternalServerError})
		return
	}
	if rc, ok := h.Backend.(Recycler); ok {
		defer rc.Recycle(img)
	}
	if mr.format == RawFormat {
		w.Header().Set("Content-Type", RawFormat)
		w.Header().Set("Content-Length", strconv.Itoa(len(img.Pix)))
		w.Write(img.Pix)
		return
	}
	buf := getMapBuffer()
	defer putMapBuffer(buf)
	if !mr.transparent && mr.format != "image/jpeg" && !imgenc.Opaque(img) { // JPEG is flattened as it is encoded
		flatten(img, mr.bg)
	}
	if err := encode(buf, img, mr.format, mr.bg); err != nil {
		h.Log.Error("encode", "err", err)
		fail(&ows.Exception{Code: CodeNoApplicableCode, Message: "the map could not be encoded", Status: http.StatusInternalServerError})
		return
	}
	w.Header().Set("Content-Type", mr.format)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
}

// Encoded maps are written into buffers reused once sent: a buffer grown
// from nothing for each map allocated twice the map's size, a large share
// of what the renderer allocates per request. Buffers above maxMapBuffer are
// dropped.
var mapBuffers sync.Pool

const maxMapBuffer = 4 << 20

func getMapBuffer() *bytes.Buffer {
	if b, ok := mapBuffers.Get().(*bytes.Buffer); ok {
		b.Reset()
		return b
	}
	return new(bytes.Buffer)
}

func putMapBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxMapBuffer {
		mapBuffers.Put(b)
	}
}

func (h *Handler) findLayer(ctx context.Context, name string) (Layer, *ows.Exception) {
	layers, err := h.Backend.Layers(ctx)
	if err != nil {
		h.Log.Error("list layers", "err", err)
		return Layer{}, &ows.Exception{Code: CodeNoApplicableCode, Message: "layers are not available; the error is logged", Status: http.StatusServiceUnavailable}
	}
	for _, l := range layers {
		if l.Name == name {
			return l, nil
		}
	}
	if pl, ok := h.Backend.(ProductLayers); ok {
		l, found, err := pl.ProductLayer(ctx, name)
		if err != nil {
			h.Log.Error("product layer", "name", name, "err", err)
			return Layer{}, &ows.Exception{Code: CodeNoApplicableCode, Message: "layers are not available; the error is logged", Status: http.StatusServiceUnavailable}
		}
		if found {
			return l, nil
		}
	}
	return Layer{}, errorf(CodeLayerNotDefined, "layers", "layer %q is not defined", name)
}

func (h *Handler) parseGetMap(ctx context.Context, p params, version string) (*mapRequest, *ows.Exception) {
	for _, k := range []string{"LAYERS", "BBOX", "WIDTH", "HEIGHT", "FORMAT"} {
		if p.get(k) == "" {
			return nil, errorf(CodeMissingParameterValue, strings.ToLower(k), "%s is missing", k)
		}
	}
	crsKey := "CRS"
	if version == "1.1.1" {
		crsKey = "SRS"
	}
	crsName := p.get(crsKey)
	if crsName == "" {
		return nil, errorf(CodeMissingParameterValue, strings.ToLower(crsKey), "%s is missing", crsKey)
	}
	if _, ok := p["STYLES"]; !ok && version == "1.3.0" {
		return nil, errorf(CodeMissingParameterValue, "styles", "STYLES is missing (send STYLES= for the default style)")
	}
	names := strings.Split(p.get("LAYERS"), ",")
	if len(names) != 1 {
		return nil, errorf(CodeInvalidParameterValue, "layers", "one layer per request is served; got %d", len(names))
	}
	lyr, e := h.findLayer(ctx, names[0])
	if e != nil {
		return nil, e
	}
	if s := p.get("STYLES"); s != "" && !strings.EqualFold(s, "default") {
		return nil, errorf(CodeStyleNotDefined, "styles", "style %q is not defined for layer %s", s, lyr.Name)
	}
	mr := &mapRequest{layer: lyr}
	switch f := p.get("FORMAT"); {
	case imageFormat(f) || f == RawFormat:
		mr.format = f
	default:
		return nil, errorf(CodeInvalidFormat, "format", "format %q is not served; use image/png, image/png; mode=8bit or image/jpeg", f)
	}
	c, err := crs.Parse(crsName)
	if err != nil {
		return nil, errorf(CodeInvalidCRS, strings.ToLower(crsKey), "%v", err)
	}
	if strings.EqualFold(crsName, "CRS:84") || version == "1.1.1" {
		c.LatLon = false
	}
	bbox, err := parseBBox(p.get("BBOX"))
	if err != nil {
		return nil, errorf(CodeInvalidParameterValue, "bbox", "%v", err)
	}
	if c.LatLon {
		bbox = [4]float64{bbox[1], bbox[0], bbox[3], bbox[2]}
	}
	// Before anything reaches PROJ: a box past the world's edge is a map
	// (the renderer clamps it); one of 1e300 metres is not.
	if err := crs.CheckBBox(c.Code, bbox); err != nil {
		return nil, errorf(CodeInvalidParameterValue, "bbox", "BBOX: %v", err)
	}
	width, err1 := strconv.Atoi(p.get("WIDTH"))
	height, err2 := strconv.Atoi(p.get("HEIGHT"))
	if err1 != nil || err2 != nil || width <= 0 || height <= 0 {
		return nil, errorf(CodeInvalidParameterValue, "width", "WIDTH and HEIGHT must be positive integers")
	}
	if width > h.Service.MaxSize || height > h.Service.MaxSize {
		return nil, errorf(CodeInvalidParameterValue, "width", "WIDTH and HEIGHT must not exceed %d", h.Service.MaxSize)
	}
	mr.transparent = strings.EqualFold(p.get("TRANSPARENT"), "TRUE")
	if t := p.get("TRANSPARENT"); t != "" && !strings.EqualFold(t, "TRUE") && !strings.EqualFold(t, "FALSE") {
		return nil, errorf(CodeInvalidParameterValue, "transparent", "TRANSPARENT must be TRUE or FALSE")
	}
	mr.bg = color.NRGBA{255, 255, 255, 255}
	if s := p.get("BGCOLOR"); s != "" {
		c, err := parseColor(s)
		if err != nil {
			return nil, errorf(CodeInvalidParameterValue, "bgcolor", "%v", err)
		}
		mr.bg = c
	}
	req := MapRequest{Layer: lyr, CRS: c, BBox: bbox, Width: width, Height: height}
	if t := p.get("TIME"); t != "" && !strings.EqualFold(t, "current") {
		ps, err := period.ParseList(t)
		if errors.Is(err, period.ErrTooMany) {
			return nil, errorf(CodeInvalidParameterValue, "time", "TIME: %v", err)
		}
		if err != nil {
			return nil, errorf(CodeInvalidDimensionValue, "time", "%v", err)
		}
		if !lyr.Start.IsZero() {
			extent := period.Period{Start: lyr.Start, End: lyr.End}
			for _, p := range ps {
				if !p.Intersects(extent) {
					return nil, errorf(CodeInvalidDimensionValue, "time", "TIME %s is outside the layer's extent %s", p, extent)
				}
			}
		}
		req.Times = ps
	}
	mr.req = req
	return mr, nil
}

func parseBBox(s string) ([4]float64, error) {
	b, err := crs.ParseBBox(s)
	if err != nil {
		return b, fmt.Errorf("BBOX: %w", err)
	}
	return b, nil
}

func parseColor(s string) (color.NRGBA, error) {
	hex := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	hex = strings.TrimPrefix(hex, "#")
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil || len(hex) != 6 {
		return color.NRGBA{255, 255, 255, 255}, fmt.Errorf("BGCOLOR %q is not 0xRRGGBB", s)
	}
	return color.NRGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}, nil
}

// flatten composites img over an opaque background, in place.
func flatten(img *image.NRGBA, bg color.NRGBA) {
	rgb := imgenc.Flatten(img, bg)
	b := img.Bounds()
	w := b.Dx()
	for y := 0; y < b.Dy(); y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+w*4]
		src := rgb[y*w*3:]
		for x := 0; x < w; x++ {
			row[x*4], row[x*4+1], row[x*4+2], row[x*4+3] = src[x*3], src[x*3+1], src[x*3+2], 255
		}
	}
}

var pngEncoder = png.Encoder{CompressionLevel: png.BestSpeed}

// png8Formats name the 8-bit (paletted) PNG, as MapServer and GeoServer do.
var png8Formats = []string{"image/png; mode=8bit", "image/png8"}

// imageFormat reports whether GetMap draws f.
func imageFormat(f string) bool {
	return f == "image/png" || f == "image/jpeg" || slices.Contains(png8Formats, f)
}

func encode(w io.Writer, img image.Image, format string, bg color.NRGBA) error {
	n, isNRGBA := img.(*image.NRGBA)
	switch {
	case slices.Contains(png8Formats, format) && isNRGBA:
		return pngEncoder.Encode(w, imgenc.Paletted(n))
	case format == "image/jpeg" && isNRGBA:
		return imgenc.JPEG(w, n, bg, 85)
	case format == "image/jpeg":
		return jpeg.Encode(w, img, &jpeg.Options{Quality: 85})
	case isNRGBA:
		return imgenc.FastPNG(w, n, 1)
	default:
		return pngEncoder.Encode(w, img)
	}
}
