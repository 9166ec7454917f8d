package stac

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pvs/pvs/pkg/catalog"
)

// The extensions an item may use, listed in its stac_extensions when it
// does.
const (
	extEO          = "https://stac-extensions.github.io/eo/v1.1.0/schema.json"
	extProjection  = "https://stac-extensions.github.io/projection/v1.1.0/schema.json"
	extRaster      = "https://stac-extensions.github.io/raster/v1.1.0/schema.json"
	extSat         = "https://stac-extensions.github.io/sat/v1.0.0/schema.json"
	extWebMapLinks = "https://stac-extensions.github.io/web-map-links/v1.2.0/schema.json"
)

// Media types of the assets.
const (
	cogType      = "image/tiff; application=geotiff; profile=cloud-optimized"
	geoTIFFType  = "image/tiff; application=geotiff"
	metadataType = "application/xml"
)

// Item is a STAC Item.
type Item struct {
	Type           string           `json:"type"`
	StacVersion    string           `json:"stac_version"`
	StacExtensions []string         `json:"stac_extensions"`
	ID             string           `json:"id"`
	Collection     string           `json:"collection"`
	Geometry       json.RawMessage  `json:"geometry"`
	BBox           []float64        `json:"bbox"`
	Properties     map[string]any   `json:"properties"`
	Links          []Link           `json:"links"`
	Assets         map[string]Asset `json:"assets"`
}

// Asset is a STAC Asset, with the band fields of the EO and raster
// extensions.
type Asset struct {
	Href        string       `json:"href"`
	Type        string       `json:"type,omitempty"`
	Title       string       `json:"title,omitempty"`
	Roles       []string     `json:"roles,omitempty"`
	EOBands     []eoBand     `json:"eo:bands,omitempty"`
	RasterBands []rasterBand `json:"raster:bands,omitempty"`
}

type eoBand struct {
	Name       string `json:"name"`
	CommonName string `json:"common_name,omitempty"`
}

type rasterBand struct {
	DataType   string      `json:"data_type,omitempty"`
	NoData     any         `json:"nodata,omitempty"`
	Statistics *statistics `json:"statistics,omitempty"`
}

type statistics struct {
	Minimum float64 `json:"minimum"`
	Maximum float64 `json:"maximum"`
	Mean    float64 `json:"mean"`
}

// item maps a product to its STAC Item.
func (h *Handler) item(w http.ResponseWriter, r *http.Request, collection, id string) {
	c, ok := h.served(collection)
	if !ok {
		h.fail(w, http.StatusNotFound, "NotFound", "", "no collection "+collection+" is served here")
		return
	}
	rec, err := h.Catalogue.Get(r.Context(), id)
	if err == nil && rec.Collection != collection {
		err = fmt.Errorf("product %q is not in collection %s: %w", id, collection, catalog.ErrNotFound)
	}
	if err != nil {
		h.failErr(w, "reading product "+id, err)
		return
	}
	writeJSON(w, geoJSONType, h.toItem(r, c, rec))
}

func (h *Handler) toItem(r *http.Request, c Collection, rec catalog.Record) Item {
	self := h.collectionURL(r, c.Name) + "/items/" + url.PathEscape(rec.Identifier)
	it := Item{Type: "Feature", StacVersion: Version, ID: rec.Identifier, Collection: rec.Collection,
		Geometry: json.RawMessage(rec.FootprintGeoJSON), BBox: footprintBBox(rec), Assets: map[string]Asset{}}
	it.Properties = h.properties(rec)
	it.Links = append([]Link{
		{Rel: "self", Href: self, Type: geoJSONType},
		{Rel: "parent", Href: h.collectionURL(r, c.Name), Type: jsonType},
		{Rel: "collection", Href: h.collectionURL(r, c.Name), Type: jsonType},
		{Rel: "root", Href: h.root(r), Type: jsonType},
	}, h.mapLinks(r, c, rec.Identifier, &[2]time.Time{rec.BeginTime, rec.EndTime})...)
	h.assets(r, rec, it.Assets)

	exts := []string{extWebMapLinks}
	has := func(prefix string) bool {
		for k := range it.Properties {
			if strings.HasPrefix(k, prefix) {
				return true
			}
		}
		for _, a := range it.Assets {
			if (prefix == "eo:" && len(a.EOBands) > 0) || (prefix == "raster:" && len(a.RasterBands) > 0) {
				return true
			}
		}
		return false
	}
	for _, e := range []struct{ prefix, uri string }{{"eo:", extEO}, {"proj:", extProjection}, {"raster:", extRaster}, {"sat:", extSat}} {
		if has(e.prefix) {
			exts = append(exts, e.uri)
		}
	}
	sort.Strings(exts)
	it.StacExtensions = exts
	return it
}

