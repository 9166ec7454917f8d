package stac

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/ows"
)

// Catalogue is what the STAC API reads of the product catalogue.
type Catalogue interface {
	// Find returns the products matching q in q's order.
	Find(ctx context.Context, q catalog.Query) ([]catalog.Record, error)
	// Count returns how many products match q.
	Count(ctx context.Context, q catalog.Query) (int64, error)
	// Get returns one product; an unknown one wraps catalog.ErrNotFound.
	Get(ctx context.Context, identifier string) (catalog.Record, error)
	// Collection returns a collection's summary; one never registered
	// into wraps catalog.ErrNotFound.
	Collection(ctx context.Context, name string) (catalog.Summary, error)
}

// Collection is a served collection as the configuration describes it.
type Collection struct {
	Name        string
	Title       string
	Description string
	// Layers are the collection's WMS/WMTS layers, the default first;
	// they become the collection's and its items' web map links.
	Layers []string
}

// Handler serves the STAC API under /stac.
type Handler struct {
	Catalogue   Catalogue
	Collections []Collection
	// BaseURL is the renderer's public base (scheme, host, optional path
	// prefix), under which /stac and /ows are reached; the request's host
	// when empty.
	BaseURL string
	// TilesURL is the tile cache's public base, under which /wmts is
	// reached; BaseURL when empty.
	TilesURL string
	// AssetURL is the public base of the output store: a COG stored under
	// key K is at AssetURL/K. Empty points the COG asset at a WCS
	// GetCoverage of the product, and the metadata asset at its WCS
	// DescribeCoverage.
	AssetURL string
	// MaxLimit bounds the items of one page (1000 when 0); a larger limit
	// is lowered to it, as OGC API - Features asks.
	MaxLimit int
	Log      *slog.Logger
}

// Media types of the responses.
const (
	jsonType    = "application/json"
	geoJSONType = "application/geo+json"
	openAPIType = "application/vnd.oai.openapi+json;version=3.0"
)

// Version is the STAC version of the documents.
const Version = "1.0.0"

// ConformsTo lists the conformance classes the API implements.
var ConformsTo = []string{
	"https://api.stacspec.org/v1.0.0/core",
	"https://api.stacspec.org/v1.0.0/collections",
	"https://api.stacspec.org/v1.0.0/ogcapi-features",
	"https://api.stacspec.org/v1.0.0/ogcapi-features#fields",
	"https://api.stacspec.org/v1.0.0/ogcapi-features#sort",
	"https://api.stacspec.org/v1.0.0/item-search",
	"https://api.stacspec.org/v1.0.0/item-search#fields",
	"https://api.stacspec.org/v1.0.0/item-search#sort",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
}

// Link is a STAC link object, with the fields of the web-map-links
// extension and of paging by POST.
type Link struct {
	Rel   string `json:"rel"`
	Href  string `json:"href"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
	// Method and Body make a link a POST request (item search paging).
	Method string          `json:"method,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
	Merge  *bool           `json:"merge,omitempty"`

	WMSLayers      []string          `json:"wms:layers,omitempty"`
	WMSStyles      []string          `json:"wms:styles,omitempty"`
	WMSDimensions  map[string]string `json:"wms:dimensions,omitempty"`
	WMSTransparent *bool             `json:"wms:transparent,omitempty"`
	WMTSLayer      []string          `json:"wmts:layer,omitempty"`
	WMTSDimensions map[string]string `json:"wmts:dimensions,omitempty"`
}

// ServeHTTP implements http.Handler; mount it at /stac and /stac/.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, "/stac"), "/")
	parts := strings.Split(rest, "/")
	if rest == "" {
		parts = nil
	}
	// Only the search takes a POST.
	post := len(parts) == 1 && parts[0] == "search"
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost:
		if !post {
			h.methodNotAllowed(w, "GET")
			return
		}
	default:
		allow := "GET"
		if post {
			allow = "GET, POST"
		}
		h.methodNotAllowed(w, allow)
		return
	}
	switch {
	case len(parts) == 0:
		h.landing(w, r)
	case len(parts) == 1 && parts[0] == "conformance":
		writeJSON(w, jsonType, map[string]any{"conformsTo": ConformsTo})
	case len(parts) == 1 && parts[0] == "api":
		writeJSON(w, openAPIType, h.openAPI(r))
	case len(parts) == 1 && parts[0] == "collections":
		h.collections(w, r)
	case len(parts) == 1 && parts[0] == "search":
		h.search(w, r)
	case len(parts) == 2 && parts[0] == "collections":
		h.collection(w, r, parts[1])
	case len(parts) == 3 && parts[0] == "collections" && parts[2] == "items":
		h.items(w, r, parts[1])
	case len(parts) == 4 && parts[0] == "collections" && parts[2] == "items":
		h.item(w, r, parts[1], parts[3])
	default:
		h.fail(w, http.StatusNotFound, "NotFound", "", "no such resource: the API's landing page is at /stac")
	}
}

