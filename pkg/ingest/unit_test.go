package ingest

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/metadata"
	"github.com/pvs/pvs/pkg/preprocess"
	"github.com/pvs/pvs/pkg/store"
)

var testColl = config.Collection{Name: "VHR_IMAGE_2018", ProductTypes: []config.ProductType{{Name: "VHR_OPTICAL"}, {Name: "PHR_MS___2A"}}}

func TestLayoutPackages(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	obj := func(k string, size int64, sec int) store.Object {
		return store.Object{Key: k, Size: size, ModTime: t0.Add(time.Duration(sec) * time.Second)}
	}
	objs := []store.Object{
		obj("in/a.tar", 10, 1), obj("in/a.tar.done", 0, 2), obj("in/b.zip", 20, 3), obj("in/c.txt", 5, 4),
		obj("in/d/x.tif", 7, 5), obj("in/d/y.xml", 3, 9), obj("in/e/_SUCCESS", 0, 6), obj("in/e/z.tif", 1, 7), obj("in/top.tif", 1, 8),
	}
	tests := []struct {
		name   string
		layout Layout
		want   []string // path:marked
	}{
		{"objects by glob", Layout{Prefix: "in/", Include: []string{"*.tar", "*.zip"}}, []string{"in/a.tar:true", "in/b.zip:true"}},
		{"objects with a marker suffix", Layout{Prefix: "in/", Include: []string{"*.tar", "*.zip"}, Marker: ".done"}, []string{"in/a.tar:true", "in/b.zip:false"}},
		{"every object", Layout{Prefix: "in/d/"}, []string{"in/d/x.tif:true", "in/d/y.xml:true"}},
		{"directories", Layout{Prefix: "in", Directories: true, Depth: 1}, []string{"in/d:true", "in/e:true"}},
		{"directories with a marker", Layout{Prefix: "in/", Directories: true, Depth: 1, Marker: "_SUCCESS"}, []string{"in/d:false", "in/e:true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range tc.layout.Packages(objs) {
				got = append(got, p.Path+":"+map[bool]string{true: "true", false: "false"}[p.Marked])
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	d := Layout{Prefix: "in/", Directories: true}.Packages(objs)[0]
	if d.Size != 10 || d.Objects != 2 || !d.ModTime.Equal(t0.Add(9*time.Second)) {
		t.Errorf("directory package in/d: size %d, %d objects, time %s; want 10, 2, the latest", d.Size, d.Objects, d.ModTime)
	}
}

func TestDocumentCheck(t *testing.T) {
	t.Parallel()
	square := json.RawMessage(`{"type":"Polygon","coordinates":[[[1,2],[2,2],[2,3],[1,3],[1,2]]]}`)
	tests := []struct {
		name string
		doc  Document
		want string // "" for valid
	}{
		{"path alone", Document{Path: "in/a.tar"}, ""},
		{"full", Document{Path: "in/a.tif", Identifier: "A", ProductType: "VHR_OPTICAL", BeginTime: "2018-06-15T10:00:00Z", EndTime: "2018-06-15T10:00:09Z", Footprint: square}, ""},
		{"no path", Document{Identifier: "A"}, "path is empty"},
		{"absolute path", Document{Path: "/etc/passwd"}, "without a leading /"},
		{"dot-dot", Document{Path: "in/../x"}, ".. segment"},
		{"URL", Document{Path: "s3://b/k"}, "not a URL"},
		{"identifier with slash", Document{Path: "a", Identifier: "x/y"}, "path separator"},
		{"unknown product type", Document{Path: "a", ProductType: "S2MSI1C"}, `product_type "S2MSI1C" is not one of collection VHR_IMAGE_2018 (it lists VHR_OPTICAL, PHR_MS___2A)`},
		{"bad time", Document{Path: "a", BeginTime: "yesterday"}, "begin_time: invalid time"},
		{"end before begin", Document{Path: "a", BeginTime: "2018-06-15T10:00:00Z", EndTime: "2018-06-14T10:00:00Z"}, "is before begin_time"},
		{"point footprint", Document{Path: "a", Footprint: json.RawMessage(`{"type":"Point","coordinates":[1,2]}`)}, "footprint: footprint must be a GeoJSON Polygon"},
		{"footprint out of range", Document{Path: "a", Footprint: json.RawMessage(`{"type":"Polygon","coordinates":[[[1,2],[200,2],[2,3],[1,2]]]}`)}, "outside lon/lat range"},
		{"properties", Document{Path: "a", Properties: metadata.PropertyMap{"platform": "PHR1A", "cloudCover": "12.5", "constellation": "pleiades",
			"parentIdentifier": "VHR_IMAGE_2018/PHR"}}, ""},
		{"cloud cover over 100", Document{Path: "a", Properties: metadata.PropertyMap{"cloudCover": "101"}}, `property cloudCover "101" is not a percentage`},
		{"misspelt property", Document{Path: "a", Properties: metadata.PropertyMap{"cloud_cover": "3"}}, "spelled cloudCover"},
		{"parent of another collection", Document{Path: "a", Properties: metadata.PropertyMap{"parentIdentifier": "Emergency/DM02"}},
			"product a belongs to collection Emergency (parentIdentifier Emergency/DM02), not VHR_IMAGE_2018; enqueue it to the Emergency deployment"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.doc.Check(testColl)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// The documents the ingestor pushes are read by the preprocessor, which
// refuses unknown fields: both must agree on the format.
func TestDocumentIsPreprocessorItem(t *testing.T) {
	t.Parallel()
	d := Document{Path: "in/a.tif", Identifier: "A", ProductType: "VHR_OPTICAL", BeginTime: "2018-06-15T10:00:00Z",
		EndTime: "2018-06-15T10:00:09Z", Footprint: json.RawMessage(`{"type": "Polygon",
		"coordinates": [[[1,2],[2,2],[2,3],[1,3],[1,2]]]}`), Properties: metadata.PropertyMap{"platform": "PHR1A", "cloudCover": "12.5"}}
	r := d.Request("test")
	if r.Queue != MetadataQueue || strings.Contains(r.Item, "\n") {
		t.Fatalf("request %+v: want one compact line on %s", r, MetadataQueue)
	}
	var md preprocess.MDItem
	dec := json.NewDecoder(strings.NewReader(r.Item))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&md); err != nil {
		t.Fatalf("the preprocessor refuses %s: %v", r.Item, err)
	}
	if md.Path != d.Path || md.Identifier != "A" || md.BeginTime != d.BeginTime || md.EndTime != d.EndTime || md.ProductType != "VHR_OPTICAL" ||
		md.Properties["platform"] != "PHR1A" || md.Properties["cloudCover"] != "12.5" {
		t.Errorf("preprocessor reads %+v from %s", md, r.Item)
	}
	if p := (Document{Path: "in/a.tif", Properties: metadata.PropertyMap{"platform": "PHR1A"}}).Request("test"); p.Queue != MetadataQueue {
		t.Errorf("a document with properties alone goes to %s, want %s", p.Queue, MetadataQueue)
	}
	// Properties may be numbers; the top level stays strict.
	if d, err := ParseDocument([]byte(`{"path":"a","properties":{"cloudCover":3,"platform":"PHR1A"}}`)); err != nil || d.Properties["cloudCover"] != "3" {
		t.Errorf("numeric property: %+v, %v", d, err)
	}
	if _, err := ParseDocument([]byte(`{"path":"a","properties":{"bands":[1,2]}}`)); err == nil || !strings.Contains(err.Error(), `property "bands"`) {
		t.Errorf("array property: %v", err)
	}
	if p := (Document{Path: "in/a.tar"}).Request("test"); p.Queue != PackageQueue || p.Item != "in/a.tar" {
		t.Errorf("a bare path goes to %s as %q, want preprocess_queue as itself", p.Queue, p.Item)
	}
	if p := (Document{Path: "in/S2A.SAFE/"}).Request("test"); p.Path != "in/S2A.SAFE" || p.Item != "in/S2A.SAFE" {
		t.Errorf("a directory with its slash: %+v, want the path without it", p)
	}
	if _, err := ParseDocument([]byte(`{"path":"a","cloud":3}`)); err == nil || !strings.Contains(err.Error(), `unknown field "cloud"`) {
		t.Errorf("unknown field: %v", err)
	}
}

func TestItemDocument(t *testing.T) {
	t.Parallel()
	hrefs, base, err := SourceHrefs("s3://incoming/pre")
	if err != nil {
		t.Fatal(err)
	}
	hrefs.Prefixes = append(hrefs.Prefixes, "https://s3.example.com/incoming/pre/")
	pol := itemPolicy{Hrefs: hrefs}
	itemAt, _ := url.Parse(base.String() + "stac/items/A.json")
	item := func(props string, assets string) *stacDoc {
		var d stacDoc
		raw := `{"type":"Feature","id":"A","geometry":{"type":"Polygon","coordinates":[[[1,2],[2,2],[2,3],[1,3],[1,2]]]},"properties":` + props + `,"assets":` + assets + `}`
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			t.Fatal(err)
		}
		return &d
	}
	tests := []struct {
		name, props, assets string
		path, begin, end    string
		err                 string
	}{
		{"relative data asset", `{"datetime":"2018-06-15T10:00:00Z"}`, `{"thumb":{"href":"t.png","type":"image/png"},"data":{"href":"../../data/A.tif","roles":["data"]}}`, "data/A.tif", "2018-06-15T10:00:00Z", "2018-06-15T10:00:00Z", ""},
		{"s3 href and a time range", `{"datetime":null,"start_datetime":"2018-06-15T10:00:00Z","end_datetime":"2018-06-15T10:01:00Z"}`, `{"img":{"href":"s3://incoming/pre/x/A.tif","type":"image/tiff; application=geotiff"}}`, "x/A.tif", "2018-06-15T10:00:00Z", "2018-06-15T10:01:00Z", ""},
		{"configured https prefix", `{"datetime":"2018-06-15T10:00:00Z"}`, `{"d":{"href":"https://s3.example.com/incoming/pre/y/A.tar","roles":["data"]}}`, "y/A.tar", "2018-06-15T10:00:00Z", "2018-06-15T10:00:00Z", ""},
		{"vsis3 href", `{"datetime":"2018-06-15T10:00:00Z"}`, `{"d":{"href":"/vsis3/incoming/pre/z/A.tif","roles":["data"]}}`, "z/A.tif", "", "", ""},
		{"other bucket", `{"datetime":"2018-06-15T10:00:00Z"}`, `{"d":{"href":"s3://other/pre/A.tif","roles":["data"]}}`, "", "", "", "not in the source store"},
		{"no time", `{}`, `{"d":{"href":"A.tif","roles":["data"]}}`, "", "", "", "no datetime"},
		{"no usable asset", `{"datetime":"2018-06-15T10:00:00Z"}`, `{"t":{"href":"A.png","type":"image/png"}}`, "", "", "", "no asset with role data"},
	}
	tests = append(tests, struct {
		name, props, assets string
		path, begin, end    string
		err                 string
	}{"bad cloud cover", `{"datetime":"2018-06-15T10:00:00Z","eo:cloud_cover":"cloudy"}`, `{"d":{"href":"A.tif","roles":["data"]}}`, "", "", "", "eo:cloud_cover cloudy is not a percentage"})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := pol.document(item(tc.props, tc.assets), itemAt)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %+v, %v; want error %q", d, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Path != tc.path || d.Identifier != "A" || len(d.Footprint) == 0 {
				t.Errorf("document %+v, want path %s", d, tc.path)
			}
			if tc.begin != "" && (d.BeginTime != tc.begin || d.EndTime != tc.end) {
				t.Errorf("times %s/%s, want %s/%s", d.BeginTime, d.EndTime, tc.begin, tc.end)
			}
		})
	}
}