// properties are the item's properties: its times, the EO properties
// the catalogue keeps, and the projection of its first coverage.
func (h *Handler) properties(rec catalog.Record) map[string]any {
	p := map[string]any{
		"datetime":         stamp(rec.BeginTime),
		"start_datetime":   stamp(rec.BeginTime),
		"end_datetime":     stamp(rec.EndTime),
		"pvs:product_type": rec.ProductType,
	}
	if !rec.Updated.IsZero() {
		p["updated"] = stamp(rec.Updated)
	}
	if rec.ParentIdentifier != "" {
		p["pvs:parent_identifier"] = rec.ParentIdentifier
	}
	md := func(k string) string {
		s, _ := rec.Properties[k].(string)
		return strings.TrimSpace(s)
	}
	if pl := firstOf(rec.Platform, md("platform")); pl != "" {
		p["platform"] = pl
	}
	// Several instruments are stored comma-separated.
	if s := md("instrument"); s != "" {
		var ins []string
		for _, v := range strings.Split(s, ",") {
			if v = strings.TrimSpace(v); v != "" {
				ins = append(ins, v)
			}
		}
		p["instruments"] = ins
	}
	if rec.CloudCover != nil {
		p["eo:cloud_cover"] = *rec.CloudCover
	}
	switch d := strings.ToLower(md("orbitDirection")); d {
	case "ascending", "descending":
		p["sat:orbit_state"] = d
	}
	if n, err := strconv.Atoi(md("orbitNumber")); err == nil && n >= 0 {
		p["sat:absolute_orbit"] = n
	}
	if len(rec.Coverages) > 0 {
		projection(rec.Coverages[0], p)
	}
	return p
}

// projection sets the projection extension's fields of a coverage.
func projection(c catalog.Coverage, p map[string]any) {
	if code, ok := strings.CutPrefix(strings.ToUpper(c.CRS), "EPSG:"); ok {
		if n, err := strconv.Atoi(code); err == nil {
			p["proj:epsg"] = n
		}
	} else if strings.Contains(c.CRS, "[") {
		// Not an EPSG code: the CRS as WKT.
		p["proj:epsg"] = nil
		p["proj:wkt2"] = c.CRS
	}
	if c.Width <= 0 || c.Height <= 0 {
		return
	}
	g := c.GeoTransform
	p["proj:shape"] = []int{c.Height, c.Width}
	if g == ([6]float64{}) {
		return
	}
	// GDAL's geotransform as the affine transform's first two rows.
	p["proj:transform"] = []float64{g[1], g[2], g[0], g[4], g[5], g[3]}
	xs, ys := []float64{}, []float64{}
	for _, px := range [][2]float64{{0, 0}, {float64(c.Width), 0}, {0, float64(c.Height)}, {float64(c.Width), float64(c.Height)}} {
		xs = append(xs, g[0]+px[0]*g[1]+px[1]*g[2])
		ys = append(ys, g[3]+px[0]*g[4]+px[1]*g[5])
	}
	p["proj:bbox"] = []float64{minOf(xs), minOf(ys), maxOf(xs), maxOf(ys)}
}

