package stac_test

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The structural checks below follow the STAC 1.0.0 JSON schemas (Item,
// Collection, Catalog), the STAC API 1.0.0 fragments (landing page,
// ItemCollection, conformance) and the schemas of the extensions the
// items use: required fields, their JSON types and formats, and the
// links between them. They stand in for stac-node-validator, which
// fetches the schemas from the network at run time.

// checker collects the problems of one document.
type checker struct {
	problems []string
}

func (c *checker) errorf(at, format string, args ...any) {
	c.problems = append(c.problems, at+": "+fmt.Sprintf(format, args...))
}

func (c *checker) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	return fmt.Errorf("%d problems:\n  %s", len(c.problems), strings.Join(c.problems, "\n  "))
}

type obj = map[string]any

func (c *checker) object(at string, v any) (obj, bool) {
	o, ok := v.(obj)
	if !ok {
		c.errorf(at, "is %T, want an object", v)
	}
	return o, ok
}

func (c *checker) str(at string, o obj, key string, required bool) (string, bool) {
	v, ok := o[key]
	if !ok {
		if required {
			c.errorf(at, "lacks required %q", key)
		}
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		c.errorf(at+"."+key, "is %T, want a string", v)
	}
	return s, ok
}

func (c *checker) array(at string, o obj, key string, required bool) ([]any, bool) {
	v, ok := o[key]
	if !ok {
		if required {
			c.errorf(at, "lacks required %q", key)
		}
		return nil, false
	}
	a, ok := v.([]any)
	if !ok {
		c.errorf(at+"."+key, "is %T, want an array", v)
	}
	return a, ok
}

func (c *checker) strings(at string, o obj, key string, required, nonEmpty bool) []string {
	a, ok := c.array(at, o, key, required)
	if !ok {
		return nil
	}
	if nonEmpty && len(a) == 0 {
		c.errorf(at+"."+key, "is empty")
	}
	var out []string
	for i, v := range a {
		s, ok := v.(string)
		if !ok {
			c.errorf(fmt.Sprintf("%s.%s[%d]", at, key, i), "is %T, want a string", v)
			continue
		}
		if slices.Contains(out, s) {
			c.errorf(at+"."+key, "repeats %q (items must be unique)", s)
		}
		out = append(out, s)
	}
	return out
}

func (c *checker) numbers(at string, v any) []float64 {
	a, ok := v.([]any)
	if !ok {
		c.errorf(at, "is %T, want an array of numbers", v)
		return nil
	}
	out := make([]float64, 0, len(a))
	for i, x := range a {
		f, ok := x.(float64)
		if !ok {
			c.errorf(fmt.Sprintf("%s[%d]", at, i), "is %T, want a number", x)
			continue
		}
		out = append(out, f)
	}
	return out
}

func (c *checker) uri(at, s string) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		c.errorf(at, "%q is not an absolute URL", s)
	}
}

func (c *checker) dateTime(at string, v any, nullable bool) (time.Time, bool) {
	if v == nil && nullable {
		return time.Time{}, false
	}
	s, ok := v.(string)
	if !ok {
		c.errorf(at, "is %T, want an RFC 3339 date-time string", v)
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		c.errorf(at, "%q is not an RFC 3339 date-time", s)
		return time.Time{}, false
	}
	return t, true
}

// stacVersion checks stac_version and stac_extensions (Item, Catalog and
// Collection schemas alike).
func (c *checker) stacVersion(at string, o obj) []string {
	if v, _ := c.str(at, o, "stac_version", true); v != "1.0.0" {
		c.errorf(at+".stac_version", "is %q, want 1.0.0", v)
	}
	exts := c.strings(at, o, "stac_extensions", false, false)
	for _, e := range exts {
		c.uri(at+".stac_extensions", e)
	}
	return exts
}

// webMapLinkExtension is the schema URI of the web-map-links extension.
const webMapLinkExtension = "https://stac-extensions.github.io/web-map-links/v1.2.0/schema.json"

