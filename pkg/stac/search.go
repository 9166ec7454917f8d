package stac

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/pvs/pvs/pkg/catalog"
)

// maxBody bounds the JSON body of a POST search.
const maxBody = 2 << 20

// items serves a collection's items: the items endpoint of OGC API -
// Features.
func (h *Handler) items(w http.ResponseWriter, r *http.Request, collection string) {
	c, ok := h.served(collection)
	if !ok {
		h.fail(w, http.StatusNotFound, "NotFound", "", "no collection "+collection+" is served here")
		return
	}
	req, err := parseQuery(r.URL.Query(), false, h.maxLimit())
	if err != nil {
		h.failErr(w, "parsing the query", err)
		return
	}
	self := h.collectionURL(r, c.Name) + "/items"
	extra := []Link{{Rel: "collection", Href: h.collectionURL(r, c.Name), Type: jsonType},
		{Rel: "parent", Href: h.collectionURL(r, c.Name), Type: jsonType}}
	h.respond(w, r, req, []string{c.Name}, getPager{self: self, query: r.URL.Query()}, extra)
}

// search serves the item search, by GET or POST.
func (h *Handler) search(w http.ResponseWriter, r *http.Request) {
	self := h.root(r) + "/search"
	if r.Method != http.MethodPost {
		req, err := parseQuery(r.URL.Query(), true, h.maxLimit())
		if err != nil {
			h.failErr(w, "parsing the query", err)
			return
		}
		h.respond(w, r, req, h.searched(req), getPager{self: self, query: r.URL.Query()}, nil)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), jsonType) {
		h.fail(w, http.StatusUnsupportedMediaType, "InvalidParameterValue", "Content-Type",
			"a POST search takes a JSON body (Content-Type: application/json), got "+ct)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		h.fail(w, http.StatusBadRequest, "InvalidParameterValue", "body", "the body could not be read, or is larger than 2 MiB")
		return
	}
	req, err := parseBody(body, h.maxLimit())
	if err != nil {
		h.failErr(w, "parsing the body", err)
		return
	}
	h.respond(w, r, req, h.searched(req), postPager{self: self, body: body}, nil)
}

// searched are the served collections a search looks in.
func (h *Handler) searched(req request) []string {
	var out []string
	for _, c := range h.Collections {
		if req.collections == nil || slices.Contains(req.collections, c.Name) {
			out = append(out, c.Name)
		}
	}
	return out
}

// pager writes the links to a page of the same search.
type pager interface {
	selfLink() Link
	pageLink(rel string, offset int) Link
}

// getPager pages a GET by its query string.
type getPager struct {
	self  string
	query map[string][]string
}

func (p getPager) url(tok string) string {
	v := map[string][]string{}
	for k, vs := range p.query {
		v[k] = vs
	}
	if tok != "" {
		v["token"] = []string{tok}
	} else {
		delete(v, "token")
	}
	q := url.Values(v).Encode()
	if q == "" {
		return p.self
	}
	return p.self + "?" + q
}

func (p getPager) selfLink() Link {
	tok := ""
	if t, ok := p.query["token"]; ok && len(t) > 0 {
		tok = t[0]
	}
	return Link{Rel: "self", Href: p.url(tok), Type: geoJSONType}
}

func (p getPager) pageLink(rel string, offset int) Link {
	return Link{Rel: rel, Href: p.url(token(offset)), Type: geoJSONType, Method: http.MethodGet}
}

// postPager pages a POST by its body, the token replaced.
type postPager struct {
	self string
	body []byte
}

func (p postPager) selfLink() Link { return Link{Rel: "self", Href: p.self, Type: geoJSONType} }

func (p postPager) pageLink(rel string, offset int) Link {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(p.body, &m) // validated before
	tok, _ := json.Marshal(token(offset))
	m["token"] = tok
	body, _ := marshal(m)
	merge := false
	return Link{Rel: rel, Href: p.self, Type: geoJSONType, Method: http.MethodPost, Body: json.RawMessage(strings.TrimSpace(string(body))), Merge: &merge}
}

// respond runs req over collections and writes the page of items.
func (h *Handler) respond(w http.ResponseWriter, r *http.Request, req request, collections []string, pg pager, extra []Link) {
	var recs []catalog.Record
	var total int64
	if len(collections) > 0 {
		q := req.query(collections)
		var err error
		if total, err = h.Catalogue.Count(r.Context(), q); err != nil {
			h.failErr(w, "counting items", err)
			return
		}
		if int64(req.offset) < total {
			if recs, err = h.Catalogue.Find(r.Context(), q); err != nil {
				h.failErr(w, "searching items", err)
				return
			}
		}
	}
	links := append([]Link{pg.selfLink(), {Rel: "root", Href: h.root(r), Type: jsonType}}, extra...)
	if int64(req.offset+len(recs)) < total {
		links = append(links, pg.pageLink("next", req.offset+req.limit))
	}
	if req.offset > 0 {
		links = append(links, pg.pageLink("prev", max(0, req.offset-req.limit)))
	}
	features := make([]any, 0, len(recs))
	for _, rec := range recs {
		c, _ := h.served(rec.Collection)
		it := h.toItem(r, c, rec)
		if req.fields == nil {
			features = append(features, it)
			continue
		}
		f, err := req.fields.apply(it)
		if err != nil {
			h.failErr(w, "selecting fields", err)
			return
		}
		features = append(features, f)
	}
	writeJSON(w, geoJSONType, map[string]any{
		"type": "FeatureCollection", "features": features, "links": links,
		"numberMatched": total, "numberReturned": len(features),
	})
}
