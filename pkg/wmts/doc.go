// Package wmts serves OGC WMTS 1.0.0 (GetCapabilities, GetTile in KVP and
// RESTful encodings) and tiled WMS over a tile provider, with ETags and
// conditional requests. It knows tiles only through interfaces.
package wmts
