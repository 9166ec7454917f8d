package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pvs/pvs/internal/xmltext"
	"github.com/pvs/pvs/pkg/ows"
)

// Product is one search result.
type Product struct {
	Identifier  string
	ProductType string
	Platform    string
	CloudCover  *float64
	Begin, End  time.Time
	Updated     time.Time
	BBox        [4]float64 // lon/lat
	// Footprint is the GeoJSON geometry (Polygon or MultiPolygon).
	Footprint json.RawMessage
}

// Backend runs searches.
type Backend interface {
	// Search returns one page of the products matching q, newest first,
	// and how many match in all.
	Search(ctx context.Context, q Query) ([]Product, int64, error)
}

// Handler serves an OpenSearch 1.1 endpoint with the Geo, Time and EO
// extensions over one collection: the description document at its root,
// results as Atom at atom and as GeoJSON at json.
type Handler struct {
	Backend    Backend
	Collection string
	Title      string
	// BaseURL is the public base of the service (scheme, host, optional
	// path prefix); the request's host when empty.
	BaseURL  string
	MaxCount int
	Log      *slog.Logger
}

const (
	atomType = "application/atom+xml"
	jsonType = "application/geo+json"
	osdType  = "application/opensearchdescription+xml"
)

// ServeHTTP implements http.Handler; mount it at /opensearch/.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	switch strings.TrimSuffix(r.URL.Path, "/") {
	case "/opensearch", "/opensearch/description.xml":
		h.description(w, r)
	case "/opensearch/atom":
		h.search(w, r, false)
	case "/opensearch/json":
		h.search(w, r, true)
	default:
		http.Error(w, "not found: the description is at /opensearch, results at /opensearch/atom and /opensearch/json", http.StatusNotFound)
	}
}

func (h *Handler) base(r *http.Request) string {
	if h.BaseURL != "" {
		return strings.TrimSuffix(h.BaseURL, "/")
	}
	return ows.Origin(r)
}

func (h *Handler) maxCount() int {
	if h.MaxCount <= 0 {
		return 200
	}
	return h.MaxCount
}

// template is the search URL template of one response type.
const template = "bbox={geo:box?}&geom={geo:geometry?}&lat={geo:lat?}&lon={geo:lon?}&radius={geo:radius?}" +
	"&start={time:start?}&end={time:end?}&uid={geo:uid?}&productType={eo:productType?}&platform={eo:platform?}" +
	"&cloudCover={eo:cloudCover?}&count={count?}&startIndex={startIndex?}&startPage={startPage?}"

func (h *Handler) description(w http.ResponseWriter, r *http.Request) {
	base := h.base(r)
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/" xmlns:geo="http://a9.com/-/opensearch/extensions/geo/1.0/" xmlns:time="http://a9.com/-/opensearch/extensions/time/1.0/" xmlns:eo="http://a9.com/-/opensearch/extensions/eo/1.0/" xmlns:parameters="http://a9.com/-/spec/opensearch/extensions/parameters/1.0/">` + "\n")
	short := h.Collection
	if len(short) > 16 {
		short = short[:16]
	}
	fmt.Fprintf(&b, "<ShortName>%s</ShortName>\n<LongName>%s</LongName>\n<Description>Products of collection %s, by area, time and EO properties.</Description>\n<Tags>%s EO products</Tags>\n",
		esc(short), esc(h.Title), esc(h.Collection), esc(h.Collection))
	for _, u := range []struct{ typ, path string }{{atomType, "atom"}, {jsonType, "json"}} {
		fmt.Fprintf(&b, `<Url type="%s" rel="results" template="%s" indexOffset="1" pageOffset="1">`+"\n", u.typ, esc(base+"/opensearch/"+u.path+"?"+template))
		fmt.Fprintf(&b, `<parameters:Parameter name="count" value="{count}" minInclusive="0" maxInclusive="%d"/>`+"\n", h.maxCount())
		b.WriteString(`<parameters:Parameter name="startIndex" value="{startIndex}" minInclusive="1"/>` + "\n")
		b.WriteString(`<parameters:Parameter name="bbox" value="{geo:box}" title="west,south,east,north in EPSG:4326 degrees; west above east crosses the antimeridian"/>` + "\n")
		b.WriteString(`<parameters:Parameter name="geom" value="{geo:geometry}" title="WKT geometry in EPSG:4326, lon/lat"/>` + "\n")
		b.WriteString(`<parameters:Parameter name="radius" value="{geo:radius}" minInclusive="0" title="metres around lat/lon"/>` + "\n")
		b.WriteString(`<parameters:Parameter name="start" value="{time:start}" title="ISO 8601; products ending at or after it"/>` + "\n")
		b.WriteString(`<parameters:Parameter name="end" value="{time:end}" title="ISO 8601; products beginning at or before it"/>` + "\n")
		b.WriteString(`<parameters:Parameter name="cloudCover" value="{eo:cloudCover}" minInclusive="0" maxInclusive="100" title="a value, {a,b}, [a,b], ]a,b[, [a or b]"/>` + "\n")
		b.WriteString("</Url>\n")
	}
	fmt.Fprintf(&b, `<Url type="%s" rel="self" template="%s"/>`+"\n", osdType, esc(base+"/opensearch"))
	b.WriteString(`<Query role="example" geo:box="-180,-90,180,90"/>` + "\n")
	b.WriteString("<Attribution>pvs</Attribution>\n<SyndicationRight>open</SyndicationRight>\n<AdultContent>false</AdultContent>\n<Language>en</Language>\n<OutputEncoding>UTF-8</OutputEncoding>\n<InputEncoding>UTF-8</InputEncoding>\n</OpenSearchDescription>\n")
	w.Header().Set("Content-Type", osdType)
	w.Write(b.Bytes())
}