// STAC item properties become the EO properties of the md document.
func TestEOProperties(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		props string
		want  map[string]string // nil: no properties
		err   string
	}{
		{"none", `{"datetime":"2018-06-15T10:00:00Z","gsd":0.5}`, nil, ""},
		{"Pleiades as a STAC catalogue names it", `{"platform":"pleiades-1a","constellation":"pleiades","instruments":["phr"],
			"eo:cloud_cover":12.5,"sat:orbit_state":"descending","sat:absolute_orbit":12345}`,
			map[string]string{"platform": "pleiades-1a", "constellation": "pleiades", "instrument": "phr", "cloudCover": "12.5",
				"orbitDirection": "DESCENDING", "orbitNumber": "12345"}, ""},
		{"platform as given", `{"platform":"PHR1A","eo:cloud_cover":0}`, map[string]string{"platform": "PHR1A", "cloudCover": "0"}, ""},
		{"constellation stands for a missing platform", `{"constellation":"sentinel-2"}`,
			map[string]string{"platform": "sentinel-2", "constellation": "sentinel-2"}, ""},
		{"several instruments", `{"instruments":["olci","slstr"]}`, map[string]string{"instrument": "olci,slstr"}, ""},
		{"ascending", `{"sat:orbit_state":"ascending"}`, map[string]string{"orbitDirection": "ASCENDING"}, ""},
		{"geostationary has no orbit direction", `{"sat:orbit_state":"geostationary","platform":"msg-4"}`, map[string]string{"platform": "msg-4"}, ""},
		{"nulls", `{"platform":null,"eo:cloud_cover":null,"instruments":null}`, nil, ""},
		{"cloud cover as text", `{"eo:cloud_cover":"12"}`, nil, "property eo:cloud_cover 12 is not a percentage"},
		{"cloud cover over 100", `{"eo:cloud_cover":120}`, nil, "property eo:cloud_cover 120 is not a percentage"},
		{"orbit with a fraction", `{"sat:absolute_orbit":1.5}`, nil, "property sat:absolute_orbit 1.5 is not an orbit number"},
		{"platform not a string", `{"platform":7}`, nil, "property platform is not a string"},
		{"instruments not a list", `{"instruments":"phr"}`, nil, "property instruments is not a list of strings"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var props map[string]any
			if err := json.Unmarshal([]byte(tc.props), &props); err != nil {
				t.Fatal(err)
			}
			got, err := eoProperties(props)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil && got != nil || len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if err := metadata.CheckProperties(got); err != nil {
				t.Errorf("the preprocessor refuses what the harvester makes: %v", err)
			}
		})
	}
}