// assets sets the item's assets: the COG (through the asset URL, or a WCS
// GetCoverage without one), the metadata and a thumbnail.
func (h *Handler) assets(r *http.Request, rec catalog.Record, out map[string]Asset) {
	ows := h.base(r) + "/ows?"
	base := strings.TrimSuffix(h.AssetURL, "/")
	for i, c := range rec.Coverages {
		key := "data"
		if i > 0 {
			key = "data-" + c.Name
		}
		a := Asset{Roles: []string{"data"}}
		if base != "" {
			a.Href, a.Type, a.Title = base+"/"+escapeKey(c.Location), cogType, "Cloud-Optimized GeoTIFF"
		} else {
			a.Href = ows + url.Values{"SERVICE": {"WCS"}, "VERSION": {"2.0.1"}, "REQUEST": {"GetCoverage"},
				"COVERAGEID": {rec.Identifier}, "FORMAT": {"image/tiff"}}.Encode()
			a.Type, a.Title = geoTIFFType, "GeoTIFF through WCS GetCoverage"
		}
		for _, b := range c.Bands {
			a.EOBands = append(a.EOBands, eoBand{Name: "b" + strconv.Itoa(b.Index), CommonName: commonName(b.Color)})
			rb := rasterBand{DataType: dataType(b.DataType)}
			if b.NoData != nil {
				rb.NoData = noData(*b.NoData)
			}
			if s := b.Stats; s != nil {
				rb.Statistics = &statistics{Minimum: s.Min, Maximum: s.Max, Mean: s.Mean}
			}
			a.RasterBands = append(a.RasterBands, rb)
		}
		out[key] = a
	}
	if len(rec.Coverages) > 0 && base != "" {
		// The preprocessor writes the metadata beside the COG, named
		// for the product.
		dir := path.Dir(rec.Coverages[0].Location)
		key := rec.Identifier + ".xml"
		if dir != "." && dir != "/" {
			key = dir + "/" + key
		}
		out["metadata"] = Asset{Href: base + "/" + escapeKey(key), Type: metadataType, Title: "Product metadata", Roles: []string{"metadata"}}
	} else {
		out["metadata"] = Asset{Href: ows + url.Values{"SERVICE": {"WCS"}, "VERSION": {"2.0.1"}, "REQUEST": {"DescribeCoverage"},
			"COVERAGEID": {rec.Identifier}}.Encode(), Type: metadataType, Title: "WCS DescribeCoverage", Roles: []string{"metadata"}}
	}
	b := rec.BBox
	width, height := 256, 256
	if dx, dy := b[2]-b[0], b[3]-b[1]; dx > 0 && dy > 0 {
		height = int(math.Max(1, math.Min(1024, math.Round(256*dy/dx))))
	}
	out["thumbnail"] = Asset{Href: ows + url.Values{"SERVICE": {"WMS"}, "VERSION": {"1.3.0"}, "REQUEST": {"GetMap"},
		"LAYERS": {rec.Identifier}, "STYLES": {""}, "CRS": {"EPSG:4326"},
		"BBOX":  {ftoa(b[1]) + "," + ftoa(b[0]) + "," + ftoa(b[3]) + "," + ftoa(b[2])},
		"WIDTH": {strconv.Itoa(width)}, "HEIGHT": {strconv.Itoa(height)}, "FORMAT": {"image/png"}, "TRANSPARENT": {"TRUE"}}.Encode(),
		Type: "image/png", Title: "Browse through WMS GetMap", Roles: []string{"thumbnail", "overview"}}
}

