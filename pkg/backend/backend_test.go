package backend

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/crs"
	"github.com/pvs/pvs/pkg/layer"
	"github.com/pvs/pvs/pkg/opensearch"
	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/wcs"
	"github.com/pvs/pvs/pkg/wms"
)

// fakeCatalogue records the queries it is asked and answers from recs.
type fakeCatalogue struct {
	recs    []catalog.Record
	queries []catalog.Query
	counted []catalog.Query
}

func (f *fakeCatalogue) Get(_ context.Context, id string) (catalog.Record, error) {
	for _, r := range f.recs {
		if r.Identifier == id {
			return r, nil
		}
	}
	return catalog.Record{}, catalog.ErrNotFound
}

func (f *fakeCatalogue) Find(_ context.Context, q catalog.Query) ([]catalog.Record, error) {
	f.queries = append(f.queries, q)
	return f.recs, nil
}

func (f *fakeCatalogue) Count(_ context.Context, q catalog.Query) (int64, error) {
	f.counted = append(f.counted, q)
	return int64(len(f.recs)), nil
}

func (f *fakeCatalogue) Collection(_ context.Context, name string) (catalog.Summary, error) {
	return catalog.Summary{Name: name}, nil
}

var (
	t0 = time.Date(2018, 6, 15, 10, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Minute)
)

func sample() *fakeCatalogue {
	return &fakeCatalogue{recs: []catalog.Record{{
		Identifier: "P1", Collection: "C", ProductType: "T", BeginTime: t0, EndTime: t1,
		BBox: [4]float64{10, 40, 11, 41}, FootprintGeoJSON: `{"type":"Polygon","coordinates":[]}`,
		Properties: map[string]any{"cloudCover": 12.5},
		Coverages: []catalog.Coverage{{Location: "C/P1/P1.tif", CRS: "EPSG:32632", Width: 100, Height: 50,
			Bands: []catalog.Band{{DataType: "UInt16", Color: "Red"}}}},
	}}}
}

func newOGC(f *fakeCatalogue) OGC {
	return OGC{Catalog: layer.Catalog{Extents: Extents{f}, Collections: []config.Collection{{Name: "C",
		Browses: []config.Browse{{Name: "TRUE_COLOR"}}}}}, Products: f}
}

func TestFeatureInfoQueriesAPointBoxInWGS84(t *testing.T) {
	f := sample()
	c, err := crs.Parse("EPSG:4326")
	if err != nil {
		t.Fatal(err)
	}
	m := wms.MapRequest{Layer: layer.Layer{Collection: "C"}, CRS: c,
		Times: []period.Period{{Start: t0, End: t1}}}
	got, err := newOGC(f).FeatureInfo(context.Background(), m, [2]float64{10.5, 40.5}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Identifier != "P1" || got[0].Properties["cloudCover"] != "12.5" {
		t.Fatalf("features = %+v", got)
	}
	q := f.queries[0]
	if q.Collection != "C" || q.Limit != 3 || len(q.Times) != 1 || !q.Times[0].Start.Equal(t0) {
		t.Fatalf("query = %+v", q)
	}
	b := *q.BBox
	if b[0] >= b[2] || b[1] >= b[3] || b[0] > 10.5 || b[2] < 10.5 || b[2]-b[0] > 1e-6 {
		t.Fatalf("point box %v is not a tiny box around the point", b)
	}
}

func TestSearchCountsOnlyWhenNoProductIsAsked(t *testing.T) {
	f := sample()
	o := newOGC(f)
	ps, total, err := o.Search(context.Background(), opensearch.Query{Count: 0, StartIndex: 1})
	if err != nil || total != 1 || len(ps) != 0 || len(f.queries) != 0 {
		t.Fatalf("count only: %v %d %v, %d finds", ps, total, err, len(f.queries))
	}
	ps, total, err = o.Search(context.Background(), opensearch.Query{Count: 10, StartIndex: 21, ProductType: "T"})
	if err != nil || total != 1 || len(ps) != 1 || ps[0].Identifier != "P1" {
		t.Fatalf("search: %v %d %v", ps, total, err)
	}
	if q := f.queries[0]; q.Offset != 20 || q.Limit != 10 || q.ProductType != "T" || q.Collection != "C" {
		t.Fatalf("query = %+v", q)
	}
}

func TestCoverageOfUnknownProductIsNotFound(t *testing.T) {
	o := newOGC(sample())
	if _, err := o.Coverage(context.Background(), "nope"); !errors.Is(err, wcs.ErrNotFound) {
		t.Fatalf("err = %v, want wcs.ErrNotFound", err)
	}
	c, err := o.Coverage(context.Background(), "P1")
	if err != nil || c.Width != 100 || c.Location != "C/P1/P1.tif" || len(c.Bands) != 1 || c.Bands[0].DataType != "UInt16" {
		t.Fatalf("coverage = %+v, %v", c, err)
	}
}

func TestProductLayerUsesTheCollectionsFirstBrowse(t *testing.T) {
	o := newOGC(sample())
	l, ok, err := o.ProductLayer(context.Background(), "P1")
	if err != nil || !ok || l.Browse.Name != "TRUE_COLOR" || l.Identifier != "P1" || !l.Start.Equal(t0) {
		t.Fatalf("layer = %+v %v %v", l, ok, err)
	}
	if _, ok, err := o.ProductLayer(context.Background(), "nope"); ok || err != nil {
		t.Fatalf("unknown product: ok=%v err=%v", ok, err)
	}
}

func TestHasIntervalMatchesExactly(t *testing.T) {
	iv := Intervals{sample()}
	ok, err := iv.HasInterval(context.Background(), "C", "", period.Period{Start: t0, End: t1})
	if err != nil || !ok {
		t.Fatalf("exact interval: %v %v", ok, err)
	}
	ok, err = iv.HasInterval(context.Background(), "C", "", period.Period{Start: t0, End: t1.Add(time.Second)})
	if err != nil || ok {
		t.Fatalf("other interval: %v %v", ok, err)
	}
}
