package wmts

import (
	"bytes"
	"context"
	"os"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/pvs/pvs/pkg/httpserver"
	"github.com/pvs/pvs/pkg/tile"
)

// CachedTiles gives the tiles the cache holds, without drawing any:
// tilecache.ErrMiss (or any error) for the others.
type CachedTiles interface {
	OpenCached(ctx context.Context, k tile.Key) (tile.Content, error)
}

// ServeHit answers, on fasthttp, a tile request whose tile is in the cache
// (a REST or KVP GetTile, or a WMS GetMap of exactly one tile), as
// ServeHTTP would, and reports whether it did and what it answered (WMTS
// GetTile or WMS GetMap, as telemetry labels them). It leaves everything else
// to ServeHTTP, which answers it in full: other requests, tiles to draw,
// blanks, unknown layers, bad parameters and errors (which it then
// reports). Tiles must implement CachedTiles.
func (h *Handler) ServeHit(c *fasthttp.RequestCtx) (protocol, operation string, ok bool) {
	ct, ok := h.Tiles.(CachedTiles)
	if !ok || !(c.IsGet() || c.IsHead()) {
		return "", "", false
	}
	k, wms, ok := h.hitKey(c)
	if !ok {
		return "", "", false
	}
	lyr, e, err := h.findLayer(c, k)
	if lyr == nil || e != nil || err != nil || outside(lyr, k) {
		return "", "", false
	}
	content, err := ct.OpenCached(c, k)
	if err != nil {
		return "", "", false
	}
	protocol, operation = "WMTS", "GetTile"
	if wms {
		protocol, operation = "WMS", "GetMap"
	}
	etag := etagOf(content)
	hd := &c.Response.Header
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("ETag", etag)
	hd.Set("Cache-Control", h.cacheControl())
	hd.Set("X-Cache", "HIT")
	if inm := c.Request.Header.Peek("If-None-Match"); len(inm) > 0 && bytes.Contains(inm, []byte(etag)) {
		content.Body.Close()
		c.SetStatusCode(fasthttp.StatusNotModified)
		return protocol, operation, true
	}
	hd.SetContentType(k.MediaType())
	switch f, isFile := content.Body.(*os.File); {
	case content.Data != nil:
		content.Body.Close()
		c.Response.SetBodyRaw(content.Data)
	case isFile:
		c.SetBodyStream(httpserver.CorkedFile(c, f, content.Size), int(content.Size))
	default:
		c.SetBodyStream(content.Body, int(content.Size))
	}
	return protocol, operation, true
}

// hitKey reads the key of the tile a request asks for, and whether it
// asks in WMS, when it asks for one tile and names it well; a request it
// cannot read is ServeHTTP's.
func (h *Handler) hitKey(c *fasthttp.RequestCtx) (k tile.Key, wms, ok bool) {
	path := string(c.Path())
	rest, ok := strings.CutPrefix(path, h.Prefix)
	if !ok {
		return tile.Key{}, false, false
	}
	if rest = strings.Trim(rest, "/"); rest != "" {
		if rest == "1.0.0/WMTSCapabilities.xml" {
			return tile.Key{}, false, false
		}
		k, info, e := h.parseREST(rest)
		return k, false, e == nil && info == nil
	}
	// KVP: the first value of each parameter, as url.Values.Get.
	q := map[string]string{}
	for name, v := range c.QueryArgs().All() {
		n := strings.ToUpper(string(name))
		if _, seen := q[n]; !seen {
			q[n] = string(v)
		}
	}
	switch {
	case strings.EqualFold(q["SERVICE"], "WMS"):
		k, ok := alignedTile(q)
		return k, true, ok
	case strings.EqualFold(q["SERVICE"], "WMTS") && strings.EqualFold(q["REQUEST"], "GetTile"):
		k, e := h.getTileKey(q)
		return k, false, e == nil
	}
	return tile.Key{}, false, false
}
