package stac

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/catalog"
)

func TestParseDatetime(t *testing.T) {
	t.Parallel()
	d := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	for _, c := range []struct {
		in         string
		start, end time.Time
		bad        bool
	}{
		{in: "2018-06-15T10:00:00Z", start: d("2018-06-15T10:00:00Z"), end: d("2018-06-15T10:00:00Z")},
		{in: "2018-06-15t12:00:00+02:00", start: d("2018-06-15T10:00:00Z"), end: d("2018-06-15T10:00:00Z")},
		{in: "2018-06-15T10:00:00.5Z/2018-06-16T00:00:00Z", start: d("2018-06-15T10:00:00.5Z"), end: d("2018-06-16T00:00:00Z")},
		{in: "../2018-06-16T00:00:00Z", end: d("2018-06-16T00:00:00Z")},
		{in: "/2018-06-16T00:00:00Z", end: d("2018-06-16T00:00:00Z")},
		{in: "2018-06-15T00:00:00Z/..", start: d("2018-06-15T00:00:00Z")},
		{in: "2018-06-15T00:00:00Z/", start: d("2018-06-15T00:00:00Z")},
		{in: "../..", bad: true},
		{in: "/", bad: true},
		{in: "2018-06-15", bad: true},
		{in: "yesterday", bad: true},
		{in: "2018-06-16T00:00:00Z/2018-06-15T00:00:00Z", bad: true},
		{in: "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z/2018-06-17T00:00:00Z", bad: true},
		{in: "2018-06-31T00:00:00Z", bad: true},
	} {
		start, end, err := parseDatetime(c.in)
		if c.bad {
			var pe *paramError
			if !errors.As(err, &pe) || pe.Param != "datetime" {
				t.Errorf("%q: %v, want a datetime error", c.in, err)
			}
			continue
		}
		if err != nil || !start.Equal(c.start) || !end.Equal(c.end) {
			t.Errorf("%q: %v..%v (%v), want %v..%v", c.in, start, end, err, c.start, c.end)
		}
	}
}

func TestParseQueryNamesTheBadParameter(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		query, param string
		search       bool
	}{
		{"bbox=1,2,3", "bbox", true},
		{"bbox=1,2,3,4,5", "bbox", true},
		{"bbox=a,b,c,d", "bbox", true},
		{"bbox=0,10,1,5", "bbox", true},
		{"bbox=0,0,190,5", "bbox", true},
		{"bbox=0,0,NaN,5", "bbox", true},
		{"limit=0", "limit", true},
		{"limit=ten", "limit", true},
		{"token=5", "token", true},
		{"token=offset:-1", "token", true},
		{"sortby=footprint", "sortby", true},
		{"fields=a..b", "fields", true},
		{"ids=", "ids", true},
		{"collections=,", "collections", true},
		{"intersects=POINT(1 2)", "intersects", true},
		{`intersects={"type":"Feature","geometry":null}`, "intersects", true},
		{`bbox=0,0,1,1&intersects={"type":"Point","coordinates":[0,0]}`, "intersects", true},
		{"limit=1&limit=2", "limit", true},
		{"filter=cloud<10", "filter", true},
		{"ids=a", "ids", false},
		{`intersects={"type":"Point","coordinates":[0,0]}`, "intersects", false},
	} {
		v, err := url.ParseQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		_, err = parseQuery(v, c.search, 100)
		var pe *paramError
		if !errors.As(err, &pe) || pe.Param != c.param {
			t.Errorf("%s: %v, want an error naming %s", c.query, err, c.param)
		}
	}
}

