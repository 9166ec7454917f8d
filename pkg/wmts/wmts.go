package wmts

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/pvs/pvs/pkg/imgenc"
	"github.com/pvs/pvs/pkg/layer"
	"github.com/pvs/pvs/pkg/ows"
	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/tile"
)

// Tiles provides tiles.
type Tiles interface {
	Open(ctx context.Context, k tile.Key) (tile.Content, error)
}

// Layers lists the layers.
type Layers interface {
	Layers(ctx context.Context) ([]layer.Layer, error)
}

// FeatureInfo answers a GetFeatureInfo at pixel (i, j) of a tile; the
// status, content type and body are sent as they are (an OGC exception
// from the renderer included).
type FeatureInfo interface {
	FeatureInfo(ctx context.Context, k tile.Key, i, j int, infoFormat string) (status int, contentType string, body []byte, err error)
}

type infoFormat struct{ Ext, Type string }

// infoFormats are the GetFeatureInfo formats, with their REST extensions.
var infoFormats = []infoFormat{{"html", "text/html"}, {"json", "application/json"}, {"xml", "text/xml"}, {"txt", "text/plain"}}

// Handler serves WMTS under Prefix (e.g. /wmts).
type Handler struct {
	Tiles  Tiles
	Layers Layers
	Info   FeatureInfo // nil: no GetFeatureInfo
	// Fallback serves the WMS requests (SERVICE=WMS) that are not exactly
	// one cached tile: the renderer, through a proxy.
	Fallback  http.Handler
	PublicURL string // base URL advertised in capabilities, without /wmts
	Prefix    string
	MaxAge    int // Cache-Control max-age in seconds
	Log       *slog.Logger
}

func bad(code, locator, format string, args ...any) *ows.Exception {
	return ows.Errorf(http.StatusBadRequest, code, locator, format, args...)
}

func writeError(w http.ResponseWriter, e *ows.Exception) { ows.Write(w, ows.OWS11, e) }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	rest := strings.TrimPrefix(r.URL.Path, h.Prefix)
	rest = strings.Trim(rest, "/")
	if rest == "" {
		h.kvp(w, r)
		return
	}
	if rest == "1.0.0/WMTSCapabilities.xml" {
		h.capabilities(w, r)
		return
	}
	k, info, e := h.parseREST(rest)
	if e != nil {
		writeError(w, e)
		return
	}
	if info != nil {
		h.featureInfo(w, r, k, info.I, info.J, info.Format)
		return
	}
	h.serveTile(w, r, k)
}

func (h *Handler) kvp(w http.ResponseWriter, r *http.Request) {
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			q[strings.ToUpper(k)] = v[0]
		}
	}
	if strings.EqualFold(q["SERVICE"], "WMS") || (q["SERVICE"] == "" && q["WMTVER"] != "") {
		h.tiledWMS(w, r, q)
		return
	}
	if s := q["SERVICE"]; !strings.EqualFold(s, "WMTS") {
		writeError(w, bad("InvalidParameterValue", "service", "SERVICE must be WMTS, got %q", s))
		return
	}
	switch strings.ToLower(q["REQUEST"]) {
	case "getcapabilities":
		h.capabilities(w, r)
	case "gettile":
		k, e := h.getTileKey(q)
		if e != nil {
			writeError(w, e)
			return
		}
		h.serveTile(w, r, k)
	case "getfeatureinfo":
		if e := missing(q, "I", "J", "INFOFORMAT"); e != nil {
			writeError(w, e)
			return
		}
		k, e := h.kvpKey(q, "png")
		if e != nil {
			writeError(w, e)
			return
		}
		h.featureInfo(w, r, k, q["I"], q["J"], q["INFOFORMAT"])
	case "":
		writeError(w, bad("MissingParameterValue", "request", "REQUEST is missing"))
	default:
		writeError(w, bad("OperationNotSupported", "request", "REQUEST=%s is not supported", q["REQUEST"]))
	}
}

