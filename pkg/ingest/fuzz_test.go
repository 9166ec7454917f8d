package ingest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pvs/pvs/pkg/preprocess"
)

// FuzzDocument feeds the endpoint's parser what a client may send: it
// never panics, and a document it accepts becomes an item the
// preprocessor reads back with the same path.
func FuzzDocument(f *testing.F) {
	for _, s := range []string{
		`{"path":"in/a.tar"}`,
		`{"path":"in/a.tif","identifier":"A","begin_time":"2018-06-15T10:00:00Z","end_time":"2018-06-15T10:00:09Z","footprint":{"type":"Polygon","coordinates":[[[1,2],[2,2],[2,3],[1,3],[1,2]]]}}`,
		`{"path":"in/a.tif","product_type":"VHR_OPTICAL","properties":{"platform":"PHR1A","cloudCover":12.5,"orbitNumber":7,"constellation":"pleiades"}}`,
		`{"path":"in/a.tif","properties":{"bands":[1]}}`, `{"path":"in/a.tif","properties":{"cloudCover":"101"}}`,
		`{"path":"in/../a"}`, `{"path":"a","footprint":{"type":"MultiPolygon","coordinates":[]}}`, `[]`, `{"path":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := ParseDocument(raw)
		if err != nil || d.Check(testColl) != nil {
			return
		}
		r := d.Request("fuzz")
		// A directory package is one path, with or without its slash.
		path := strings.TrimSuffix(d.Path, "/")
		if r.Path != path || strings.ContainsAny(r.Item, "\n\r") && r.Queue == MetadataQueue {
			t.Fatalf("request %+v from %+v", r, d)
		}
		if r.Queue == PackageQueue {
			return
		}
		var md preprocess.MDItem
		dec := json.NewDecoder(strings.NewReader(r.Item))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&md); err != nil || md.Path != path || len(md.Properties) != len(d.Properties) {
			t.Fatalf("the preprocessor reads %q as %+v, %v", r.Item, md, err)
		}
		for k, v := range d.Properties {
			if md.Properties[k] != v {
				t.Fatalf("the preprocessor reads property %s of %q as %q", k, r.Item, md.Properties[k])
			}
		}
	})
}