func TestParseQuery(t *testing.T) {
	t.Parallel()
	v, _ := url.ParseQuery("bbox=170,-10,-170,10&datetime=../2018-01-01T00:00:00Z&limit=500&token=offset:20" +
		"&ids=a,b,a&collections=C&fields=id,-links,properties.eo:cloud_cover&sortby=-properties.eo:cloud_cover, id")
	req, err := parseQuery(v, true, 100)
	if err != nil {
		t.Fatal(err)
	}
	if req.limit != 100 || req.offset != 20 || strings.Join(req.ids, ",") != "a,b" || strings.Join(req.collections, ",") != "C" {
		t.Errorf("limit %d, offset %d, ids %v, collections %v", req.limit, req.offset, req.ids, req.collections)
	}
	if req.fields == nil || strings.Join(req.fields.include, ",") != "id,properties.eo:cloud_cover" || strings.Join(req.fields.exclude, ",") != "links" {
		t.Errorf("fields %+v", req.fields)
	}
	want := []catalog.SortKey{{Field: catalog.SortCloudCover, Desc: true}, {Field: catalog.SortIdentifier}}
	if len(req.sort) != 2 || req.sort[0] != want[0] || req.sort[1] != want[1] {
		t.Errorf("sort %+v, want %+v", req.sort, want)
	}
	q := req.query([]string{"C"})
	if q.BBox != nil || !strings.HasPrefix(q.GeometryWKT, "MULTIPOLYGON(((170 -10,180 -10") || !strings.Contains(q.GeometryWKT, "((-180 -10,-170 -10") {
		t.Errorf("an antimeridian bbox queries %v / %q, want the two boxes on either side", q.BBox, q.GeometryWKT)
	}
	if !q.Start.IsZero() || q.End.IsZero() {
		t.Errorf("open start: %v..%v", q.Start, q.End)
	}
	v, _ = url.ParseQuery("")
	req, _ = parseQuery(v, true, 100)
	if req.limit != defaultLimit || req.collections != nil {
		t.Errorf("defaults: limit %d, collections %v", req.limit, req.collections)
	}
}

func TestParseBody(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ body, param string }{
		{`[]`, "body"},
		{`{"bbox": "1,2,3,4"}`, "bbox"},
		{`{"bbox": [1,2]}`, "bbox"},
		{`{"limit": "10"}`, "limit"},
		{`{"limit": 1.5}`, "limit"},
		{`{"ids": "a"}`, "ids"},
		{`{"datetime": 2018}`, "datetime"},
		{`{"query": {"eo:cloud_cover": {"lt": 10}}}`, "query"},
		{`{"intersects": {"type": "Polygon", "coordinates": [[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}`, "intersects"},
		{`{"intersects": {"type": "Polygon", "coordinates": [[[0,0],[1,0]]]}}`, "intersects"},
		{`{"intersects": {"type": "Point", "coordinates": [200,0]}}`, "intersects"},
		{`{"sortby": [{"field": "id", "direction": "up"}]}`, "sortby"},
		{`{"sortby": "id"}`, "sortby"},
		{`{"fields": {"include": "id"}}`, "fields"},
		{`{"token": "next"}`, "token"},
	} {
		_, err := parseBody([]byte(c.body), 100)
		var pe *paramError
		if !errors.As(err, &pe) || pe.Param != c.param {
			t.Errorf("%s: %v, want an error naming %s", c.body, err, c.param)
		}
	}
	req, err := parseBody([]byte(`{"intersects": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1],[0,0]]]},
		"datetime": "2018-06-15T00:00:00Z/..", "limit": 5, "token": "offset:5", "ids": ["x"],
		"fields": {"include": ["id"], "exclude": ["links"]}, "sortby": [{"field": "properties.datetime", "direction": "asc"}]}`), 100)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(req.geometryWKT, "POLYGON ((0 0,1 0") || req.limit != 5 || req.offset != 5 || req.start.IsZero() || !req.end.IsZero() ||
		len(req.sort) != 1 || req.sort[0] != (catalog.SortKey{Field: catalog.SortBeginTime}) || req.fields == nil {
		t.Errorf("parsed %+v", req)
	}
}

func TestFootprintBBoxCrossesTheAntimeridian(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, geojson string
		want          [4]float64
	}{
		{"plain polygon", `{"type":"Polygon","coordinates":[[[10,40],[11,40],[11,41],[10,41],[10,40]]]}`, [4]float64{10, 40, 11, 41}},
		{"split at the antimeridian", `{"type":"MultiPolygon","coordinates":[[[[179,0],[180,0],[180,1],[179,1],[179,0]]],[[[-180,0],[-179.5,0],[-179.5,1],[-180,1],[-180,0]]]]}`,
			[4]float64{179, 0, -179.5, 1}},
		{"two parts far apart", `{"type":"MultiPolygon","coordinates":[[[[-170,0],[-160,0],[-160,1],[-170,0]]],[[[160,5],[170,5],[170,6],[160,5]]]]}`,
			[4]float64{160, 0, -160, 6}},
		{"two parts near each other", `{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,0],[6,0],[6,1],[5,0]]]]}`,
			[4]float64{0, 0, 6, 1}},
		{"around the pole", `{"type":"Polygon","coordinates":[[[-180,80],[180,80],[180,90],[-180,90],[-180,80]]]}`, [4]float64{-180, 80, 180, 90}},
	} {
		got := footprintBBox(catalog.Record{FootprintGeoJSON: c.geojson})
		if [4]float64(got) != c.want {
			t.Errorf("%s: bbox %v, want %v", c.name, got, c.want)
		}
	}
}

