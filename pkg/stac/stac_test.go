package stac_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/backend"
	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/layer"
	"github.com/pvs/pvs/pkg/registry"
	"github.com/pvs/pvs/pkg/stac"
)

// The STAC API of the renderer over the real catalogue: each test
// registers its products in a database of its own, under a collection
// name of its own, and reads them back through the renderer's
// application (/stac beside /opensearch) or a stac.Handler alone.

const (
	publicURL = "http://pvs.test"
	tilesURL  = "http://tiles.pvs.test"
	assetURL  = "https://data.pvs.test/output"
)

var t0 = time.Date(2018, 6, 1, 9, 0, 0, 0, time.UTC)

// fixture is a catalogue with products and the renderer's application
// over it.
type fixture struct {
	reg  *registry.Registry
	coll string
	app  http.Handler
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	testenv.Require(t)
	ctx := context.Background()
	reg, err := registry.Open(ctx, testenv.Database(t))
	testenv.Must(t, err, "open registry")
	t.Cleanup(reg.Close)
	_, err = reg.Migrate(ctx)
	testenv.Must(t, err, "migrate")
	coll := "STAC_" + strings.ToUpper(testenv.ID())
	testenv.Must(t, reg.EnsureCollection(ctx, coll, "STAC test "+coll, []string{"VHR"}, []string{"TRUE_COLOR"}), "collection")
	cfg := &config.Config{
		Collection: config.Collection{Name: coll, Title: "STAC test " + coll, Browses: []config.Browse{{Name: "TRUE_COLOR", Bands: []int{1, 2, 3}}}},
		Renderer:   config.Renderer{PublicURL: publicURL, AssetURL: assetURL, OpenSearchMaxCount: 200},
		Cache:      config.Cache{PublicURL: tilesURL},
	}
	b := backend.OGC{Catalog: layer.Catalog{Extents: backend.Extents{Products: reg}, Collections: []config.Collection{cfg.Collection}}, Products: reg}
	return &fixture{reg: reg, coll: coll, app: backend.RendererApp(cfg, b, slog.New(slog.NewTextHandler(io.Discard, nil)))}
}

