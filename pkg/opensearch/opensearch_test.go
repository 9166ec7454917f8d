package opensearch

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/golden"
)

// fakeBackend pages through a fixed list and records the last query.
type fakeBackend struct {
	products []Product
	last     Query
}

func (f *fakeBackend) Search(ctx context.Context, q Query) ([]Product, int64, error) {
	f.last = q
	from := min(q.StartIndex-1, len(f.products))
	to := min(from+q.Count, len(f.products))
	return f.products[from:to], int64(len(f.products)), nil
}

func newHandler(n int) (*Handler, *fakeBackend) {
	fb := &fakeBackend{}
	t0 := time.Date(2018, 6, 15, 10, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		cc := float64(i * 10)
		p := Product{Identifier: "P" + string(rune('A'+i)), ProductType: "VHR_OPTICAL", Platform: "PHR", CloudCover: &cc,
			Begin: t0.Add(time.Duration(i) * time.Hour), End: t0.Add(time.Duration(i)*time.Hour + time.Minute), Updated: t0,
			BBox: [4]float64{10, 40, 11, 41}, Footprint: json.RawMessage(`{"type":"MultiPolygon","coordinates":[[[[10,40],[11,40],[11,41],[10,41],[10,40]]]]}`)}
		if i == 1 {
			p.Footprint = json.RawMessage(`{"type":"MultiPolygon","coordinates":[[[[179,0],[180,0],[180,1],[179,0]]],[[[-180,0],[-179,0],[-180,1],[-180,0]]]]}`)
		}
		fb.products = append(fb.products, p)
	}
	return &Handler{Backend: fb, Collection: "VHR_IMAGE_2018", Title: "VHR Image 2018", BaseURL: "http://example.test",
		MaxCount: 50, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, fb
}

func get(h *Handler, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	return rec
}

func TestDescriptionGolden(t *testing.T) {
	h, _ := newHandler(0)
	rec := get(h, "/opensearch")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != osdType {
		t.Fatalf("status %d, %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	var doc struct {
		URLs []struct {
			Type     string `xml:"type,attr"`
			Template string `xml:"template,attr"`
		} `xml:"Url"`
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("description is not XML: %v", err)
	}
	if len(doc.URLs) != 3 || !strings.Contains(doc.URLs[0].Template, "{geo:box?}") || !strings.Contains(doc.URLs[1].Template, "{time:start?}") {
		t.Errorf("URL templates: %+v", doc.URLs)
	}
	golden.Check(t, "description.xml", rec.Body.Bytes())
}

func TestAtomResultsAndPaging(t *testing.T) {
	h, fb := newHandler(5)
	rec := get(h, "/opensearch/atom?bbox=9,39,12,42&start=2018-06-15&end=2018-06-16T00:00:00Z&cloudCover=[0,50]&count=2&startIndex=3")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != atomType {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if q := fb.last; q.BBox == nil || *q.BBox != [4]float64{9, 39, 12, 42} || q.Count != 2 || q.StartIndex != 3 ||
		!q.Start.Equal(time.Date(2018, 6, 15, 0, 0, 0, 0, time.UTC)) || q.CloudCover == nil || *q.CloudCover.Max != 50 {
		t.Errorf("backend got %+v", q)
	}
	var feed struct {
		Total   int `xml:"totalResults"`
		Start   int `xml:"startIndex"`
		PerPage int `xml:"itemsPerPage"`
		Links   []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Entries []struct {
			ID    string `xml:"identifier"`
			Date  string `xml:"date"`
			Poly  string `xml:"polygon"`
			Links []struct {
				Rel  string `xml:"rel,attr"`
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), &feed); err != nil {
		t.Fatalf("feed is not XML: %v\n%s", err, rec.Body)
	}
	if feed.Total != 5 || feed.Start != 3 || feed.PerPage != 2 || len(feed.Entries) != 2 || feed.Entries[0].ID != "PC" {
		t.Fatalf("feed: %+v", feed)
	}
	links := map[string]string{}
	for _, l := range feed.Links {
		links[l.Rel] = l.Href
	}
	for rel, start := range map[string]string{"first": "1", "previous": "1", "next": "5", "last": "5"} {
		u, err := url.Parse(links[rel])
		if err != nil || u.Query().Get("startIndex") != start || u.Query().Get("bbox") != "9,39,12,42" {
			t.Errorf("%s link %q, want startIndex=%s keeping the search", rel, links[rel], start)
		}
	}
	e := feed.Entries[0]
	if e.Date != "2018-06-15T12:00:00Z/2018-06-15T12:01:00Z" || e.Poly != "40 10 40 11 41 11 41 10 40 10" {
		t.Errorf("entry date %q polygon %q", e.Date, e.Poly)
	}
	byRel := map[string]string{}
	for _, l := range e.Links {
		byRel[l.Rel] = l.Href
	}
	wms, _ := url.Parse(byRel["alternate"])
	if wms == nil || wms.Query().Get("LAYERS") != "PC" || wms.Query().Get("BBOX") != "40,10,41,11" || wms.Query().Get("CRS") != "EPSG:4326" {
		t.Errorf("WMS link %q", byRel["alternate"])
	}
	wcs, _ := url.Parse(byRel["enclosure"])
	if wcs == nil || wcs.Query().Get("COVERAGEID") != "PC" || wcs.Query().Get("SERVICE") != "WCS" {
		t.Errorf("WCS link %q", byRel["enclosure"])
	}
	// The last page has no next link; a multipolygon is GML.
	rec = get(h, "/opensearch/atom?count=2&startIndex=5")
	if strings.Contains(rec.Body.String(), `rel="next"`) {
		t.Error("last page has a next link")
	}
	rec = get(h, "/opensearch/atom?count=1&startIndex=2")
	if !strings.Contains(rec.Body.String(), "<gml:MultiSurface") {
		t.Error("a two-part footprint is not written as a GML MultiSurface")
	}
}

func TestGeoJSONResults(t *testing.T) {
	h, _ := newHandler(3)
	rec := get(h, "/opensearch/json?uid=PB&count=10")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != jsonType {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var fc struct {
		Type         string `json:"type"`
		TotalResults int    `json:"totalResults"`
		Features     []struct {
			ID       string          `json:"id"`
			Geometry json.RawMessage `json:"geometry"`
			Props    struct {
				Date       string   `json:"date"`
				CloudCover *float64 `json:"cloudCover"`
				Links      map[string][]struct {
					Href string `json:"href"`
				} `json:"links"`
			} `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &fc); err != nil {
		t.Fatal(err)
	}
	if fc.Type != "FeatureCollection" || fc.TotalResults != 3 || len(fc.Features) != 3 {
		t.Fatalf("%+v", fc)
	}
	f := fc.Features[1]
	if f.ID != "PB" || f.Props.CloudCover == nil || *f.Props.CloudCover != 10 || !strings.Contains(string(f.Geometry), "MultiPolygon") ||
		len(f.Props.Links["alternates"]) != 1 || len(f.Props.Links["data"]) != 1 {
		t.Errorf("feature %+v", f)
	}
}

func TestBadParameters(t *testing.T) {
	h, _ := newHandler(1)
	for _, q := range []string{
		"bbox=1,2,3", "bbox=NaN,0,1,1", "bbox=0,50,1,40", "bbox=0,0,200,1",
		"geom=POLYGON((0 0,1 1", "geom=DROP TABLE products", "geom=POLYGON((0 0,1 1,1 0,0 1,0 0))",
		"lat=100&lon=0", "lat=10", "lat=1&lon=1&radius=-5",
		"start=yesterday", "start=2018-06-02&end=2018-06-01",
		"cloudCover=abc", "cloudCover=[50,10]", "cloudCover=[", "cloudCover={1,x}",
		"count=-1", "count=1000", "startIndex=0", "startPage=x",
		"uid=x&geom=POLYGON((0 0,1 0,1 1,0 0))&bbox=170,0,-170,1",
		"bbox=-1e300,-1e300,1e300,1e300", "bbox=0,0,Inf,1", "lat=1e300&lon=0", "lat=0&lon=0&radius=1e20",
		"geom=POLYGON((0 0,1e300 0,1e300 1,0 0))", "geom=POINT(1e20 0)", "geom=POINT(0 91)",
		"geom=POLYGON((0 0,NaN 0,1 1,0 0))", "geom=POINT(inf 0)", "geom=POINT(" + strings.Repeat("1", 100_001) + " 0)",
	} {
		for _, format := range []string{"atom", "json"} {
			u, err := url.ParseQuery(q)
			if err != nil {
				t.Fatal(err)
			}
			rec := get(h, "/opensearch/"+format+"?"+u.Encode())
			if rec.Code != 400 {
				t.Errorf("%s %s: status %d, want 400", format, q, rec.Code)
			}
		}
	}
	if rec := get(h, "/opensearch/nothing"); rec.Code != 404 {
		t.Errorf("unknown path: %d", rec.Code)
	}
}

func TestParseRange(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for in, want := range map[string]Range{
		"10":        {Set: []float64{10}},
		"{1,2,3}":   {Set: []float64{1, 2, 3}},
		"[10,20]":   {Min: f(10), Max: f(20)},
		"]10,20[":   {Min: f(10), Max: f(20), MinExclusive: true, MaxExclusive: true},
		"[10":       {Min: f(10)},
		"]10":       {Min: f(10), MinExclusive: true},
		"20]":       {Max: f(20)},
		"20[":       {Max: f(20), MaxExclusive: true},
		"[5.5,5.5]": {Min: f(5.5), Max: f(5.5)},
	} {
		got, err := ParseRange(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		eq := func(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
		if len(got.Set) != len(want.Set) || !eq(got.Min, want.Min) || !eq(got.Max, want.Max) ||
			got.MinExclusive != want.MinExclusive || got.MaxExclusive != want.MaxExclusive {
			t.Errorf("%s: got %+v, want %+v", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"bbox=1,2,3,4", "cloudCover=[1,2]", "start=2018-01-01&end=2018-02-01", "lat=1&lon=2&radius=3", "geom=POINT(1 2)", "count=5&startPage=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		q, err := Parse(v, 50)
		if err != nil {
			return
		}
		if q.Count < 0 || q.Count > 50 || q.StartIndex < 1 {
			t.Errorf("%q parsed to count %d startIndex %d", s, q.Count, q.StartIndex)
		}
		if q.BBox != nil && (q.BBox[1] > q.BBox[3] || q.BBox[0] > q.BBox[2]) {
			t.Errorf("%q parsed to bbox %v", s, q.BBox)
		}
		if c := q.CloudCover; c != nil && c.Min != nil && c.Max != nil && *c.Min > *c.Max {
			t.Errorf("%q parsed to cloud cover %+v", s, c)
		}
	})
}