// missing names the first absent KVP parameter among those of a tile and
// extra.
func missing(q map[string]string, extra ...string) *ows.Exception {
	for _, p := range append([]string{"LAYER", "STYLE", "TILEMATRIXSET", "TILEMATRIX", "TILEROW", "TILECOL"}, extra...) {
		if _, ok := q[p]; !ok {
			return bad("MissingParameterValue", strings.ToLower(p), "%s is missing", p)
		}
	}
	return nil
}

// getTileKey reads the key of the tile a KVP GetTile names.
func (h *Handler) getTileKey(q map[string]string) (tile.Key, *ows.Exception) {
	if e := missing(q, "FORMAT"); e != nil {
		return tile.Key{}, e
	}
	format, err := tile.FormatOf(q["FORMAT"])
	if err != nil {
		return tile.Key{}, bad("InvalidParameterValue", "format", "%v", err)
	}
	return h.kvpKey(q, format)
}

// kvpKey reads the key of the tile a KVP request names (TIME included).
func (h *Handler) kvpKey(q map[string]string, format string) (tile.Key, *ows.Exception) {
	timeKey := tile.DefaultTime
	if t := q["TIME"]; t != "" {
		p, err := period.Parse(strings.Replace(t, "--", "/", 1))
		if err != nil {
			return tile.Key{}, bad("InvalidParameterValue", "time", "%v", err)
		}
		timeKey = p.Key()
	}
	return h.key(q["LAYER"], q["STYLE"], timeKey, q["TILEMATRIXSET"], q["TILEMATRIX"], q["TILEROW"], q["TILECOL"], format)
}

// infoRequest is the feature info part of a REST path.
type infoRequest struct{ I, J, Format string }

// parseREST reads {layer}/{style}[/{start}--{end}]/{TileMatrixSet}/{z}/{row}/{col}.{ext}
// after "1.0.0/", or a feature info path ending in /{j}/{i}.{infoext}.
func (h *Handler) parseREST(rest string) (k tile.Key, infoReq *infoRequest, e *ows.Exception) {
	parts := strings.Split(rest, "/")
	if len(parts) < 1 || parts[0] != "1.0.0" {
		return tile.Key{}, nil, &ows.Exception{Status: http.StatusNotFound, Code: "InvalidParameterValue", Locator: "version", Message: "only WMTS 1.0.0 is served"}
	}
	parts = parts[1:]
	timeKey := tile.DefaultTime
	info := len(parts) == 8 || len(parts) == 9
	var j, i string
	if info {
		j, i = parts[len(parts)-2], parts[len(parts)-1]
		parts = parts[:len(parts)-2]
		// The extension moves from {I} to {TileCol}, where the tile parser reads it.
		dot := strings.LastIndexByte(i, '.')
		if dot < 0 {
			return tile.Key{}, nil, bad("InvalidParameterValue", "format", "feature info path has no extension")
		}
		ext := i[dot+1:]
		i = i[:dot]
		parts[len(parts)-1] += ".png"
		var f *infoFormat
		for n := range infoFormats {
			if infoFormats[n].Ext == ext {
				f = &infoFormats[n]
			}
		}
		if f == nil {
			return tile.Key{}, nil, bad("InvalidParameterValue", "infoformat", "feature info extension %q is not served; use html, json, xml or txt", ext)
		}
		infoReq = &infoRequest{I: i, J: j, Format: f.Type}
	}
	switch len(parts) {
	case 7:
		p, err := period.ParseKey(parts[2])
		if err != nil {
			return tile.Key{}, nil, bad("InvalidParameterValue", "time", "%v", err)
		}
		timeKey = p.Key()
		parts = append(parts[:2], parts[3:]...)
	case 6:
	default:
		return tile.Key{}, nil, &ows.Exception{Status: http.StatusNotFound, Code: "InvalidParameterValue", Locator: "path",
			Message: "path must be /wmts/1.0.0/{layer}/{style}[/{start}--{end}]/{TileMatrixSet}/{z}/{row}/{col}.{png|jpeg}, or .../{col}/{j}/{i}.{html|json|xml|txt} for feature info"}
	}
	last := parts[5]
	dot := strings.LastIndexByte(last, '.')
	if dot < 0 {
		return tile.Key{}, nil, bad("InvalidParameterValue", "format", "tile path has no extension")
	}
	format, err := tile.FormatOf(last[dot+1:])
	if err != nil {
		return tile.Key{}, nil, bad("InvalidParameterValue", "format", "%v", err)
	}
	k, e = h.key(parts[0], parts[1], timeKey, parts[2], parts[3], parts[4], last[:dot], format)
	return k, infoReq, e
}