func (h *Handler) fail(w http.ResponseWriter, asJSON bool, status int, param, msg string) {
	if asJSON {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"parameter": param, "message": msg}})
		return
	}
	code := ows.CodeInvalidParameterValue
	if status >= 500 {
		code = ows.CodeNoApplicableCode
	}
	ows.Write(w, ows.OpenSearch, &ows.Exception{Code: code, Locator: param, Message: msg, Status: status})
}

// page is a search's results and its navigation.
type page struct {
	q        Query
	products []Product
	total    int64
	self     string
	links    map[string]string // first, previous, next, last
}

func (h *Handler) search(w http.ResponseWriter, r *http.Request, asJSON bool) {
	q, err := Parse(r.URL.Query(), h.maxCount())
	if err != nil {
		var pe *ParamError
		if errors.As(err, &pe) {
			h.fail(w, asJSON, http.StatusBadRequest, pe.Param, pe.Message)
			return
		}
		h.fail(w, asJSON, http.StatusBadRequest, "", err.Error())
		return
	}
	products, total, err := h.Backend.Search(r.Context(), q)
	if err != nil {
		h.Log.Error("opensearch", "err", err)
		h.fail(w, asJSON, http.StatusInternalServerError, "", "the search failed; the error is logged")
		return
	}
	endpoint := h.base(r) + r.URL.Path
	pg := page{q: q, products: products, total: total, links: map[string]string{}}
	at := func(start int) string {
		v := r.URL.Query()
		v.Del("startPage")
		v.Set("startIndex", strconv.Itoa(start))
		v.Set("count", strconv.Itoa(q.Count))
		return endpoint + "?" + v.Encode()
	}
	pg.self = endpoint + "?" + r.URL.RawQuery
	if q.Count > 0 {
		pg.links["first"] = at(1)
		if q.StartIndex > 1 {
			pg.links["previous"] = at(max(1, q.StartIndex-q.Count))
		}
		if int64(q.StartIndex-1+len(products)) < total {
			pg.links["next"] = at(q.StartIndex + q.Count)
		}
		if total > 0 {
			last := int((total-1)/int64(q.Count))*q.Count + 1
			pg.links["last"] = at(last)
		}
	}
	if asJSON {
		h.writeJSON(w, r, pg)
	} else {
		h.writeAtom(w, r, pg)
	}
}

// Links of one product to the renderer's services.
func (h *Handler) productLinks(r *http.Request, p Product) (wms, wcs, describe string) {
	base := h.base(r) + "/ows?"
	b := p.BBox
	width := 512
	height := 512
	if dx, dy := b[2]-b[0], b[3]-b[1]; dx > 0 && dy > 0 {
		height = int(math.Max(1, math.Min(4096, math.Round(512*dy/dx))))
	}
	wms = base + url.Values{"SERVICE": {"WMS"}, "VERSION": {"1.3.0"}, "REQUEST": {"GetMap"}, "LAYERS": {p.Identifier}, "STYLES": {""},
		"CRS": {"EPSG:4326"}, "BBOX": {fmt.Sprintf("%s,%s,%s,%s", ftoa(b[1]), ftoa(b[0]), ftoa(b[3]), ftoa(b[2]))},
		"WIDTH": {strconv.Itoa(width)}, "HEIGHT": {strconv.Itoa(height)}, "FORMAT": {"image/png"}, "TRANSPARENT": {"TRUE"}}.Encode()
	wcs = base + url.Values{"SERVICE": {"WCS"}, "VERSION": {"2.0.1"}, "REQUEST": {"GetCoverage"}, "COVERAGEID": {p.Identifier}, "FORMAT": {"image/tiff"}}.Encode()
	describe = base + url.Values{"SERVICE": {"WCS"}, "VERSION": {"2.0.1"}, "REQUEST": {"DescribeCoverage"}, "COVERAGEID": {p.Identifier}}.Encode()
	return wms, wcs, describe
}