// escapeKey escapes each segment of an object key for a URL path.
func escapeKey(key string) string {
	parts := strings.Split(strings.TrimPrefix(key, "/"), "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// commonName is the EO common name of a GDAL colour interpretation.
func commonName(color string) string {
	switch strings.ToLower(color) {
	case "red", "green", "blue":
		return strings.ToLower(color)
	case "nir", "nir08":
		return "nir"
	}
	return ""
}

// dataType is the raster extension's name of a GDAL data type.
func dataType(gdal string) string {
	switch strings.ToLower(gdal) {
	case "byte":
		return "uint8"
	case "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "float32", "float64":
		return strings.ToLower(gdal)
	case "cint16", "cint32", "cfloat32", "cfloat64":
		return strings.ToLower(gdal)
	}
	return ""
}

// noData is a nodata value as the raster extension writes it: a number,
// or "nan", "inf", "-inf", which JSON has no numbers for.
func noData(v float64) any {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	return v
}

// footprintBBox is the item's bbox: the longitudes the footprint covers
// and its latitudes. A footprint stored split at the antimeridian gets a
// bbox whose west is above its east, as the STAC and GeoJSON
// specifications have it, rather than one spanning the whole world.
func footprintBBox(rec catalog.Record) []float64 {
	spans, south, north, ok := lonSpans(rec.FootprintGeoJSON)
	if !ok {
		return rec.BBox[:]
	}
	west, east := wrapSpans(spans)
	return []float64{west, south, east, north}
}

// lonSpans reads the longitude span of each polygon of a GeoJSON Polygon
// or MultiPolygon, and its latitude range.
func lonSpans(geojson string) (spans [][2]float64, south, north float64, ok bool) {
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if json.Unmarshal([]byte(geojson), &g) != nil {
		return nil, 0, 0, false
	}
	var polys [][][][]float64
	switch g.Type {
	case "Polygon":
		var p [][][]float64
		if json.Unmarshal(g.Coordinates, &p) != nil {
			return nil, 0, 0, false
		}
		polys = [][][][]float64{p}
	case "MultiPolygon":
		if json.Unmarshal(g.Coordinates, &polys) != nil {
			return nil, 0, 0, false
		}
	default:
		return nil, 0, 0, false
	}
	south, north = math.Inf(1), math.Inf(-1)
	for _, p := range polys {
		if len(p) == 0 {
			continue
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, c := range p[0] {
			if len(c) < 2 {
				return nil, 0, 0, false
			}
			lo, hi = math.Min(lo, c[0]), math.Max(hi, c[0])
			south, north = math.Min(south, c[1]), math.Max(north, c[1])
		}
		if lo <= hi {
			spans = append(spans, [2]float64{lo, hi})
		}
	}
	return spans, south, north, len(spans) > 0
}

// wrapSpans returns the smallest west..east range on the circle of
// longitudes that holds every span: the complement of the widest gap
// between them. When that gap is not the one across the antimeridian,
// west is above east.
func wrapSpans(spans [][2]float64) (west, east float64) {
	sort.Slice(spans, func(i, j int) bool { return spans[i][0] < spans[j][0] })
	merged := [][2]float64{spans[0]}
	for _, s := range spans[1:] {
		last := &merged[len(merged)-1]
		if s[0] <= last[1] {
			last[1] = math.Max(last[1], s[1])
		} else {
			merged = append(merged, s)
		}
	}
	first, last := merged[0], merged[len(merged)-1]
	// The gap across the antimeridian, from the last span's east to the
	// first one's west.
	bestGap, west, east := (first[0]+360)-last[1], first[0], last[1]
	for i := 1; i < len(merged); i++ {
		if gap := merged[i][0] - merged[i-1][1]; gap > bestGap {
			bestGap, west, east = gap, merged[i][0], merged[i-1][1]
		}
	}
	return west, east
}

func minOf(v []float64) float64 {
	m := v[0]
	for _, x := range v[1:] {
		m = math.Min(m, x)
	}
	return m
}

func maxOf(v []float64) float64 {
	m := v[0]
	for _, x := range v[1:] {
		m = math.Max(m, x)
	}
	return m
}
