package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pvs/pvs/pkg/metadata"
)

// stacDoc is the part of a STAC catalog, collection, item or item
// collection the harvester reads.
type stacDoc struct {
	Type       string               `json:"type"`
	ID         string               `json:"id"`
	Collection string               `json:"collection"`
	Geometry   json.RawMessage      `json:"geometry"`
	Properties map[string]any       `json:"properties"`
	Assets     map[string]stacAsset `json:"assets"`
	Links      []stacLink           `json:"links"`
	Features   []json.RawMessage    `json:"features"`
}

type stacAsset struct {
	Href  string   `json:"href"`
	Type  string   `json:"type"`
	Roles []string `json:"roles"`
}

type stacLink struct {
	Href   string          `json:"href"`
	Rel    string          `json:"rel"`
	Type   string          `json:"type"`
	Method string          `json:"method"`
	Body   json.RawMessage `json:"body"`
	Merge  bool            `json:"merge"`
}

func (d *stacDoc) isItem() bool { return d.Type == "Feature" }

// link returns the first link of relation rel.
func (d *stacDoc) link(rel string) *stacLink {
	for i := range d.Links {
		if d.Links[i].Rel == rel {
			return &d.Links[i]
		}
	}
	return nil
}

// Hrefs maps asset hrefs to keys of the source store.
type Hrefs struct {
	// Prefixes are absolute href prefixes that stand for the root of the
	// source store: s3://bucket/prefix/, /vsis3/bucket/prefix/,
	// file:///dir/, /dir/, https://s3.example.com/bucket/.
	Prefixes []string
}

// Key returns the source store key an absolute href names.
func (h Hrefs) Key(href string) (string, bool) {
	for _, p := range h.Prefixes {
		if rest, ok := strings.CutPrefix(href, p); ok && rest != "" {
			if k, err := url.PathUnescape(rest); err == nil && CheckPath(k) == nil {
				return k, true
			}
		}
	}
	return "", false
}

// resolve makes href absolute against the location of the document that
// holds it.
func resolve(base *url.URL, href string) (*url.URL, error) {
	if strings.HasPrefix(href, "/vsis3/") {
		return &url.URL{Path: href}, nil
	}
	u, err := url.Parse(href)
	if err != nil {
		return nil, fmt.Errorf("href %q: %w", href, err)
	}
	if base == nil {
		return u, nil
	}
	return base.ResolveReference(u), nil
}

// itemPolicy turns STAC items into preprocess-md_queue documents.
type itemPolicy struct {
	Asset       string
	ProductType string
	Hrefs       Hrefs
}

// errNotInStore marks an item whose package lies outside the source
// store: not an error of the catalogue, only not ours to ingest.
var errNotInStore = errors.New("asset is not in the source store")

// document builds the md-queue document of an item found at base.
func (p itemPolicy) document(item *stacDoc, base *url.URL) (Document, error) {
	if item.ID == "" {
		return Document{}, errors.New("item has no id")
	}
	a, name, ok := p.pick(item)
	if !ok {
		return Document{}, fmt.Errorf("item %s: no asset %s", item.ID, p.assetWanted())
	}
	u, err := resolve(base, a.Href)
	if err != nil {
		return Document{}, fmt.Errorf("item %s asset %s: %w", item.ID, name, err)
	}
	key, ok := p.Hrefs.Key(u.String())
	if !ok {
		return Document{}, fmt.Errorf("item %s asset %s (%s): %w", item.ID, name, u, errNotInStore)
	}
	d := Document{Path: key, Identifier: item.ID, ProductType: p.ProductType}
	if d.ProductType == "" {
		for _, k := range []string{"product:type", "eop:productType", "pvs:product_type"} {
			if s, ok := item.Properties[k].(string); ok && s != "" {
				d.ProductType = s
				break
			}
		}
	}
	begin, end, err := itemTimes(item.Properties)
	if err != nil {
		return Document{}, fmt.Errorf("item %s: %w", item.ID, err)
	}
	d.BeginTime, d.EndTime = begin, end
	if d.Properties, err = eoProperties(item.Properties); err != nil {
		return Document{}, fmt.Errorf("item %s: %w", item.ID, err)
	}
	var g struct {
		Type string `json:"type"`
	}
	if len(item.Geometry) > 0 && json.Unmarshal(item.Geometry, &g) == nil && (g.Type == "Polygon" || g.Type == "MultiPolygon") {
		d.Footprint = item.Geometry
	}
	return d, nil
}