func timeRange(p Product) string {
	return p.Begin.UTC().Format(time.RFC3339) + "/" + p.End.UTC().Format(time.RFC3339)
}

func (h *Handler) writeAtom(w http.ResponseWriter, r *http.Request, pg page) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:georss="http://www.georss.org/georss" xmlns:gml="http://www.opengis.net/gml" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:eo="http://a9.com/-/opensearch/extensions/eo/1.0/" xmlns:time="http://a9.com/-/opensearch/extensions/time/1.0/" xmlns:geo="http://a9.com/-/opensearch/extensions/geo/1.0/">` + "\n")
	fmt.Fprintf(&b, "<id>%s</id>\n<title>%s search results</title>\n<updated>%s</updated>\n<author><name>pvs</name></author>\n",
		esc(pg.self), esc(h.Collection), updated(pg.products).Format(time.RFC3339))
	fmt.Fprintf(&b, "<opensearch:totalResults>%d</opensearch:totalResults>\n<opensearch:startIndex>%d</opensearch:startIndex>\n<opensearch:itemsPerPage>%d</opensearch:itemsPerPage>\n",
		pg.total, pg.q.StartIndex, pg.q.Count)
	fmt.Fprintf(&b, `<opensearch:Query role="request"%s/>`+"\n", queryAttrs(r.URL.Query()))
	fmt.Fprintf(&b, `<link rel="self" type="%s" href="%s"/>`+"\n", atomType, esc(pg.self))
	for _, rel := range []string{"first", "previous", "next", "last"} {
		if href, ok := pg.links[rel]; ok {
			fmt.Fprintf(&b, `<link rel="%s" type="%s" href="%s"/>`+"\n", rel, atomType, esc(href))
		}
	}
	fmt.Fprintf(&b, `<link rel="search" type="%s" href="%s"/>`+"\n", osdType, esc(h.base(r)+"/opensearch"))
	for _, p := range pg.products {
		wms, wcs, describe := h.productLinks(r, p)
		fmt.Fprintf(&b, "<entry>\n<id>%s</id>\n<title>%s</title>\n<updated>%s</updated>\n<dc:identifier>%s</dc:identifier>\n<dc:date>%s</dc:date>\n",
			esc(h.base(r)+"/opensearch/atom?uid="+url.QueryEscape(p.Identifier)), esc(p.Identifier), p.Updated.UTC().Format(time.RFC3339), esc(p.Identifier), timeRange(p))
		b.WriteString(georss(p.Footprint))
		fmt.Fprintf(&b, "<eo:productType>%s</eo:productType>\n", esc(p.ProductType))
		if p.Platform != "" {
			fmt.Fprintf(&b, "<eo:platform>%s</eo:platform>\n", esc(p.Platform))
		}
		if p.CloudCover != nil {
			fmt.Fprintf(&b, "<eo:cloudCover>%s</eo:cloudCover>\n", ftoa(*p.CloudCover))
		}
		fmt.Fprintf(&b, `<link rel="alternate" type="image/png" title="WMS GetMap" href="%s"/>`+"\n", esc(wms))
		fmt.Fprintf(&b, `<link rel="enclosure" type="image/tiff" title="WCS GetCoverage" href="%s"/>`+"\n", esc(wcs))
		fmt.Fprintf(&b, `<link rel="via" type="application/xml" title="WCS DescribeCoverage" href="%s"/>`+"\n", esc(describe))
		b.WriteString("</entry>\n")
	}
	b.WriteString("</feed>\n")
	w.Header().Set("Content-Type", atomType)
	w.Write(b.Bytes())
}

// queryAttrs repeats the request's search parameters on opensearch:Query.
func queryAttrs(v url.Values) string {
	names := map[string]string{"bbox": "geo:box", "geom": "geo:geometry", "lat": "geo:lat", "lon": "geo:lon", "radius": "geo:radius",
		"start": "time:start", "end": "time:end", "uid": "geo:uid", "productType": "eo:productType", "platform": "eo:platform",
		"cloudCover": "eo:cloudCover", "count": "count", "startIndex": "startIndex", "startPage": "startPage"}
	var b strings.Builder
	for _, k := range []string{"bbox", "geom", "lat", "lon", "radius", "start", "end", "uid", "productType", "platform", "cloudCover", "count", "startIndex", "startPage"} {
		if s := v.Get(k); s != "" {
			fmt.Fprintf(&b, ` %s="%s"`, names[k], esc(s))
		}
	}
	return b.String()
}

func updated(ps []Product) time.Time {
	var t time.Time
	for _, p := range ps {
		if p.Updated.After(t) {
			t = p.Updated
		}
	}
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC()
}

// georss writes a footprint: georss:polygon for one ring, a GML
// MultiSurface in georss:where otherwise. Coordinates are lat lon.
func georss(footprint json.RawMessage) string {
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if json.Unmarshal(footprint, &g) != nil {
		return ""
	}
	var polys [][][][2]float64
	switch g.Type {
	case "Polygon":
		var p [][][2]float64
		if json.Unmarshal(g.Coordinates, &p) != nil {
			return ""
		}
		polys = [][][][2]float64{p}
	case "MultiPolygon":
		if json.Unmarshal(g.Coordinates, &polys) != nil {
			return ""
		}
	default:
		return ""
	}
	ring := func(r [][2]float64) string {
		parts := make([]string, 0, 2*len(r))
		for _, c := range r {
			parts = append(parts, ftoa(c[1]), ftoa(c[0]))
		}
		return strings.Join(parts, " ")
	}
	if len(polys) == 1 && len(polys[0]) == 1 {
		return "<georss:polygon>" + ring(polys[0][0]) + "</georss:polygon>\n"
	}
	var b strings.Builder
	b.WriteString(`<georss:where><gml:MultiSurface srsName="EPSG:4326">`)
	for _, p := range polys {
		b.WriteString("<gml:surfaceMember><gml:Polygon>")
		for i, r := range p {
			tag := "interior"
			if i == 0 {
				tag = "exterior"
			}
			fmt.Fprintf(&b, "<gml:%s><gml:LinearRing><gml:posList>%s</gml:posList></gml:LinearRing></gml:%s>", tag, ring(r), tag)
		}
		b.WriteString("</gml:Polygon></gml:surfaceMember>")
	}
	b.WriteString("</gml:MultiSurface></georss:where>\n")
	return b.String()
}

type jsonLink struct {
	Href  string `json:"href"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