func (h *Handler) key(layerName, style, timeKey, tms, z, row, col, format string) (tile.Key, *ows.Exception) {
	if style != "" && style != "default" {
		return tile.Key{}, bad("InvalidParameterValue", "style", "style %q is not defined", style)
	}
	g, ok := tile.Lookup(tms)
	if !ok {
		return tile.Key{}, bad("InvalidParameterValue", "tilematrixset", "TileMatrixSet %q is not defined", tms)
	}
	zi, err1 := strconv.Atoi(z)
	ri, err2 := strconv.Atoi(row)
	ci, err3 := strconv.Atoi(col)
	if err1 != nil || err2 != nil || err3 != nil {
		return tile.Key{}, bad("InvalidParameterValue", "tilematrix", "TileMatrix, TileRow and TileCol must be integers")
	}
	if zi < 0 || zi > g.MaxZoom {
		return tile.Key{}, bad("InvalidParameterValue", "tilematrix", "TileMatrix %d is not in %s", zi, g.Name)
	}
	if !g.Valid(zi, ri, ci) {
		return tile.Key{}, bad("TileOutOfRange", "tilerow", "tile %d/%d/%d is outside %s", zi, ri, ci, g.Name)
	}
	return tile.Key{Layer: layerName, Grid: g.Name, Time: timeKey, Z: zi, Row: ri, Col: ci, Format: format}, nil
}

// layerOf finds the key's layer and checks its time against the extent;
// it answers with the exception when it cannot.
func (h *Handler) layerOf(w http.ResponseWriter, r *http.Request, k tile.Key) *layer.Layer {
	lyr, e, err := h.findLayer(r.Context(), k)
	switch {
	case err != nil:
		h.Log.Error("list layers", "err", err)
		writeError(w, &ows.Exception{Status: http.StatusServiceUnavailable, Code: "NoApplicableCode", Message: "layers are not available; the error is logged"})
	case e != nil:
		writeError(w, e)
	}
	return lyr
}

// findLayer returns the key's layer, or the client's error (an unknown
// layer, a time outside the layer's extent), or the server's (the layers
// not being available).
func (h *Handler) findLayer(ctx context.Context, k tile.Key) (*layer.Layer, *ows.Exception, error) {
	layers, err := h.Layers.Layers(ctx)
	if err != nil {
		return nil, nil, err
	}
	var lyr *layer.Layer
	for i := range layers {
		if layers[i].Name == k.Layer {
			lyr = &layers[i]
			break
		}
	}
	if lyr == nil {
		return nil, bad("InvalidParameterValue", "layer", "layer %q is not defined", k.Layer), nil
	}
	if k.Time != tile.DefaultTime && !lyr.Start.IsZero() {
		p, err := period.ParseKey(k.Time)
		extent := period.Period{Start: lyr.Start, End: lyr.End}
		if err == nil && !p.Intersects(extent) {
			return nil, bad("InvalidParameterValue", "time", "TIME %s is outside the layer's extent %s", p, extent), nil
		}
	}
	return lyr, nil, nil
}