// links checks a links array: every link an object with an href and a rel,
// the optional fields typed, the web map links as their extension says.
// It returns the links by rel.
func (c *checker) links(at string, o obj, required bool, exts []string) map[string][]obj {
	a, ok := c.array(at, o, "links", required)
	if !ok {
		return nil
	}
	byRel := map[string][]obj{}
	for i, v := range a {
		lat := fmt.Sprintf("%s.links[%d]", at, i)
		l, ok := c.object(lat, v)
		if !ok {
			continue
		}
		href, _ := c.str(lat, l, "href", true)
		rel, _ := c.str(lat, l, "rel", true)
		if href == "" || rel == "" {
			c.errorf(lat, "has an empty href or rel")
		}
		c.uri(lat+".href", href)
		c.str(lat, l, "type", false)
		c.str(lat, l, "title", false)
		if m, ok := c.str(lat, l, "method", false); ok && m != "GET" && m != "POST" {
			c.errorf(lat+".method", "is %q", m)
		}
		if b, ok := l["body"]; ok {
			c.object(lat+".body", b)
		}
		if m, ok := l["merge"]; ok {
			if _, isBool := m.(bool); !isBool {
				c.errorf(lat+".merge", "is %T, want a boolean", m)
			}
		}
		switch rel {
		case "wms":
			c.strings(lat, l, "wms:layers", true, true)
			c.strings(lat, l, "wms:styles", false, false)
			c.stringMap(lat, l, "wms:dimensions")
			if tr, ok := l["wms:transparent"]; ok {
				if _, isBool := tr.(bool); !isBool {
					c.errorf(lat+".wms:transparent", "is %T, want a boolean", tr)
				}
			}
		case "wmts":
			switch layer := l["wmts:layer"].(type) {
			case string:
			case []any:
				c.strings(lat, l, "wmts:layer", true, true)
			default:
				c.errorf(lat, "wmts:layer is %T, want a string or an array of strings", layer)
			}
			c.stringMap(lat, l, "wmts:dimensions")
		}
		if (rel == "wms" || rel == "wmts") && !slices.Contains(exts, webMapLinkExtension) {
			c.errorf(lat, "is a %s link, but stac_extensions does not list web-map-links", rel)
		}
		byRel[rel] = append(byRel[rel], l)
	}
	return byRel
}

func (c *checker) stringMap(at string, o obj, key string) {
	v, ok := o[key]
	if !ok {
		return
	}
	m, ok := c.object(at+"."+key, v)
	if !ok {
		return
	}
	for k, x := range m {
		if _, ok := x.(string); !ok {
			c.errorf(at+"."+key+"."+k, "is %T, want a string", x)
		}
	}
}

func (c *checker) needRels(at string, byRel map[string][]obj, rels ...string) {
	for _, r := range rels {
		if len(byRel[r]) == 0 {
			c.errorf(at, "has no %q link", r)
		}
	}
}

// geometry checks a GeoJSON geometry and returns its positions.
func (c *checker) geometry(at string, v any) [][]float64 {
	g, ok := c.object(at, v)
	if !ok {
		return nil
	}
	typ, _ := c.str(at, g, "type", true)
	var positions [][]float64
	var walk func(at string, v any, depth int)
	walk = func(at string, v any, depth int) {
		if depth == 0 {
			p := c.numbers(at, v)
			if len(p) < 2 {
				c.errorf(at, "is a position of %d numbers", len(p))
				return
			}
			if p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
				c.errorf(at, "position %v lies outside -180..180, -90..90", p)
			}
			positions = append(positions, p)
			return
		}
		a, ok := v.([]any)
		if !ok {
			c.errorf(at, "is %T, want an array", v)
			return
		}
		if depth == 1 && (typ == "Polygon" || typ == "MultiPolygon") {
			if len(a) < 4 {
				c.errorf(at, "is a ring of %d positions, want at least 4", len(a))
			} else if fmt.Sprint(a[0]) != fmt.Sprint(a[len(a)-1]) {
				c.errorf(at, "is a ring that is not closed")
			}
		}
		for i, x := range a {
			walk(fmt.Sprintf("%s[%d]", at, i), x, depth-1)
		}
	}
	depth := map[string]int{"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}
	d, known := depth[typ]
	if !known {
		c.errorf(at+".type", "%q is not a GeoJSON geometry type", typ)
		return nil
	}
	walk(at+".coordinates", g["coordinates"], d)
	return positions
}