// square is a GeoJSON polygon d degrees wide at x, y.
func square(x, y, d float64) string {
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]}`, x, y, x+d, y, x+d, y+d, x, y+d, x, y)
}

// product is product i of a series: spread over a 5×5 grid of half-degree
// steps near 10°E 40°N, one every 7 hours, cloud cover 4·i %.
func (f *fixture) product(i int) catalog.Product {
	x, y := 10+float64(i%5)*0.5, 40+float64(i/5)*0.5
	begin := t0.Add(time.Duration(i) * 7 * time.Hour)
	cloud := float64(i * 4 % 100)
	platform := []string{"PHR", "SPOT"}[i%2]
	id := fmt.Sprintf("%s_P%02d", f.coll, i)
	nodata := 0.0
	return catalog.Product{Identifier: id, Collection: f.coll, ProductType: "VHR", BeginTime: begin, EndTime: begin.Add(10 * time.Second),
		FootprintGeoJSON: square(x, y, 0.4),
		Properties:       catalog.Properties{Platform: platform, Instrument: "HR", OrbitDirection: "DESCENDING", OrbitNumber: "1234", CloudCover: &cloud},
		Metadata: map[string]any{"platform": platform, "instrument": "HR", "orbitDirection": "DESCENDING", "orbitNumber": "1234",
			"cloudCover": fmt.Sprint(cloud)},
		Coverages: []catalog.Coverage{{Name: id, Location: f.coll + "/" + id + "/" + id + ".tif", CRS: "EPSG:32632", Width: 200, Height: 100,
			GeoTransform: [6]float64{500000, 10, 0, 4600000, 0, -10},
			Bands: []catalog.Band{{Index: 1, DataType: "UInt16", Color: "Red", NoData: &nodata, Stats: &catalog.BandStats{Min: 1, Max: 900, Mean: 300}},
				{Index: 2, DataType: "UInt16", Color: "Green", NoData: &nodata}, {Index: 3, DataType: "UInt16", Color: "Blue", NoData: &nodata}}}}}
}

// register registers products 0..n-1 and any extra ones.
func (f *fixture) register(t *testing.T, n int, extra ...catalog.Product) {
	t.Helper()
	var ps []catalog.Product
	for i := 0; i < n; i++ {
		ps = append(ps, f.product(i))
	}
	ps = append(ps, extra...)
	res, err := f.reg.RegisterBatch(context.Background(), ps, true)
	testenv.Must(t, err, "register")
	for i, r := range res {
		testenv.Must(t, r.Err, "register %s", ps[i].Identifier)
	}
}

// call sends a request to h and decodes the JSON answer.
func call(t *testing.T, h http.Handler, method, target string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		testenv.Must(t, err, "encode body")
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, target, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %v\n%s", method, target, rec.Code, err, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, "json") {
		t.Errorf("%s %s: Content-Type %q", method, target, ct)
	}
	return rec.Code, doc
}

// get is call with GET, failing unless the answer is 200.
func get(t *testing.T, h http.Handler, target string) map[string]any {
	t.Helper()
	code, doc := call(t, h, http.MethodGet, target, nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %v", target, code, doc)
	}
	return doc
}

func ids(doc map[string]any) []string {
	var out []string
	fs, _ := doc["features"].([]any)
	for _, f := range fs {
		m, _ := f.(map[string]any)
		s, _ := m["id"].(string)
		out = append(out, s)
	}
	return out
}

// link returns the first link of rel in doc.
func link(doc map[string]any, rel string) map[string]any {
	ls, _ := doc["links"].([]any)
	for _, l := range ls {
		m, _ := l.(map[string]any)
		if m["rel"] == rel {
			return m
		}
	}
	return nil
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Error(err)
	}
}

func TestEveryRouteAnswersConformingDocuments(t *testing.T) {
	f := newFixture(t)
	f.register(t, 3)
	coll := f.coll
	stacRoot := publicURL + "/stac"

	landing := get(t, f.app, "/stac")
	must(t, checkLanding("landing", landing))
	if l := link(landing, "child"); l == nil || l["href"] != stacRoot+"/collections/"+coll {
		t.Errorf("landing page's child link %v", l)
	}
	for _, target := range []string{"/stac/", stacRoot} {
		if doc := get(t, f.app, target); doc["id"] != landing["id"] {
			t.Errorf("%s is not the landing page: %v", target, doc["id"])
		}
	}
	must(t, checkConformance("conformance", get(t, f.app, "/stac/conformance")))
	api := get(t, f.app, "/stac/api")
	if paths, _ := api["paths"].(map[string]any); api["openapi"] != "3.0.3" || paths["/search"] == nil || paths["/collections/{collectionId}/items/{itemId}"] == nil {
		t.Errorf("API definition: %v", api)
	}

	colls := get(t, f.app, "/stac/collections")
	must(t, checkCollections("collections", colls))
	c := get(t, f.app, "/stac/collections/"+coll)
	must(t, checkCollection("collection", c))
	ext := c["extent"].(map[string]any)
	if got := fmt.Sprint(ext["spatial"].(map[string]any)["bbox"]); got != "[[10 40 11.4 40.4]]" {
		t.Errorf("collection's spatial extent %s, want that of its 3 products", got)
	}
	wantInterval := fmt.Sprintf("[[%s %s]]", t0.Format(time.RFC3339), t0.Add(14*time.Hour+10*time.Second).Format(time.RFC3339))
	if got := fmt.Sprint(ext["temporal"].(map[string]any)["interval"]); got != wantInterval {
		t.Errorf("collection's temporal extent %s, want %s", got, wantInterval)
	}
	if l := link(c, "items"); l == nil || l["href"] != stacRoot+"/collections/"+coll+"/items" {
		t.Errorf("items link %v", l)
	}
	if l := link(c, "wmts"); l == nil || l["href"] != tilesURL+"/wmts" || fmt.Sprint(l["wmts:layer"]) != "["+coll+"]" {
		t.Errorf("collection's WMTS link %v", l)
	}

	items := get(t, f.app, "/stac/collections/"+coll+"/items")
	must(t, checkItemCollection("items", items, true))
	if got := ids(items); fmt.Sprint(got) != fmt.Sprintf("[%[1]s_P02 %[1]s_P01 %[1]s_P00]", coll) {
		t.Errorf("items %v, want newest first", got)
	}
	if items["numberMatched"] != 3.0 || items["numberReturned"] != 3.0 {
		t.Errorf("numberMatched %v numberReturned %v", items["numberMatched"], items["numberReturned"])
	}
	search := get(t, f.app, "/stac/search")
	must(t, checkItemCollection("search", search, false))
	if fmt.Sprint(ids(search)) != fmt.Sprint(ids(items)) {
		t.Errorf("search %v, items %v", ids(search), ids(items))
	}

	id := coll + "_P01"
	it := get(t, f.app, "/stac/collections/"+coll+"/items/"+id)
	must(t, checkItem("item", it))
	checkItemMapping(t, it, f.product(1))
}

// checkItemMapping checks what an item says of the product p it maps.
func checkItemMapping(t *testing.T, it map[string]any, p catalog.Product) {
	t.Helper()
	props := it["properties"].(map[string]any)
	for k, want := range map[string]any{
		"datetime": p.BeginTime.Format(time.RFC3339), "start_datetime": p.BeginTime.Format(time.RFC3339),
		"end_datetime": p.EndTime.Format(time.RFC3339), "platform": "SPOT", "eo:cloud_cover": 4.0,
		"proj:epsg": 32632.0, "proj:shape": "[100 200]", "proj:transform": "[10 0 500000 0 -10 4.6e+06]",
		"sat:orbit_state": "descending", "sat:absolute_orbit": 1234.0, "instruments": "[HR]", "pvs:product_type": "VHR",
	} {
		got := props[k]
		if s, ok := want.(string); ok && strings.HasPrefix(s, "[") {
			got = fmt.Sprint(got)
		}
		if got != want {
			t.Errorf("properties.%s = %v, want %v", k, props[k], want)
		}
	}
	if fmt.Sprint(it["bbox"]) != "[10.5 40 10.9 40.4]" || it["collection"] != p.Collection {
		t.Errorf("bbox %v, collection %v", it["bbox"], it["collection"])
	}
	geom, _ := json.Marshal(it["geometry"])
	if !strings.Contains(string(geom), `"MultiPolygon"`) || !strings.Contains(string(geom), "[10.5,40]") {
		t.Errorf("geometry %s, want the footprint", geom)
	}
	assets := it["assets"].(map[string]any)
	data := assets["data"].(map[string]any)
	loc := p.Coverages[0].Location
	if data["href"] != assetURL+"/"+loc || data["type"] != "image/tiff; application=geotiff; profile=cloud-optimized" {
		t.Errorf("data asset %v, want the COG under the asset URL", data)
	}
	if eo := fmt.Sprint(data["eo:bands"]); eo != "[map[common_name:red name:b1] map[common_name:green name:b2] map[common_name:blue name:b3]]" {
		t.Errorf("eo:bands %s", eo)
	}
	if rb := fmt.Sprint(data["raster:bands"].([]any)[0]); rb != "map[data_type:uint16 nodata:0 statistics:map[maximum:900 mean:300 minimum:1]]" {
		t.Errorf("raster:bands[0] %s", rb)
	}
	md := assets["metadata"].(map[string]any)
	if md["href"] != assetURL+"/"+strings.TrimSuffix(loc, ".tif")+".xml" || fmt.Sprint(md["roles"]) != "[metadata]" {
		t.Errorf("metadata asset %v", md)
	}
	if th := assets["thumbnail"].(map[string]any); !strings.HasPrefix(th["href"].(string), publicURL+"/ows?") || !strings.Contains(th["href"].(string), "LAYERS="+p.Identifier) {
		t.Errorf("thumbnail %v", th)
	}
	interval := p.BeginTime.Format(time.RFC3339) + "/" + p.EndTime.Format(time.RFC3339)
	wms := link(it, "wms")
	if wms == nil || wms["href"] != publicURL+"/ows" || fmt.Sprint(wms["wms:layers"]) != "["+p.Identifier+"]" ||
		fmt.Sprint(wms["wms:dimensions"]) != "map[TIME:"+interval+"]" || wms["wms:transparent"] != true {
		t.Errorf("WMS link %v", wms)
	}
	wmts := link(it, "wmts")
	if wmts == nil || wmts["href"] != tilesURL+"/wmts" || fmt.Sprint(wmts["wmts:layer"]) != "["+p.Collection+"]" ||
		fmt.Sprint(wmts["wmts:dimensions"]) != "map[time:"+strings.Replace(interval, "/", "--", 1)+"]" {
		t.Errorf("WMTS link %v", wmts)
	}
	self := link(it, "self")
	if self == nil || self["href"] != publicURL+"/stac/collections/"+p.Collection+"/items/"+p.Identifier {
		t.Errorf("self link %v", self)
	}
	for _, rel := range []string{"parent", "collection", "root"} {
		if link(it, rel) == nil {
			t.Errorf("no %s link", rel)
		}
	}
}

func TestWithoutAnAssetURLTheCOGComesThroughWCS(t *testing.T) {
	f := newFixture(t)
	f.register(t, 1)
	h := &stac.Handler{Catalogue: f.reg, Collections: []stac.Collection{{Name: f.coll}}, BaseURL: publicURL}
	id := f.coll + "_P00"
	it := get(t, h, "/stac/collections/"+f.coll+"/items/"+id)
	must(t, checkItem("item", it))
	assets := it["assets"].(map[string]any)
	data, _ := url.Parse(assets["data"].(map[string]any)["href"].(string))
	q := data.Query()
	if data.Scheme+"://"+data.Host+data.Path != publicURL+"/ows" || q.Get("SERVICE") != "WCS" || q.Get("REQUEST") != "GetCoverage" || q.Get("COVERAGEID") != id {
		t.Errorf("data asset %s, want a WCS GetCoverage of %s", data, id)
	}
	md := assets["metadata"].(map[string]any)["href"].(string)
	if !strings.Contains(md, "REQUEST=DescribeCoverage") {
		t.Errorf("metadata asset %s, want a WCS DescribeCoverage", md)
	}
	// Without a tile cache URL the WMTS link is on the renderer's host.
	if l := link(it, "wmts"); l == nil || l["href"] != publicURL+"/wmts" {
		t.Errorf("WMTS link %v", l)
	}
}

// follow requests the page a next or prev link points to.
func follow(t *testing.T, h http.Handler, l map[string]any) map[string]any {
	t.Helper()
	href, _ := l["href"].(string)
	if l["method"] == http.MethodPost {
		body, _ := json.Marshal(l["body"])
		code, doc := call(t, h, http.MethodPost, href, body)
		if code != http.StatusOK {
			t.Fatalf("POST %s %s: %d %v", href, body, code, doc)
		}
		return doc
	}
	return get(t, h, href)
}

func TestPagingVisitsEveryProductOnce(t *testing.T) {
	f := newFixture(t)
	const n = 23
	f.register(t, n)
	walk := func(name string, first map[string]any) {
		seen := map[string]int{}
		pages := 0
		var prev map[string]any
		for doc := first; doc != nil; {
			pages++
			must(t, checkItemCollection(fmt.Sprintf("%s page %d", name, pages), doc, false))
			if doc["numberMatched"] != float64(n) {
				t.Errorf("%s page %d: numberMatched %v", name, pages, doc["numberMatched"])
			}
			for _, id := range ids(doc) {
				seen[id]++
			}
			if pages > 1 && link(doc, "prev") == nil {
				t.Errorf("%s page %d has no prev link", name, pages)
			}
			if pages == 2 {
				// Back to the first page.
				if back := follow(t, f.app, link(doc, "prev")); fmt.Sprint(ids(back)) != fmt.Sprint(ids(prev)) {
					t.Errorf("%s: prev of page 2 holds %v, page 1 held %v", name, ids(back), ids(prev))
				}
			}
			prev = doc
			next := link(doc, "next")
			if next == nil {
				break
			}
			if pages > n {
				t.Fatalf("%s: more pages than products", name)
			}
			doc = follow(t, f.app, next)
		}
		if pages != 5 || len(seen) != n {
			t.Errorf("%s: %d pages, %d products, want 5 pages of 23", name, pages, len(seen))
		}
		for id, k := range seen {
			if k != 1 {
				t.Errorf("%s: %s seen %d times", name, id, k)
			}
		}
	}
	walk("items", get(t, f.app, "/stac/collections/"+f.coll+"/items?limit=5"))
	walk("GET search", get(t, f.app, "/stac/search?limit=5&collections="+f.coll+"&sortby=%2Bproperties.eo:cloud_cover"))
	_, first := call(t, f.app, http.MethodPost, "/stac/search", map[string]any{"limit": 5, "collections": []string{f.coll},
		"datetime": t0.Format(time.RFC3339) + "/..", "sortby": []map[string]string{{"field": "id", "direction": "desc"}}})
	walk("POST search", first)
	if l := link(first, "next"); l["method"] != "POST" || l["merge"] != false || l["body"].(map[string]any)["limit"] != 5.0 {
		t.Errorf("POST search's next link %v, want a POST with the whole body", l)
	}
}

func TestSearchFindsWhatOpenSearchFinds(t *testing.T) {
	f := newFixture(t)
	f.register(t, 25)
	for _, c := range []struct {
		name, bbox string
		start, end time.Time
	}{
		{"bbox only", "10.2,40.2,10.9,40.9", time.Time{}, time.Time{}},
		{"bbox and interval", "10,40,11,41", t0.Add(20 * time.Hour), t0.Add(90 * time.Hour)},
		{"bbox and instant", "9,39,13,43", t0.Add(35*time.Hour + 5*time.Second), t0.Add(35*time.Hour + 5*time.Second)},
		{"interval only", "", t0.Add(50 * time.Hour), t0.Add(100 * time.Hour)},
		{"nothing there", "0,0,1,1", t0, t0.Add(time.Hour)},
	} {
		os := url.Values{"count": {"200"}}
		st := url.Values{"limit": {"200"}}
		if c.bbox != "" {
			os.Set("bbox", c.bbox)
			st.Set("bbox", c.bbox)
		}
		if !c.start.IsZero() {
			os.Set("start", c.start.Format(time.RFC3339))
			os.Set("end", c.end.Format(time.RFC3339))
			st.Set("datetime", c.start.Format(time.RFC3339)+"/"+c.end.Format(time.RFC3339))
			if c.start.Equal(c.end) {
				st.Set("datetime", c.start.Format(time.RFC3339))
			}
		}
		want := ids(get(t, f.app, "/opensearch/json?"+os.Encode()))
		got := get(t, f.app, "/stac/search?"+st.Encode())
		if fmt.Sprint(ids(got)) != fmt.Sprint(want) {
			t.Errorf("%s: STAC found %v, OpenSearch %v", c.name, ids(got), want)
		}
		if c.name != "nothing there" && len(want) == 0 {
			t.Errorf("%s: nothing found, the case compares nothing", c.name)
		}
		items := get(t, f.app, "/stac/collections/"+f.coll+"/items?"+st.Encode())
		if fmt.Sprint(ids(items)) != fmt.Sprint(want) {
			t.Errorf("%s: the items endpoint found %v, OpenSearch %v", c.name, ids(items), want)
		}
	}
}

func TestPostSearchByGeometryIdentifiersAndCollections(t *testing.T) {
	f := newFixture(t)
	f.register(t, 10)
	p := func(i int) string { return fmt.Sprintf("%s_P%02d", f.coll, i) }
	// A triangle over the products at 10°E and 10.5°E, 40°N and 40.5°N
	// (0, 1, 5, 6), short of those at 11°E (2, 7).
	tri := map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{10.1, 40.1}, {10.95, 40.1}, {10.1, 40.95}, {10.1, 40.1}}}}
	for _, c := range []struct {
		name string
		body map[string]any
		want []string
	}{
		{"intersects", map[string]any{"intersects": tri}, []string{p(6), p(5), p(1), p(0)}},
		{"intersects a point", map[string]any{"intersects": map[string]any{"type": "Point", "coordinates": []float64{11.2, 40.2}}}, []string{p(2)}},
		{"intersects and time", map[string]any{"intersects": tri, "datetime": t0.Add(6*time.Hour).Format(time.RFC3339) + "/" + t0.Add(36*time.Hour).Format(time.RFC3339)},
			[]string{p(5), p(1)}},
		{"ids", map[string]any{"ids": []string{p(3), p(7), "unknown"}}, []string{p(7), p(3)}},
		{"ids in another collection", map[string]any{"ids": []string{p(3)}, "collections": []string{"OTHER"}}, nil},
		{"collections", map[string]any{"collections": []string{f.coll, "OTHER"}, "limit": 3}, []string{p(9), p(8), p(7)}},
		{"sortby cloud cover", map[string]any{"ids": []string{p(4), p(2), p(8)}, "sortby": []map[string]string{{"field": "properties.eo:cloud_cover", "direction": "asc"}}},
			[]string{p(2), p(4), p(8)}},
	} {
		code, doc := call(t, f.app, http.MethodPost, "/stac/search", c.body)
		if code != http.StatusOK {
			t.Errorf("%s: %d %v", c.name, code, doc)
			continue
		}
		must(t, checkItemCollection(c.name, doc, false))
		if fmt.Sprint(ids(doc)) != fmt.Sprint(c.want) {
			t.Errorf("%s: found %v, want %v", c.name, ids(doc), c.want)
		}
	}
	// Every GeoJSON geometry type is a search, never a server error.
	for _, g := range []string{
		`{"type":"MultiPoint","coordinates":[[10.2,40.2],[11.2,40.2]]}`,
		`{"type":"LineString","coordinates":[[10.2,40.2],[11.2,40.2]]}`,
		`{"type":"MultiLineString","coordinates":[[[10.2,40.2],[10.3,40.3]],[[11.2,40.2],[11.3,40.3]]]}`,
		`{"type":"MultiPolygon","coordinates":[[[[10.1,40.1],[10.3,40.1],[10.3,40.3],[10.1,40.1]]],[[[11.1,40.1],[11.3,40.1],[11.3,40.3],[11.1,40.1]]]]}`,
		`{"type":"Polygon","coordinates":[[[9,39],[12,39],[12,42],[9,42],[9,39]],[[9.5,39.5],[11.8,39.5],[11.8,41.8],[9.5,41.8],[9.5,39.5]]]}`,
		`{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[10.2,40.2]},{"type":"Point","coordinates":[11.2,40.2]}]}`,
		`{"type":"Point","coordinates":[180,90]}`,
	} {
		code, doc := call(t, f.app, http.MethodPost, "/stac/search", `{"intersects":`+g+`}`)
		if code != http.StatusOK {
			t.Errorf("intersects %s: %d %v", g, code, doc)
		}
	}
	_, doc := call(t, f.app, http.MethodPost, "/stac/search", `{"intersects":{"type":"MultiPoint","coordinates":[[10.2,40.2],[11.2,40.2]]}}`)
	if got := ids(doc); fmt.Sprint(got) != fmt.Sprint([]string{p(2), p(0)}) {
		t.Errorf("a MultiPoint over products 0 and 2 found %v", got)
	}

	// The same intersects by GET, as JSON in the query string.
	g, _ := json.Marshal(tri)
	doc = get(t, f.app, "/stac/search?intersects="+url.QueryEscape(string(g)))
	if fmt.Sprint(ids(doc)) != fmt.Sprint([]string{p(6), p(5), p(1), p(0)}) {
		t.Errorf("GET intersects found %v", ids(doc))
	}

	// The fields extension: only what was asked, by GET and by POST.
	doc = get(t, f.app, "/stac/search?ids="+p(3)+"&fields=properties.eo:cloud_cover,-links")
	feat := doc["features"].([]any)[0].(map[string]any)
	if _, ok := feat["links"]; ok || feat["id"] != p(3) || fmt.Sprint(feat["properties"]) != "map[eo:cloud_cover:12]" || feat["geometry"] != nil {
		t.Errorf("fields=properties.eo:cloud_cover,-links gave %v", feat)
	}
	_, doc = call(t, f.app, http.MethodPost, "/stac/search", map[string]any{"ids": []string{p(3)}, "fields": map[string]any{"exclude": []string{"geometry", "assets"}}})
	feat = doc["features"].([]any)[0].(map[string]any)
	if _, ok := feat["geometry"]; ok || feat["assets"] != nil || feat["properties"] == nil || feat["bbox"] == nil {
		t.Errorf("fields excluding geometry and assets gave %v", feat)
	}
}

func TestAntimeridianProduct(t *testing.T) {
	f := newFixture(t)
	am := f.product(0)
	am.Identifier = f.coll + "_AM"
	am.Coverages[0].Name = am.Identifier
	// Unwrapped across the antimeridian, as the metadata gives it; the
	// catalogue stores it split in two.
	am.FootprintGeoJSON = `{"type":"Polygon","coordinates":[[[179,-17],[181,-17],[181,-16],[179,-16],[179,-17]]]}`
	f.register(t, 1, am)

	it := get(t, f.app, "/stac/collections/"+f.coll+"/items/"+am.Identifier)
	must(t, checkItem("antimeridian item", it))
	if got := fmt.Sprint(it["bbox"]); got != "[179 -17 -179 -16]" {
		t.Errorf("bbox %s, want [179 -17 -179 -16] (west above east across the antimeridian)", got)
	}
	g := it["geometry"].(map[string]any)
	if parts, _ := g["coordinates"].([]any); g["type"] != "MultiPolygon" || len(parts) != 2 {
		t.Errorf("geometry %v, want the two halves", g)
	}
	for _, bbox := range []string{"179.5,-16.8,180,-16.2", "-180,-16.8,-179.5,-16.2", "170,-20,-170,-10"} {
		if got := ids(get(t, f.app, "/stac/search?bbox="+bbox)); fmt.Sprint(got) != "["+am.Identifier+"]" {
			t.Errorf("bbox %s found %v", bbox, got)
		}
	}
	if got := ids(get(t, f.app, "/stac/search?bbox=-10,-20,10,-10")); len(got) != 0 {
		t.Errorf("a bbox far from the antimeridian found %v", got)
	}
}

func TestBadRequestsNameTheParameter(t *testing.T) {
	f := newFixture(t)
	f.register(t, 1)
	items := "/stac/collections/" + f.coll + "/items"
	for _, c := range []struct {
		method, target string
		body           any
		status         int
		param          string
	}{
		{"GET", "/stac/search?bbox=1,2,3", nil, 400, "bbox"},
		{"GET", "/stac/search?bbox=0,10,1,5", nil, 400, "bbox"},
		{"GET", "/stac/search?bbox=0,0,1,91", nil, 400, "bbox"},
		{"GET", "/stac/search?datetime=2018-06-01", nil, 400, "datetime"},
		{"GET", "/stac/search?datetime=../..", nil, 400, "datetime"},
		{"GET", "/stac/search?datetime=2018-06-02T00:00:00Z/2018-06-01T00:00:00Z", nil, 400, "datetime"},
		{"GET", "/stac/search?limit=0", nil, 400, "limit"},
		{"GET", "/stac/search?limit=-5", nil, 400, "limit"},
		{"GET", "/stac/search?token=offset:x", nil, 400, "token"},
		{"GET", "/stac/search?sortby=-geometry", nil, 400, "sortby"},
		{"GET", "/stac/search?fields=properties..x", nil, 400, "fields"},
		{"GET", "/stac/search?intersects=%7B%22type%22:%22Polygon%22%7D", nil, 400, "intersects"},
		{"GET", "/stac/search?intersects=%7Bnot%20json", nil, 400, "intersects"},
		{"GET", "/stac/search?filter=eo:cloud_cover<10", nil, 400, "filter"},
		{"GET", items + "?ids=a", nil, 400, "ids"},
		{"GET", items + "?bbox=x", nil, 400, "bbox"},
		{"POST", "/stac/search", "{not json", 400, "body"},
		{"POST", "/stac/search", map[string]any{"bbox": []float64{1, 2}}, 400, "bbox"},
		{"POST", "/stac/search", map[string]any{"limit": "ten"}, 400, "limit"},
		{"POST", "/stac/search", map[string]any{"collections": "C"}, 400, "collections"},
		{"POST", "/stac/search", map[string]any{"intersects": map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}}}}, 400, "intersects"},
		{"POST", "/stac/search", map[string]any{"bbox": []float64{0, 0, 1, 1}, "intersects": map[string]any{"type": "Point", "coordinates": []float64{0, 0}}}, 400, "intersects"},
		{"POST", "/stac/search", map[string]any{"query": map[string]any{}}, 400, "query"},
		{"POST", "/stac/search", map[string]any{"datetime": "2018-13-01T00:00:00Z"}, 400, "datetime"},
		{"GET", "/stac/collections/NOPE", nil, 404, ""},
		{"GET", "/stac/collections/NOPE/items", nil, 404, ""},
		{"GET", items + "/NOPE", nil, 404, ""},
		{"GET", "/stac/nothing", nil, 404, ""},
		{"POST", items, map[string]any{}, 405, ""},
		{"DELETE", "/stac/search", nil, 405, ""},
	} {
		code, doc := call(t, f.app, c.method, c.target, c.body)
		if code != c.status || doc["code"] == nil || doc["description"] == nil {
			t.Errorf("%s %s %v: %d %v, want %d with a code and a description", c.method, c.target, c.body, code, doc, c.status)
			continue
		}
		if c.param != "" && doc["parameter"] != c.param {
			t.Errorf("%s %s %v: the error names %v, want %s", c.method, c.target, c.body, doc["parameter"], c.param)
		}
	}
	// An item of another collection is not found under this one.
	other := "OTHER_" + strings.ToUpper(testenv.ID())
	testenv.Must(t, f.reg.EnsureCollection(context.Background(), other, "", []string{"VHR"}, nil), "other collection")
	p := f.product(5)
	p.Identifier, p.Collection = other+"_X", other
	f.register(t, 0, p)
	if code, _ := call(t, f.app, "GET", items+"/"+p.Identifier, nil); code != http.StatusNotFound {
		t.Errorf("an item of another collection: %d, want 404", code)
	}
	if got := ids(get(t, f.app, "/stac/search?ids="+p.Identifier)); len(got) != 0 {
		t.Errorf("the search reaches a collection that is not served: %v", got)
	}
}

func TestTheCheckerCatchesBrokenDocuments(t *testing.T) {
	t.Parallel()
	valid := `{"type":"Feature","stac_version":"1.0.0","stac_extensions":["https://stac-extensions.github.io/eo/v1.1.0/schema.json"],
		"id":"P","collection":"C","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]},"bbox":[0,0,1,1],
		"properties":{"datetime":"2018-06-01T00:00:00Z","eo:cloud_cover":5},
		"links":[{"rel":"collection","href":"http://x/c"}],"assets":{"data":{"href":"http://x/d.tif","roles":["data"]}}}`
	var doc map[string]any
	testenv.Must(t, json.Unmarshal([]byte(valid), &doc), "decode")
	if err := checkItem("valid", doc); err != nil {
		t.Fatalf("a valid item fails: %v", err)
	}
	for name, edit := range map[string]func(m map[string]any){
		"no datetime":         func(m map[string]any) { delete(m["properties"].(map[string]any), "datetime") },
		"null datetime alone": func(m map[string]any) { m["properties"].(map[string]any)["datetime"] = nil },
		"bad datetime":        func(m map[string]any) { m["properties"].(map[string]any)["datetime"] = "2018-06-01" },
		"no bbox":             func(m map[string]any) { delete(m, "bbox") },
		"bbox too small":      func(m map[string]any) { m["bbox"] = []any{0.0, 0.0, 0.5, 1.0} },
		"open ring": func(m map[string]any) {
			m["geometry"] = map[string]any{"type": "Polygon", "coordinates": []any{[]any{[]any{0.0, 0.0}, []any{1.0, 0.0}, []any{1.0, 1.0}, []any{0.0, 1.0}}}}
		},
		"link without href":              func(m map[string]any) { m["links"] = []any{map[string]any{"rel": "self"}} },
		"undeclared extension":           func(m map[string]any) { m["properties"].(map[string]any)["proj:epsg"] = 4326.0 },
		"cloud cover over 100":           func(m map[string]any) { m["properties"].(map[string]any)["eo:cloud_cover"] = 150.0 },
		"collection link, no collection": func(m map[string]any) { delete(m, "collection") },
		"asset without href":             func(m map[string]any) { m["assets"] = map[string]any{"data": map[string]any{"type": "image/tiff"}} },
		"wrong version":                  func(m map[string]any) { m["stac_version"] = "0.9.0" },
		"wms link without layers":        func(m map[string]any) { m["links"] = []any{map[string]any{"rel": "wms", "href": "http://x/ows"}} },
	} {
		var m map[string]any
		_ = json.Unmarshal([]byte(valid), &m)
		edit(m)
		if checkItem(name, m) == nil {
			t.Errorf("%s: the checker passes it", name)
		}
	}
	if checkCollection("no license", map[string]any{"type": "Collection", "stac_version": "1.0.0", "id": "C", "description": "d",
		"links": []any{}, "extent": map[string]any{"spatial": map[string]any{"bbox": []any{[]any{0.0, 0.0, 1.0, 1.0}}},
			"temporal": map[string]any{"interval": []any{[]any{nil, nil}}}}}) == nil {
		t.Error("a collection without license passes")
	}
	if checkLanding("no service-desc", map[string]any{"type": "Catalog", "stac_version": "1.0.0", "id": "x", "description": "d",
		"conformsTo": slices.Clone(requiredClasses), "links": []any{map[string]any{"rel": "self", "href": "http://x/stac"}}}) == nil {
		t.Error("a landing page without root, service-desc and conformance links passes")
	}
}