func (h *Handler) methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	h.fail(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "", "this resource answers "+allow)
}

// apiError is the body of an error response: an OGC API exception, with
// the parameter the client must fix.
type apiError struct {
	Code        string `json:"code"`
	Description string `json:"description"`
	Parameter   string `json:"parameter,omitempty"`
}

func (h *Handler) fail(w http.ResponseWriter, status int, code, param, msg string) {
	w.Header().Set("Content-Type", jsonType)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(apiError{Code: code, Description: msg, Parameter: param})
}

// failErr answers a paramError with 400, an unknown product with 404, and
// anything else with 500, logged: the client cannot fix it.
func (h *Handler) failErr(w http.ResponseWriter, what string, err error) {
	var pe *paramError
	if errors.As(err, &pe) {
		h.fail(w, http.StatusBadRequest, "InvalidParameterValue", pe.Param, pe.Message)
		return
	}
	if errors.Is(err, catalog.ErrNotFound) {
		h.fail(w, http.StatusNotFound, "NotFound", "", err.Error())
		return
	}
	h.logger().Error("stac: "+what, "err", err)
	h.fail(w, http.StatusInternalServerError, "ServerError", "", what+" failed; the error is logged")
}

func (h *Handler) logger() *slog.Logger {
	if h.Log == nil {
		return slog.Default()
	}
	return h.Log
}