// bbox checks a bbox of 4 numbers against the positions it bounds; west
// above east crosses the antimeridian.
func (c *checker) bbox(at string, v any, positions [][]float64) []float64 {
	b := c.numbers(at, v)
	if len(b) != 4 && len(b) != 6 {
		c.errorf(at, "has %d numbers, want 4 or 6", len(b))
		return nil
	}
	if len(b) == 6 {
		b = []float64{b[0], b[1], b[3], b[4]}
	}
	if b[1] > b[3] {
		c.errorf(at, "has south %v above north %v", b[1], b[3])
	}
	const eps = 1e-9
	for _, p := range positions {
		inLon := p[0] >= b[0]-eps && p[0] <= b[2]+eps
		if b[0] > b[2] {
			inLon = p[0] >= b[0]-eps || p[0] <= b[2]+eps
		}
		if !inLon || p[1] < b[1]-eps || p[1] > b[3]+eps {
			c.errorf(at, "%v does not hold position %v", b, p)
			return b
		}
	}
	return b
}

// extensionFields maps a field prefix to the extension defining it.
var extensionFields = map[string]string{
	"eo:":     "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
	"proj:":   "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
	"raster:": "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
	"sat:":    "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
}

// usesPrefix says whether any key of o, or of an object in o's values
// (assets), starts with prefix.
func usesPrefix(o obj, prefix string) bool {
	for k := range o {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// checkItem checks a STAC Item (item-spec/json-schema/item.json with the
// basics, datetime, instrument and licensing fields of common metadata,
// and the eo, projection, raster, sat and web-map-links extensions).
func checkItem(at string, v any) error {
	c := &checker{}
	c.item(at, v)
	return c.err()
}

func (c *checker) item(at string, v any) {
	it, ok := c.object(at, v)
	if !ok {
		return
	}
	if typ, _ := c.str(at, it, "type", true); typ != "Feature" {
		c.errorf(at+".type", "is %q, want Feature", typ)
	}
	exts := c.stacVersion(at, it)
	if id, _ := c.str(at, it, "id", true); id == "" {
		c.errorf(at+".id", "is empty")
	}
	geom, hasGeom := it["geometry"]
	if !hasGeom {
		c.errorf(at, "lacks required \"geometry\"")
	}
	if hasGeom && geom != nil {
		positions := c.geometry(at+".geometry", geom)
		if _, ok := it["bbox"]; !ok {
			c.errorf(at, "has a geometry but no bbox")
		} else {
			c.bbox(at+".bbox", it["bbox"], positions)
		}
	}
	byRel := c.links(at, it, true, exts)
	if len(byRel["collection"]) > 0 {
		if s, _ := c.str(at, it, "collection", true); s == "" {
			c.errorf(at+".collection", "is empty although a collection link is given")
		}
	}
	props, ok := c.object(at+".properties", it["properties"])
	if ok {
		c.itemProperties(at+".properties", props, exts)
	}
	assets, ok := c.object(at+".assets", it["assets"])
	if !ok {
		return
	}
	for k, v := range assets {
		aat := at + ".assets." + k
		a, ok := c.object(aat, v)
		if !ok {
			continue
		}
		href, _ := c.str(aat, a, "href", true)
		c.uri(aat+".href", href)
		c.str(aat, a, "type", false)
		c.str(aat, a, "title", false)
		c.strings(aat, a, "roles", false, false)
		for prefix, ext := range extensionFields {
			if usesPrefix(a, prefix) && !slices.Contains(exts, ext) {
				c.errorf(aat, "uses %s fields, but stac_extensions does not list %s", prefix, ext)
			}
		}
		if bands, ok := a["eo:bands"]; ok {
			for i, b := range c.objects(aat+".eo:bands", bands) {
				bat := fmt.Sprintf("%s.eo:bands[%d]", aat, i)
				c.str(bat, b, "name", false)
				if cn, ok := c.str(bat, b, "common_name", false); ok && !slices.Contains(commonNames, cn) {
					c.errorf(bat+".common_name", "%q is not an EO common name", cn)
				}
			}
		}
		if bands, ok := a["raster:bands"]; ok {
			for i, b := range c.objects(aat+".raster:bands", bands) {
				bat := fmt.Sprintf("%s.raster:bands[%d]", aat, i)
				if dt, ok := c.str(bat, b, "data_type", false); ok && !slices.Contains(rasterTypes, dt) {
					c.errorf(bat+".data_type", "%q is not a raster data type", dt)
				}
				switch nd := b["nodata"].(type) {
				case nil, float64:
				case string:
					if nd != "nan" && nd != "inf" && nd != "-inf" {
						c.errorf(bat+".nodata", "is %q", nd)
					}
				default:
					c.errorf(bat+".nodata", "is %T", nd)
				}
			}
		}
	}
}

var commonNames = []string{"coastal", "blue", "green", "red", "rededge", "yellow", "pan", "nir", "nir08", "nir09", "cirrus", "swir16", "swir22", "lwir", "lwir11", "lwir12"}

var rasterTypes = []string{"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64", "cint16", "cint32", "cfloat32", "cfloat64", "other"}

func (c *checker) objects(at string, v any) []obj {
	a, ok := v.([]any)
	if !ok {
		c.errorf(at, "is %T, want an array", v)
		return nil
	}
	var out []obj
	for i, x := range a {
		if o, ok := c.object(fmt.Sprintf("%s[%d]", at, i), x); ok {
			out = append(out, o)
		}
	}
	return out
}

func (c *checker) itemProperties(at string, p obj, exts []string) {
	dt, hasDT := p["datetime"]
	if !hasDT {
		c.errorf(at, "lacks required \"datetime\"")
	}
	_, hasStart := p["start_datetime"]
	_, hasEnd := p["end_datetime"]
	if hasDT && dt == nil && (!hasStart || !hasEnd) {
		c.errorf(at, "has a null datetime without start_datetime and end_datetime")
	}
	if hasDT {
		c.dateTime(at+".datetime", dt, true)
	}
	var start, end time.Time
	var okStart, okEnd bool
	if hasStart {
		start, okStart = c.dateTime(at+".start_datetime", p["start_datetime"], false)
	}
	if hasEnd {
		end, okEnd = c.dateTime(at+".end_datetime", p["end_datetime"], false)
	}
	if okStart && okEnd && end.Before(start) {
		c.errorf(at, "ends (%v) before it starts (%v)", end, start)
	}
	for _, k := range []string{"created", "updated"} {
		if v, ok := p[k]; ok {
			c.dateTime(at+"."+k, v, false)
		}
	}
	for _, k := range []string{"title", "description", "platform", "constellation", "mission", "license"} {
		c.str(at, p, k, false)
	}
	c.strings(at, p, "instruments", false, false)
	for prefix, ext := range extensionFields {
		if usesPrefix(p, prefix) && !slices.Contains(exts, ext) {
			c.errorf(at, "uses %s fields, but stac_extensions does not list %s", prefix, ext)
		}
	}
	if v, ok := p["eo:cloud_cover"]; ok {
		if f, isNum := v.(float64); !isNum || f < 0 || f > 100 {
			c.errorf(at+".eo:cloud_cover", "is %v, want a number from 0 to 100", v)
		}
	}
	if v, ok := p["proj:epsg"]; ok && v != nil {
		if f, isNum := v.(float64); !isNum || f != math.Trunc(f) {
			c.errorf(at+".proj:epsg", "is %v, want an integer or null", v)
		}
	}
	if v, ok := p["proj:shape"]; ok {
		s := c.numbers(at+".proj:shape", v)
		if len(s) != 2 || s[0] != math.Trunc(s[0]) || s[1] != math.Trunc(s[1]) || s[0] < 1 || s[1] < 1 {
			c.errorf(at+".proj:shape", "is %v, want two positive integers [rows, columns]", s)
		}
	}
	if v, ok := p["proj:transform"]; ok {
		if tr := c.numbers(at+".proj:transform", v); len(tr) != 6 && len(tr) != 9 {
			c.errorf(at+".proj:transform", "has %d numbers, want 6 or 9", len(tr))
		}
	}
	if v, ok := p["proj:bbox"]; ok {
		if b := c.numbers(at+".proj:bbox", v); len(b) != 4 && len(b) != 6 {
			c.errorf(at+".proj:bbox", "has %d numbers, want 4 or 6", len(b))
		}
	}
	if v, ok := p["sat:orbit_state"]; ok && v != "ascending" && v != "descending" && v != "geostationary" {
		c.errorf(at+".sat:orbit_state", "is %v", v)
	}
	if v, ok := p["sat:absolute_orbit"]; ok {
		if f, isNum := v.(float64); !isNum || f != math.Trunc(f) || f < 1 {
			c.errorf(at+".sat:absolute_orbit", "is %v, want a positive integer", v)
		}
	}
}

// license is the pattern of the Collection schema's license.
var license = regexp.MustCompile(`^[\w\-\.\+]+$`)

// checkCollection checks a STAC Collection (collection-spec/json-schema).
func checkCollection(at string, v any) error {
	c := &checker{}
	c.collection(at, v)
	return c.err()
}

func (c *checker) collection(at string, v any) {
	o, ok := c.object(at, v)
	if !ok {
		return
	}
	if typ, _ := c.str(at, o, "type", true); typ != "Collection" {
		c.errorf(at+".type", "is %q, want Collection", typ)
	}
	exts := c.stacVersion(at, o)
	if id, _ := c.str(at, o, "id", true); id == "" {
		c.errorf(at+".id", "is empty")
	}
	c.str(at, o, "title", false)
	c.str(at, o, "description", true)
	c.strings(at, o, "keywords", false, false)
	if l, _ := c.str(at, o, "license", true); !license.MatchString(l) {
		c.errorf(at+".license", "%q is not an SPDX identifier, various or proprietary", l)
	}
	c.links(at, o, true, exts)
	ext, ok := c.object(at+".extent", o["extent"])
	if !ok {
		return
	}
	if sp, ok := c.object(at+".extent.spatial", ext["spatial"]); ok {
		boxes, _ := c.array(at+".extent.spatial", sp, "bbox", true)
		if len(boxes) == 0 {
			c.errorf(at+".extent.spatial.bbox", "is empty")
		}
		for i, b := range boxes {
			c.bbox(fmt.Sprintf("%s.extent.spatial.bbox[%d]", at, i), b, nil)
		}
	}
	if tm, ok := c.object(at+".extent.temporal", ext["temporal"]); ok {
		ivs, _ := c.array(at+".extent.temporal", tm, "interval", true)
		if len(ivs) == 0 {
			c.errorf(at+".extent.temporal.interval", "is empty")
		}
		for i, iv := range ivs {
			iat := fmt.Sprintf("%s.extent.temporal.interval[%d]", at, i)
			pair, ok := iv.([]any)
			if !ok || len(pair) != 2 {
				c.errorf(iat, "is %v, want [start, end]", iv)
				continue
			}
			s, okS := c.dateTime(iat+"[0]", pair[0], true)
			e, okE := c.dateTime(iat+"[1]", pair[1], true)
			if okS && okE && e.Before(s) {
				c.errorf(iat, "ends before it starts")
			}
		}
	}
}

// checkLanding checks the landing page: a STAC Catalog
// (catalog-spec/json-schema) with the links and conformance classes STAC
// API - Core, Collections and Item Search require.
func checkLanding(at string, v any) error {
	c := &checker{}
	o, ok := c.object(at, v)
	if !ok {
		return c.err()
	}
	if typ, _ := c.str(at, o, "type", true); typ != "Catalog" {
		c.errorf(at+".type", "is %q, want Catalog", typ)
	}
	exts := c.stacVersion(at, o)
	c.str(at, o, "id", true)
	c.str(at, o, "title", false)
	c.str(at, o, "description", true)
	classes := c.strings(at, o, "conformsTo", true, true)
	byRel := c.links(at, o, true, exts)
	c.needRels(at, byRel, "self", "root", "service-desc", "conformance")
	if slices.Contains(classes, "https://api.stacspec.org/v1.0.0/collections") {
		c.needRels(at, byRel, "data")
	}
	if slices.Contains(classes, "https://api.stacspec.org/v1.0.0/item-search") {
		c.needRels(at, byRel, "search")
		for _, l := range byRel["search"] {
			if l["type"] != "application/geo+json" {
				c.errorf(at, "search link of type %v, want application/geo+json", l["type"])
			}
		}
	}
	c.conformsTo(at, classes)
	return c.err()
}

// requiredClasses are the conformance classes the API claims.
var requiredClasses = []string{
	"https://api.stacspec.org/v1.0.0/core",
	"https://api.stacspec.org/v1.0.0/collections",
	"https://api.stacspec.org/v1.0.0/ogcapi-features",
	"https://api.stacspec.org/v1.0.0/item-search",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
}

func (c *checker) conformsTo(at string, classes []string) {
	for _, r := range requiredClasses {
		if !slices.Contains(classes, r) {
			c.errorf(at+".conformsTo", "lacks %s", r)
		}
	}
	for _, cl := range classes {
		c.uri(at+".conformsTo", cl)
	}
}

// checkConformance checks the conformance declaration.
func checkConformance(at string, v any) error {
	c := &checker{}
	if o, ok := c.object(at, v); ok {
		c.conformsTo(at, c.strings(at, o, "conformsTo", true, true))
	}
	return c.err()
}

// checkCollections checks the /collections answer: collections and links.
func checkCollections(at string, v any) error {
	c := &checker{}
	o, ok := c.object(at, v)
	if !ok {
		return c.err()
	}
	cs, _ := c.array(at, o, "collections", true)
	for i, x := range cs {
		c.collection(fmt.Sprintf("%s.collections[%d]", at, i), x)
	}
	c.needRels(at, c.links(at, o, true, nil), "self", "root")
	return c.err()
}

// checkItemCollection checks an ItemCollection (STAC API fragment
// itemcollection): a GeoJSON FeatureCollection of valid Items, with its
// counts and links; an items page also links to its collection.
func checkItemCollection(at string, v any, itemsPage bool) error {
	c := &checker{}
	o, ok := c.object(at, v)
	if !ok {
		return c.err()
	}
	if typ, _ := c.str(at, o, "type", true); typ != "FeatureCollection" {
		c.errorf(at+".type", "is %q, want FeatureCollection", typ)
	}
	fs, _ := c.array(at, o, "features", true)
	for i, f := range fs {
		c.item(fmt.Sprintf("%s.features[%d]", at, i), f)
	}
	byRel := c.links(at, o, false, nil)
	c.needRels(at, byRel, "self", "root")
	if itemsPage {
		c.needRels(at, byRel, "collection")
	}
	for _, k := range []string{"numberMatched", "numberReturned"} {
		if v, ok := o[k]; ok {
			if f, isNum := v.(float64); !isNum || f < 0 || f != math.Trunc(f) {
				c.errorf(at+"."+k, "is %v, want a whole number", v)
			}
		}
	}
	if n, ok := o["numberReturned"].(float64); ok && int(n) != len(fs) {
		c.errorf(at+".numberReturned", "is %v, but %d features are returned", n, len(fs))
	}
	return c.err()
}