func (p itemPolicy) assetWanted() string {
	if p.Asset != "" {
		return fmt.Sprintf("%q", p.Asset)
	}
	return "with role data or of a GeoTIFF type"
}

// pick chooses the asset that is the package.
func (p itemPolicy) pick(item *stacDoc) (stacAsset, string, bool) {
	if p.Asset != "" {
		a, ok := item.Assets[p.Asset]
		return a, p.Asset, ok && a.Href != ""
	}
	names := make([]string, 0, len(item.Assets))
	for n := range item.Assets {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		for _, r := range item.Assets[n].Roles {
			if r == "data" && item.Assets[n].Href != "" {
				return item.Assets[n], n, true
			}
		}
	}
	for _, n := range names {
		if strings.HasPrefix(item.Assets[n].Type, "image/tiff") && item.Assets[n].Href != "" {
			return item.Assets[n], n, true
		}
	}
	return stacAsset{}, "", false
}

// itemTimes reads start_datetime/end_datetime, else datetime for both.
func itemTimes(props map[string]any) (string, string, error) {
	get := func(k string) (string, error) {
		v, ok := props[k]
		if !ok || v == nil {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("property %s is not a string", k)
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return "", fmt.Errorf("property %s: %q is not RFC 3339", k, s)
		}
		return s, nil
	}
	start, err := get("start_datetime")
	if err != nil {
		return "", "", err
	}
	end, err := get("end_datetime")
	if err != nil {
		return "", "", err
	}
	dt, err := get("datetime")
	if err != nil {
		return "", "", err
	}
	if start == "" {
		start = dt
	}
	if end == "" {
		end = dt
	}
	if start == "" || end == "" {
		return "", "", errors.New("no datetime, nor start_datetime and end_datetime")
	}
	return start, end, nil
}

// eoProperties maps the STAC properties of an item onto the EO properties
// of its document: platform (as given: "pleiades-1a", "PHR1A"), instruments
// (joined by commas), eo:cloud_cover, sat:orbit_state (ascending or
// descending; geostationary has no EO orbit direction and is left out),
// sat:absolute_orbit, and constellation, kept as it is and standing for the
// platform when the item names none. A property of the wrong kind refuses
// the item with its STAC name; nil when the item has none of them.
func eoProperties(props map[string]any) (metadata.PropertyMap, error) {
	out := metadata.PropertyMap{}
	text := func(key string) (string, error) {
		switch v := props[key].(type) {
		case nil:
			return "", nil
		case string:
			return strings.TrimSpace(v), nil
		default:
			return "", fmt.Errorf("property %s is not a string", key)
		}
	}
	for _, k := range []string{"platform", "constellation"} {
		v, err := text(k)
		if err != nil {
			return nil, err
		}
		if v != "" {
			out[k] = v
		}
	}
	if out["platform"] == "" && out["constellation"] != "" {
		out["platform"] = out["constellation"]
	}
	switch v := props["instruments"].(type) {
	case nil:
	case []any:
		var names []string
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, errors.New("property instruments is not a list of strings")
			}
			if s = strings.TrimSpace(s); s != "" {
				names = append(names, s)
			}
		}
		if len(names) > 0 {
			out["instrument"] = strings.Join(names, ",")
		}
	default:
		return nil, errors.New("property instruments is not a list of strings")
	}
	if v, ok := props["eo:cloud_cover"]; ok && v != nil {
		c, ok := v.(float64)
		if !ok || c < 0 || c > 100 {
			return nil, fmt.Errorf("property eo:cloud_cover %v is not a percentage (a number from 0 to 100)", v)
		}
		out["cloudCover"] = strconv.FormatFloat(c, 'f', -1, 64)
	}
	state, err := text("sat:orbit_state")
	if err != nil {
		return nil, err
	}
	if s := strings.ToUpper(state); s == "ASCENDING" || s == "DESCENDING" {
		out["orbitDirection"] = s
	}
	if v, ok := props["sat:absolute_orbit"]; ok && v != nil {
		n, ok := v.(float64)
		if !ok || n < 0 || n != math.Trunc(n) || n > 1<<53 {
			return nil, fmt.Errorf("property sat:absolute_orbit %v is not an orbit number (a whole number, 0 or more)", v)
		}
		out["orbitNumber"] = strconv.FormatFloat(n, 'f', 0, 64)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