func TestProjectionOfACoverage(t *testing.T) {
	t.Parallel()
	p := map[string]any{}
	projection(catalog.Coverage{CRS: "EPSG:32632", Width: 200, Height: 100, GeoTransform: [6]float64{500000, 10, 0, 4600000, 0, -10}}, p)
	if p["proj:epsg"] != 32632 {
		t.Errorf("proj:epsg %v", p["proj:epsg"])
	}
	if s := p["proj:shape"].([]int); s[0] != 100 || s[1] != 200 {
		t.Errorf("proj:shape %v, want [height width]", s)
	}
	if tr := p["proj:transform"].([]float64); [6]float64(tr) != [6]float64{10, 0, 500000, 0, -10, 4600000} {
		t.Errorf("proj:transform %v", tr)
	}
	if b := p["proj:bbox"].([]float64); [4]float64(b) != [4]float64{500000, 4599000, 502000, 4600000} {
		t.Errorf("proj:bbox %v", b)
	}
	p = map[string]any{}
	projection(catalog.Coverage{CRS: `PROJCS["custom",GEOGCS["x"]]`, Width: 1, Height: 1}, p)
	if v, ok := p["proj:epsg"]; !ok || v != nil || p["proj:wkt2"] == nil {
		t.Errorf("a CRS without EPSG code: %v", p)
	}
}

func TestFieldsSelectAndExclude(t *testing.T) {
	t.Parallel()
	it := Item{Type: "Feature", StacVersion: Version, ID: "P", Collection: "C", Geometry: []byte(`{"type":"Point","coordinates":[0,0]}`),
		Properties: map[string]any{"datetime": "2018-01-01T00:00:00Z", "eo:cloud_cover": 5.0, "platform": "PHR"},
		Assets:     map[string]Asset{"data": {Href: "http://x/data.tif"}}}
	fs, _ := parseFields([]string{"properties.eo:cloud_cover", "assets"}, []string{"assets.data", "id"})
	got, err := fs.apply(it)
	if err != nil {
		t.Fatal(err)
	}
	props, _ := got["properties"].(map[string]any)
	assets, _ := got["assets"].(map[string]any)
	if got["id"] != "P" || got["type"] != "Feature" || got["geometry"] != nil || len(props) != 1 || props["eo:cloud_cover"] != 5.0 ||
		assets == nil || len(assets) != 0 {
		t.Errorf("include cloud cover and assets, exclude the data asset: %v", got)
	}
	fs, _ = parseFields(nil, []string{"geometry", "properties.platform"})
	got, _ = fs.apply(it)
	props, _ = got["properties"].(map[string]any)
	if _, ok := got["geometry"]; ok || props["platform"] != nil || props["datetime"] == nil || got["assets"] == nil {
		t.Errorf("exclude geometry and platform: %v", got)
	}
}

// FuzzParseQuery: whatever a client sends, the parser answers a query or
// a parameter error, never a panic or another error.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"bbox=1,2,3,4", "datetime=../2018-01-01T00:00:00Z", `intersects={"type":"Point","coordinates":[1,2]}`,
		"sortby=-id,+properties.datetime", "fields=id,-links", "token=offset:10&limit=5", "ids=a,b&collections=C"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		req, err := parseQuery(v, true, 100)
		var pe *paramError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("%q: %v is not a parameter error", s, err)
		}
		if err == nil && (req.limit < 1 || req.limit > 100 || req.offset < 0) {
			t.Fatalf("%q: limit %d offset %d", s, req.limit, req.offset)
		}
	})
}

func TestInstrumentsAreSplit(t *testing.T) {
	h := &Handler{}
	for in, want := range map[string][]string{"HR": {"HR"}, "olci, slstr": {"olci", "slstr"}, "msi,": {"msi"}} {
		p := h.properties(catalog.Record{Properties: map[string]any{"instrument": in}})
		if got, _ := p["instruments"].([]string); !slices.Equal(got, want) {
			t.Errorf("instrument %q: instruments %v, want %v", in, p["instruments"], want)
		}
	}
}