// featureInfo forwards a GetFeatureInfo on a tile pixel to the renderer.
func (h *Handler) featureInfo(w http.ResponseWriter, r *http.Request, k tile.Key, is, js, format string) {
	if h.Info == nil {
		writeError(w, &ows.Exception{Status: http.StatusNotImplemented, Code: "OperationNotSupported", Locator: "request", Message: "GetFeatureInfo is not offered here"})
		return
	}
	known := false
	for _, f := range infoFormats {
		known = known || f.Type == format
	}
	if !known {
		writeError(w, bad("InvalidParameterValue", "infoformat", "INFOFORMAT %q is not served; use text/html, application/json, text/xml or text/plain", format))
		return
	}
	g, _ := tile.Lookup(k.Grid)
	i, err1 := strconv.Atoi(is)
	j, err2 := strconv.Atoi(js)
	if err1 != nil || err2 != nil || i < 0 || j < 0 || i >= g.TileSize || j >= g.TileSize {
		writeError(w, bad("PointIJOutOfRange", "i", "I and J must be pixels of the tile, 0 to %d; got I=%q J=%q", g.TileSize-1, is, js))
		return
	}
	if h.layerOf(w, r, k) == nil {
		return
	}
	status, ctype, body, err := h.Info.FeatureInfo(r.Context(), k, i, j, format)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return
		}
		h.Log.Error("feature info", "key", k.Path(), "err", err)
		writeError(w, &ows.Exception{Status: http.StatusBadGateway, Code: "NoApplicableCode", Message: "the feature info could not be fetched; the error is logged"})
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func (h *Handler) serveTile(w http.ResponseWriter, r *http.Request, k tile.Key) {
	lyr := h.layerOf(w, r, k)
	if lyr == nil {
		return
	}
	if outside(lyr, k) {
		h.serveBlank(w, r, k)
		return
	}
	c, err := h.Tiles.Open(r.Context(), k)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return
		}
		h.Log.Error("tile", "key", k.Path(), "err", err)
		writeError(w, &ows.Exception{Status: http.StatusBadGateway, Code: "NoApplicableCode", Message: "the tile could not be drawn; the error is logged"})
		return
	}
	defer c.Body.Close()
	etag := etagOf(c)
	hd := w.Header()
	hd.Set("ETag", etag)
	hd.Set("Cache-Control", h.cacheControl())
	if c.Hit {
		hd.Set("X-Cache", "HIT")
	} else {
		hd.Set("X-Cache", "MISS")
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", k.MediaType())
	hd.Set("Content-Length", strconv.FormatInt(c.Size, 10))
	// Limited to the announced size: a file may have grown since. (Hits
	// are sent by ServeHit, with sendfile; here the cache's server buffers
	// the answer.)
	io.Copy(w, io.LimitReader(c.Body, c.Size))
}

func etagOf(c tile.Content) string { return `"` + c.Version + `"` }

func (h *Handler) cacheControl() string { return "public, max-age=" + strconv.Itoa(h.MaxAge) }

// outside reports whether a tile cannot show anything of the layer: the
// layer has no products, or the tile misses its bbox.
func outside(l *layer.Layer, k tile.Key) bool {
	if l.BBox == nil {
		return l.Start.IsZero() // an empty collection
	}
	g, ok := tile.Lookup(k.Grid)
	if !ok {
		return false
	}
	lb := g.FromWGS84(*l.BBox)
	tb := g.BBox(k.Z, k.Row, k.Col)
	return tb[0] > lb[2] || tb[2] < lb[0] || tb[1] > lb[3] || tb[3] < lb[1]
}

var blanks sync.Map // format → encoded empty tile

// blank returns the shared empty tile of a format: transparent PNG, white
// JPEG.
func blank(format string, size int) []byte {
	key := format + "/" + strconv.Itoa(size)
	if b, ok := blanks.Load(key); ok {
		return b.([]byte)
	}
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	var buf bytes.Buffer
	var err error
	if format == "jpeg" {
		err = imgenc.JPEG(&buf, img, color.NRGBA{255, 255, 255, 255}, 85)
	} else {
		err = imgenc.FastPNG(&buf, img, 9)
	}
	if err != nil {
		panic("encode the blank tile: " + err.Error())
	}
	b, _ := blanks.LoadOrStore(key, buf.Bytes())
	return b.([]byte)
}

// serveBlank answers a tile outside the layer's data with the shared
// blank, without rendering or storing anything.
func (h *Handler) serveBlank(w http.ResponseWriter, r *http.Request, k tile.Key) {
	g, _ := tile.Lookup(k.Grid)
	body := blank(k.Format, g.TileSize)
	etag := `"blank-` + k.Format + `"`
	hd := w.Header()
	hd.Set("ETag", etag)
	hd.Set("Cache-Control", h.cacheControl())
	hd.Set("X-Cache", "BLANK")
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", k.MediaType())
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}