// The harvester's product type wins over the item's; the item's
// properties ride along in the document.
func TestItemDocumentProperties(t *testing.T) {
	t.Parallel()
	hrefs, base, err := SourceHrefs("s3://incoming/pre")
	if err != nil {
		t.Fatal(err)
	}
	itemAt, _ := url.Parse(base.String() + "stac/items/A.json")
	var item stacDoc
	raw := `{"type":"Feature","id":"A","geometry":null,"assets":{"d":{"href":"A.tif","roles":["data"]}},
		"properties":{"datetime":"2018-06-15T10:00:00Z","product:type":"PHR_MS___2A","platform":"PHR1A","eo:cloud_cover":7}}`
	if err := json.Unmarshal([]byte(raw), &item); err != nil {
		t.Fatal(err)
	}
	d, err := itemPolicy{Hrefs: hrefs}.document(&item, itemAt)
	if err != nil {
		t.Fatal(err)
	}
	if d.ProductType != "PHR_MS___2A" || d.Properties["platform"] != "PHR1A" || d.Properties["cloudCover"] != "7" {
		t.Errorf("document %+v", d)
	}
	d, err = itemPolicy{Hrefs: hrefs, ProductType: "VHR_OPTICAL"}.document(&item, itemAt)
	if err != nil || d.ProductType != "VHR_OPTICAL" {
		t.Errorf("configured product type: %+v, %v; want VHR_OPTICAL", d, err)
	}
	if err := d.Check(testColl); err != nil {
		t.Errorf("document refused: %v", err)
	}
}
