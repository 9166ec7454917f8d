package wmts

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/tile"
)

// tiledWMS answers a WMS GetMap that matches one tile of a grid exactly
// from the tile cache; anything else (other sizes, unaligned boxes,
// several layers, styles, GetCapabilities, GetFeatureInfo) goes to
// Fallback, the renderer.
func (h *Handler) tiledWMS(w http.ResponseWriter, r *http.Request, q map[string]string) {
	if k, ok := alignedTile(q); ok && h.servable(r, k) {
		h.serveTile(w, r, k)
		return
	}
	if h.Fallback == nil {
		writeError(w, bad("OperationNotSupported", "request", "only WMS GetMaps of exactly one tile of a grid are served here"))
		return
	}
	h.Fallback.ServeHTTP(w, r)
}

// servable reports whether the cache can answer for the tile: its layer
// exists and its time meets the layer's extent. Otherwise the renderer
// answers, with the WMS exception a WMS client expects.
func (h *Handler) servable(r *http.Request, k tile.Key) bool {
	lyr, _, _ := h.findLayer(r.Context(), k)
	return lyr != nil
}

// alignedTile returns the tile a GetMap asks for, if it asks for exactly
// one tile as the cache stores it: one layer, default style, 256×256,
// PNG with TRANSPARENT=TRUE or JPEG over white, the bbox of a tile of
// GoogleMapsCompatible (EPSG:3857) or WorldCRS84Quad (EPSG:4326, CRS:84)
// within a thousandth of a pixel.
func alignedTile(q map[string]string) (tile.Key, bool) {
	if !strings.EqualFold(q["REQUEST"], "GetMap") {
		return tile.Key{}, false
	}
	layers := q["LAYERS"]
	if layers == "" || strings.Contains(layers, ",") {
		return tile.Key{}, false
	}
	if s := q["STYLES"]; s != "" && s != "default" {
		return tile.Key{}, false
	}
	var format string
	switch q["FORMAT"] {
	case "image/png":
		if !strings.EqualFold(q["TRANSPARENT"], "TRUE") {
			return tile.Key{}, false
		}
		format = "png"
	case "image/jpeg":
		if bg := strings.ToUpper(q["BGCOLOR"]); bg != "" && bg != "0XFFFFFF" {
			return tile.Key{}, false
		}
		format = "jpeg"
	default:
		return tile.Key{}, false
	}
	version := q["VERSION"]
	crsName := q["CRS"]
	if version != "1.3.0" {
		crsName = q["SRS"]
	}
	var g tile.Grid
	latLon := false
	switch strings.ToUpper(crsName) {
	case "EPSG:3857", "EPSG:900913":
		g = tile.GoogleMapsCompatible
	case "CRS:84":
		g = tile.WorldCRS84Quad
	case "EPSG:4326":
		g, latLon = tile.WorldCRS84Quad, version == "1.3.0"
	default:
		return tile.Key{}, false
	}
	if q["WIDTH"] != strconv.Itoa(g.TileSize) || q["HEIGHT"] != strconv.Itoa(g.TileSize) {
		return tile.Key{}, false
	}
	parts := strings.Split(q["BBOX"], ",")
	if len(parts) != 4 {
		return tile.Key{}, false
	}
	var b [4]float64
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return tile.Key{}, false
		}
		b[i] = v
	}
	if latLon {
		b = [4]float64{b[1], b[0], b[3], b[2]}
	}
	for z := 0; z <= g.MaxZoom; z++ {
		sw, sh := g.TileSpan(z)
		tol := sw / float64(g.TileSize) / 1000
		if math.Abs((b[2]-b[0])-sw) > tol || math.Abs((b[3]-b[1])-sh) > tol {
			continue
		}
		col := math.Round((b[0] - g.MinX) / sw)
		row := math.Round((g.MaxY - b[3]) / sh)
		if math.Abs(g.MinX+col*sw-b[0]) > tol || math.Abs(g.MaxY-row*sh-b[3]) > tol || !g.Valid(z, int(row), int(col)) {
			return tile.Key{}, false
		}
		timeKey := tile.DefaultTime
		if t := q["TIME"]; t != "" {
			p, err := period.Parse(t)
			if err != nil {
				return tile.Key{}, false // the renderer explains the error
			}
			timeKey = p.Key()
		}
		return tile.Key{Layer: layers, Grid: g.Name, Time: timeKey, Z: z, Row: int(row), Col: int(col), Format: format}, true
	}
	return tile.Key{}, false
}