func writeJSON(w http.ResponseWriter, typ string, v any) {
	b, err := marshal(v)
	if err != nil {
		http.Error(w, "encoding the response failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", typ)
	w.Write(b)
}

// marshal encodes v without escaping &, < and > in URLs.
func marshal(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// base is the public base of the renderer, without a trailing slash.
func (h *Handler) base(r *http.Request) string {
	if h.BaseURL != "" {
		return strings.TrimSuffix(h.BaseURL, "/")
	}
	return ows.Origin(r)
}

func (h *Handler) root(r *http.Request) string { return h.base(r) + "/stac" }

func (h *Handler) tiles(r *http.Request) string {
	if h.TilesURL != "" {
		return strings.TrimSuffix(h.TilesURL, "/")
	}
	return h.base(r)
}

func (h *Handler) maxLimit() int {
	if h.MaxLimit <= 0 {
		return 1000
	}
	return h.MaxLimit
}

// served returns the served collection name, if it is one.
func (h *Handler) served(name string) (Collection, bool) {
	for _, c := range h.Collections {
		if c.Name == name {
			return c, true
		}
	}
	return Collection{}, false
}

func (h *Handler) collectionURL(r *http.Request, name string) string {
	return h.root(r) + "/collections/" + url.PathEscape(name)
}

func (h *Handler) landing(w http.ResponseWriter, r *http.Request) {
	root := h.root(r)
	title, desc := "pvs", "Products of the View Server's catalogue, searchable by area, time and identifier."
	if len(h.Collections) == 1 {
		c := h.Collections[0]
		title = firstOf(c.Title, c.Name)
		desc = "Products of collection " + c.Name + ", searchable by area, time and identifier."
	}
	links := []Link{
		{Rel: "self", Href: root, Type: jsonType, Title: "this document"},
		{Rel: "root", Href: root, Type: jsonType},
		{Rel: "service-desc", Href: root + "/api", Type: openAPIType, Title: "the API definition"},
		{Rel: "conformance", Href: root + "/conformance", Type: jsonType, Title: "conformance classes"},
		{Rel: "data", Href: root + "/collections", Type: jsonType, Title: "collections"},
		{Rel: "search", Href: root + "/search", Type: geoJSONType, Method: http.MethodGet, Title: "item search"},
		{Rel: "search", Href: root + "/search", Type: geoJSONType, Method: http.MethodPost, Title: "item search"},
	}
	for _, c := range h.Collections {
		links = append(links, Link{Rel: "child", Href: h.collectionURL(r, c.Name), Type: jsonType, Title: firstOf(c.Title, c.Name)})
	}
	writeJSON(w, jsonType, map[string]any{
		"type": "Catalog", "stac_version": Version, "id": "pvs", "title": title, "description": desc,
		"conformsTo": ConformsTo, "links": links,
	})
}

func (h *Handler) collections(w http.ResponseWriter, r *http.Request) {
	out := make([]any, 0, len(h.Collections))
	for _, c := range h.Collections {
		doc, err := h.collectionDoc(r, c)
		if err != nil {
			h.failErr(w, "reading collection "+c.Name, err)
			return
		}
		out = append(out, doc)
	}
	root := h.root(r)
	writeJSON(w, jsonType, map[string]any{"collections": out, "links": []Link{
		{Rel: "self", Href: root + "/collections", Type: jsonType},
		{Rel: "root", Href: root, Type: jsonType},
		{Rel: "parent", Href: root, Type: jsonType},
	}})
}

func (h *Handler) collection(w http.ResponseWriter, r *http.Request, name string) {
	c, ok := h.served(name)
	if !ok {
		h.fail(w, http.StatusNotFound, "NotFound", "", "no collection "+name+" is served here")
		return
	}
	doc, err := h.collectionDoc(r, c)
	if err != nil {
		h.failErr(w, "reading collection "+name, err)
		return
	}
	writeJSON(w, jsonType, doc)
}

// collectionDoc is the STAC Collection of c, its extent from the
// catalogue's summary.
func (h *Handler) collectionDoc(r *http.Request, c Collection) (map[string]any, error) {
	s, err := h.Catalogue.Collection(r.Context(), c.Name)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return nil, err
	}
	// A configured collection nothing was registered into yet is empty,
	// not missing.
	bbox := []float64{-180, -90, 180, 90}
	if s.BBox != nil {
		bbox = s.BBox[:]
	}
	interval := []any{nil, nil}
	if s.BeginTime != nil {
		interval[0] = stamp(*s.BeginTime)
	}
	if s.EndTime != nil {
		interval[1] = stamp(*s.EndTime)
	}
	self := h.collectionURL(r, c.Name)
	root := h.root(r)
	links := []Link{
		{Rel: "self", Href: self, Type: jsonType},
		{Rel: "root", Href: root, Type: jsonType},
		{Rel: "parent", Href: root, Type: jsonType},
		{Rel: "items", Href: self + "/items", Type: geoJSONType, Title: "the collection's products"},
	}
	links = append(links, h.mapLinks(r, c, "", nil)...)
	desc := c.Description
	if desc == "" {
		desc = "Products of collection " + c.Name + " served by pvs: COGs, their metadata, and WMS/WMTS views."
	}
	return map[string]any{
		"type": "Collection", "stac_version": Version, "stac_extensions": []string{extWebMapLinks},
		"id": c.Name, "title": firstOf(c.Title, c.Name), "description": desc, "license": "proprietary",
		"extent": map[string]any{
			"spatial":  map[string]any{"bbox": [][]float64{bbox}},
			"temporal": map[string]any{"interval": [][]any{interval}},
		},
		"links": links,
	}, nil
}

// mapLinks are the web map links of collection c, or of one of its
// products when identifier is set (the product's own WMS layer, the
// collection's WMTS layer at the product's time).
func (h *Handler) mapLinks(r *http.Request, c Collection, identifier string, times *[2]time.Time) []Link {
	transparent := true
	wms := Link{Rel: "wms", Href: h.base(r) + "/ows", Type: "image/png", Title: "WMS", WMSTransparent: &transparent}
	wmts := Link{Rel: "wmts", Href: h.tiles(r) + "/wmts", Type: "image/png", Title: "WMTS"}
	switch {
	case identifier != "":
		wms.WMSLayers = []string{identifier}
	case len(c.Layers) > 0:
		wms.WMSLayers = []string{c.Layers[0]}
	default:
		wms.WMSLayers = []string{c.Name}
	}
	wmts.WMTSLayer = []string{c.Name}
	if len(c.Layers) > 0 {
		wmts.WMTSLayer = []string{c.Layers[0]}
	}
	if times != nil {
		wms.WMSDimensions = map[string]string{"TIME": stamp(times[0]) + "/" + stamp(times[1])}
		wmts.WMTSDimensions = map[string]string{"time": stamp(times[0]) + "--" + stamp(times[1])}
	}
	return []Link{wms, wmts}
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// stamp writes t as an RFC 3339 date-time in UTC.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