func (h *Handler) writeJSON(w http.ResponseWriter, r *http.Request, pg page) {
	links := map[string][]jsonLink{"self": {{Href: pg.self, Type: jsonType}},
		"search": {{Href: h.base(r) + "/opensearch", Type: osdType}}}
	for _, rel := range []string{"first", "previous", "next", "last"} {
		if href, ok := pg.links[rel]; ok {
			links[rel] = []jsonLink{{Href: href, Type: jsonType}}
		}
	}
	features := make([]map[string]any, 0, len(pg.products))
	for _, p := range pg.products {
		wms, wcs, describe := h.productLinks(r, p)
		props := map[string]any{"identifier": p.Identifier, "title": p.Identifier, "updated": p.Updated.UTC().Format(time.RFC3339),
			"date": timeRange(p), "productType": p.ProductType,
			"links": map[string][]jsonLink{
				"alternates": {{Href: wms, Type: "image/png", Title: "WMS GetMap"}},
				"data":       {{Href: wcs, Type: "image/tiff", Title: "WCS GetCoverage"}},
				"via":        {{Href: describe, Type: "application/xml", Title: "WCS DescribeCoverage"}},
			}}
		if p.Platform != "" {
			props["platform"] = p.Platform
		}
		if p.CloudCover != nil {
			props["cloudCover"] = *p.CloudCover
		}
		features = append(features, map[string]any{"type": "Feature", "id": p.Identifier, "bbox": p.BBox,
			"geometry": p.Footprint, "properties": props})
	}
	doc := map[string]any{"type": "FeatureCollection", "id": pg.self, "totalResults": pg.total, "startIndex": pg.q.StartIndex,
		"itemsPerPage": pg.q.Count, "properties": map[string]any{"title": h.Collection + " search results",
			"updated": updated(pg.products).Format(time.RFC3339), "links": links},
		"features": features}
	w.Header().Set("Content-Type", jsonType)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		h.Log.Warn("opensearch: writing results", "err", err)
	}
}

// esc escapes XML text.
var esc = xmltext.Escape
