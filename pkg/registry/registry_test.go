package registry_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/registry"
)

func open(t *testing.T) *registry.Registry {
	t.Helper()
	url := testenv.Database(t)
	r, err := registry.Open(context.Background(), url)
	testenv.Must(t, err, "open")
	t.Cleanup(r.Close)
	_, err = r.Migrate(context.Background())
	testenv.Must(t, err, "migrate")
	testenv.Must(t, r.EnsureCollection(context.Background(), "C", "Collection C", []string{"T"}, []string{"TRUE_COLOR"}), "collection")
	return r
}

func square(x, y, d float64) string {
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]}`, x, y, x+d, y, x+d, y+d, x, y+d, x, y)
}

func product(id string, day int, x, y float64) catalog.Product {
	t0 := time.Date(2018, 6, day, 10, 0, 0, 0, time.UTC)
	return catalog.Product{Identifier: id, Collection: "C", ProductType: "T", BeginTime: t0, EndTime: t0.Add(time.Minute),
		FootprintGeoJSON: square(x, y, 1), Metadata: map[string]any{"platform": "X"},
		Coverages: []catalog.Coverage{{Name: id, Location: "C/" + id + "/" + id + ".tif", CRS: "EPSG:4326", Width: 10, Height: 10,
			GeoTransform: [6]float64{x, 0.1, 0, y + 1, 0, -0.1}, Bands: []catalog.Band{{Index: 1, DataType: "Byte", Color: "Gray"}}}}}
}

func TestMigrateIsIdempotentAndSafeConcurrently(t *testing.T) {
	testenv.Require(t)
	url := testenv.Database(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	applied := make(chan int, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := registry.Open(context.Background(), url)
			if err != nil {
				errs <- err
				return
			}
			defer r.Close()
			v, err := r.Migrate(context.Background())
			if err != nil {
				errs <- err
			}
			applied <- len(v)
		}()
	}
	wg.Wait()
	close(errs)
	close(applied)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	for n := range applied {
		total += n
	}
	files, _ := filepath.Glob("migrations/*.sql")
	if total != len(files) {
		t.Errorf("%d migrations applied in all, want each of the %d once", total, len(files))
	}
}

func TestRegisterFindReplaceDeregister(t *testing.T) {
	r := open(t)
	ctx := context.Background()
	_, err := r.Register(ctx, product("A", 1, 10, 40), true)
	testenv.Must(t, err, "register A")
	_, err = r.Register(ctx, product("B", 2, 10.5, 40.5), true)
	testenv.Must(t, err, "register B")
	_, err = r.Register(ctx, product("FAR", 3, 100, -10), true)
	testenv.Must(t, err, "register FAR")

	recs, err := r.Find(ctx, catalog.Query{Collection: "C", BBox: &[4]float64{10.2, 40.2, 10.8, 40.8}})
	testenv.Must(t, err, "find")
	if ids(recs) != "B,A" {
		t.Errorf("bbox query = %s, want newest first B,A", ids(recs))
	}
	if len(recs[0].Coverages) != 1 || recs[0].Coverages[0].Location != "C/B/B.tif" || recs[0].Coverages[0].GeoTransform[1] != 0.1 {
		t.Errorf("coverage = %+v", recs[0].Coverages)
	}
	recs, _ = r.Find(ctx, catalog.Query{Collection: "C", Start: time.Date(2018, 6, 1, 10, 0, 30, 0, time.UTC), End: time.Date(2018, 6, 1, 10, 0, 30, 0, time.UTC)})
	if ids(recs) != "A" {
		t.Errorf("instant inside A = %s", ids(recs))
	}
	recs, _ = r.Find(ctx, catalog.Query{Collection: "C", Start: time.Date(2018, 6, 2, 0, 0, 0, 0, time.UTC), End: time.Date(2018, 6, 30, 0, 0, 0, 0, time.UTC), Limit: 1})
	if ids(recs) != "FAR" {
		t.Errorf("range with limit 1 = %s", ids(recs))
	}

	s, err := r.Collection(ctx, "C")
	testenv.Must(t, err, "summary")
	if s.ProductCount != 3 || s.BBox == nil || *s.BBox != [4]float64{10, -10, 101, 41.5} ||
		!s.BeginTime.Equal(time.Date(2018, 6, 1, 10, 0, 0, 0, time.UTC)) || !s.EndTime.Equal(time.Date(2018, 6, 3, 10, 1, 0, 0, time.UTC)) {
		t.Errorf("summary = %+v bbox %v", s, s.BBox)
	}

	// Re-registration: replace updates in place, no-replace fails clearly.
	moved := product("A", 5, 20, 20)
	res, err := r.Register(ctx, moved, true)
	testenv.Must(t, err, "replace A")
	if !res.Replaced || res.Previous == nil || res.Previous.BBox != [4]float64{10, 40, 11, 41} {
		t.Errorf("replace result = %+v", res)
	}
	// Without replace, the same product again is a redelivery; another one
	// under the identifier is refused.
	if res, err := r.Register(ctx, moved, false); err != nil || !res.Unchanged || res.Replaced {
		t.Errorf("no-replace redelivery: %+v, %v, want unchanged", res, err)
	}
	if _, err := r.Register(ctx, product("A", 6, 30, 30), false); !errors.Is(err, catalog.ErrExists) {
		t.Errorf("no-replace registration of another product: %v, want ErrExists", err)
	}
	got, err := r.Get(ctx, "A")
	testenv.Must(t, err, "get A")
	if got.BBox != [4]float64{20, 20, 21, 21} || len(got.Coverages) != 1 {
		t.Errorf("replaced A = %+v", got)
	}

	// Deregistration updates the summary.
	_, err = r.Deregister(ctx, "FAR")
	testenv.Must(t, err, "deregister FAR")
	s, _ = r.Collection(ctx, "C")
	if s.ProductCount != 2 || *s.BBox != [4]float64{10.5, 20, 21, 41.5} || !s.EndTime.Equal(time.Date(2018, 6, 5, 10, 1, 0, 0, time.UTC)) {
		t.Errorf("summary after deregistration = %+v bbox %v", s, *s.BBox)
	}
	for _, id := range []string{"A", "B"} {
		_, err := r.Deregister(ctx, id)
		testenv.Must(t, err, "deregister %s", id)
	}
	s, _ = r.Collection(ctx, "C")
	if s.ProductCount != 0 || s.BBox != nil || s.BeginTime != nil {
		t.Errorf("summary of an empty collection = %+v", s)
	}
}

func TestRegisterRejectsBadInput(t *testing.T) {
	r := open(t)
	ctx := context.Background()
	p := product("X", 1, 0, 0)
	p.Collection = "UNKNOWN"
	if _, err := r.Register(ctx, p, true); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("unknown collection: %v", err)
	}
	p = product("X", 1, 0, 0)
	p.EndTime = p.BeginTime.Add(-time.Hour)
	if _, err := r.Register(ctx, p, true); err == nil || !strings.Contains(err.Error(), "end time is before begin time") {
		t.Errorf("end before begin: %v", err)
	}
	p = product("X", 1, 0, 0)
	p.FootprintGeoJSON = `{"type":"Polygon","coordinates":[[[0,0],[1]]]}`
	if _, err := r.Register(ctx, p, true); err == nil {
		t.Error("broken footprint accepted")
	}
	// A self-intersecting bow tie is repaired, not refused.
	p = product("BOWTIE", 1, 0, 0)
	p.FootprintGeoJSON = `{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`
	if _, err := r.Register(ctx, p, true); err != nil {
		t.Errorf("bow tie: %v", err)
	}
	if got, err := r.Get(ctx, "BOWTIE"); err != nil || got.BBox != [4]float64{0, 0, 1, 1} {
		t.Errorf("repaired bow tie = %+v, %v", got, err)
	}
}

func TestConcurrentRegistrationsOfOneProduct(t *testing.T) {
	r := open(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.Register(ctx, product("SAME", 1, 0, 0), true); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	recs, _ := r.Find(ctx, catalog.Query{Collection: "C"})
	if len(recs) != 1 || len(recs[0].Coverages) != 1 {
		t.Errorf("%d products, %d coverages after concurrent registrations", len(recs), len(recs[0].Coverages))
	}
}

func ids(recs []catalog.Record) string {
	var s []string
	for _, r := range recs {
		s = append(s, r.Identifier)
	}
	return strings.Join(s, ",")
}

func TestAntimeridianFootprintIsSplitAndFoundFromBothSides(t *testing.T) {
	r := open(t)
	ctx := context.Background()
	p := product("FIJI", 1, 0, 0)
	// An unwrapped ring from 179°E to 179°W (181°).
	p.FootprintGeoJSON = `{"type":"Polygon","coordinates":[[[179,-17],[181,-17],[181,-16],[179,-16],[179,-17]]]}`
	reg, err := r.Register(ctx, p, true)
	testenv.Must(t, err, "register")
	if reg.BBox != [4]float64{-180, -17, 180, -16} {
		t.Errorf("stored bbox = %v, want split parts spanning ±180", reg.BBox)
	}
	for name, bbox := range map[string][4]float64{"east side": {179.5, -16.8, 179.9, -16.2}, "west side": {-179.9, -16.8, -179.5, -16.2}} {
		recs, err := r.Find(ctx, catalog.Query{Collection: "C", BBox: &bbox})
		testenv.Must(t, err, "find")
		if ids(recs) != "FIJI" {
			t.Errorf("%s: found %q", name, ids(recs))
		}
	}
	// The split leaves the rest of the world out.
	recs, _ := r.Find(ctx, catalog.Query{Collection: "C", BBox: &[4]float64{-10, -17, 10, -16}})
	if len(recs) != 0 {
		t.Errorf("a query at 0° found %s", ids(recs))
	}
	var parts int
	testenv.Must(t, r.Pool().QueryRow(ctx, "SELECT ST_NumGeometries(footprint) FROM products WHERE identifier = 'FIJI'").Scan(&parts), "parts")
	if parts != 2 {
		t.Errorf("footprint has %d parts, want 2", parts)
	}
}

func TestFindByBBoxInAnotherCRS(t *testing.T) {
	r := open(t)
	ctx := context.Background()
	_, err := r.Register(ctx, product("A", 1, 10, 40), true)
	testenv.Must(t, err, "register")
	// Web Mercator around lon 10.5, lat 40.5.
	recs, err := r.Find(ctx, catalog.Query{Collection: "C", BBox: &[4]float64{1150000, 4930000, 1190000, 4960000}, BBoxCRS: 3857})
	testenv.Must(t, err, "find")
	if ids(recs) != "A" {
		t.Errorf("EPSG:3857 query found %q", ids(recs))
	}
	recs, _ = r.Find(ctx, catalog.Query{Collection: "C", BBox: &[4]float64{0, 0, 100000, 100000}, BBoxCRS: 3857})
	if len(recs) != 0 {
		t.Errorf("EPSG:3857 query far away found %q", ids(recs))
	}
}

func TestBatchFailsProductsAlone(t *testing.T) {
	r := open(t)
	ctx := context.Background()
	good := product("GOOD", 1, 0, 0)
	bad := product("BAD", 1, 0, 0)
	bad.EndTime = bad.BeginTime.Add(-time.Second)
	flat := product("FLAT", 1, 0, 0)
	flat.FootprintGeoJSON = `{"type":"Polygon","coordinates":[[[0,0],[1,1],[2,2],[0,0]]]}`
	res, err := r.RegisterBatch(ctx, []catalog.Product{good, bad, flat, product("GOOD2", 2, 5, 5)}, true)
	testenv.Must(t, err, "batch")
	if res[0].Err != nil || res[3].Err != nil {
		t.Errorf("good products failed: %v %v", res[0].Err, res[3].Err)
	}
	if !errors.Is(res[1].Err, catalog.ErrInvalid) || !strings.Contains(res[1].Err.Error(), "end time is before begin time") {
		t.Errorf("bad times: %v", res[1].Err)
	}
	if !errors.Is(res[2].Err, catalog.ErrInvalid) || !strings.Contains(res[2].Err.Error(), "no area") {
		t.Errorf("flat footprint: %v", res[2].Err)
	}
	s, _ := r.Collection(ctx, "C")
	if s.ProductCount != 2 || *s.BBox != [4]float64{0, 0, 6, 6} {
		t.Errorf("summary = %d products, bbox %v", s.ProductCount, *s.BBox)
	}
}

func TestFindWithATimeList(t *testing.T) {
	r := open(t)
	ctx := context.Background()
	for i, id := range []string{"D1", "D2", "D3"} {
		_, err := r.Register(ctx, product(id, i+1, 0, 0), true)
		testenv.Must(t, err, "register")
	}
	day := func(d int) time.Time { return time.Date(2018, 6, d, 10, 0, 30, 0, time.UTC) }
	recs, err := r.Find(ctx, catalog.Query{Collection: "C", Times: []period.Period{{Start: day(1), End: day(1)}, {Start: day(3), End: day(4)}}})
	testenv.Must(t, err, "find")
	if ids(recs) != "D3,D1" {
		t.Errorf("time list found %q, want D3,D1", ids(recs))
	}
}

func TestSearchFiltersPagingAndCount(t *testing.T) {
	r := open(t)
	ctx := context.Background()
	cc := func(v float64) *float64 { return &v }
	for i, p := range []struct {
		id, ptype, platform string
		x, y                float64
		cloud               *float64
	}{
		{"S1", "T", "PHR", 10, 40, cc(5)},
		{"S2", "T", "SPOT", 10.5, 40.5, cc(20)},
		{"S3", "U", "PHR", 30, -5, cc(50)},
		{"S4", "T", "PHR", 10.2, 40.1, nil},
	} {
		pr := product(p.id, i+1, p.x, p.y)
		pr.ProductType, pr.Properties.Platform, pr.Properties.CloudCover = p.ptype, p.platform, p.cloud
		if p.ptype == "U" {
			testenv.Must(t, r.EnsureCollection(ctx, "C", "Collection C", []string{"T", "U"}, nil), "types")
		}
		_, err := r.Register(ctx, pr, true)
		testenv.Must(t, err, "register %s", p.id)
	}
	lo, hi := 10.0, 20.0
	for name, c := range map[string]struct {
		q    catalog.Query
		want string
	}{
		"all newest first":            {catalog.Query{}, "S4,S3,S2,S1"},
		"page 2 of size 2":            {catalog.Query{Limit: 2, Offset: 2}, "S2,S1"},
		"geometry":                    {catalog.Query{GeometryWKT: "POLYGON((29 -6,31 -6,31 -4,29 -4,29 -6))"}, "S3"},
		"point and radius":            {catalog.Query{Point: &[2]float64{10.1, 39.9}, Radius: 30000}, "S4,S1"},
		"product type":                {catalog.Query{ProductType: "U"}, "S3"},
		"platform":                    {catalog.Query{Platform: "SPOT"}, "S2"},
		"cloud [10,20]":               {catalog.Query{CloudCover: &catalog.NumberRange{Min: &lo, Max: &hi}}, "S2"},
		"cloud ]10,20[":               {catalog.Query{CloudCover: &catalog.NumberRange{Min: &lo, Max: &hi, MinExclusive: true, MaxExclusive: true}}, ""},
		"cloud <=20":                  {catalog.Query{CloudCover: &catalog.NumberRange{Max: &hi}}, "S2,S1"},
		"cloud set {5,50}":            {catalog.Query{CloudCover: &catalog.NumberRange{Set: []float64{5, 50}}}, "S3,S1"},
		"identifiers":                 {catalog.Query{Identifiers: []string{"S1", "S3", "S9"}}, "S3,S1"},
		"cloud ascending, none last":  {catalog.Query{Sort: []catalog.SortKey{{Field: catalog.SortCloudCover}}}, "S1,S2,S3,S4"},
		"cloud descending, none last": {catalog.Query{Sort: []catalog.SortKey{{Field: catalog.SortCloudCover, Desc: true}}}, "S3,S2,S1,S4"},
		"platform, then identifier descending": {catalog.Query{Sort: []catalog.SortKey{{Field: catalog.SortPlatform},
			{Field: catalog.SortIdentifier, Desc: true}}}, "S4,S3,S1,S2"},
		"by identifier, page 2": {catalog.Query{Sort: []catalog.SortKey{{Field: catalog.SortIdentifier}}, Limit: 2, Offset: 2}, "S3,S4"},
		"oldest first":          {catalog.Query{Sort: []catalog.SortKey{{Field: catalog.SortBeginTime}}}, "S1,S2,S3,S4"},
	} {
		c.q.Collection = "C"
		recs, err := r.Find(ctx, c.q)
		testenv.Must(t, err, "%s", name)
		if got := ids(recs); got != c.want {
			t.Errorf("%s: got %q, want %q", name, got, c.want)
		}
		n, err := r.Count(ctx, c.q)
		testenv.Must(t, err, "%s count", name)
		want := int64(len(strings.Split(c.want, ",")))
		if c.want == "" {
			want = 0
		}
		if c.q.Offset > 0 {
			want = 4
		}
		if n != want {
			t.Errorf("%s: count %d, want %d", name, n, want)
		}
	}
	recs, err := r.Find(ctx, catalog.Query{Collection: "C", Identifier: "S2"})
	testenv.Must(t, err, "get S2")
	if len(recs) != 1 || recs[0].Platform != "SPOT" || recs[0].CloudCover == nil || *recs[0].CloudCover != 20 || recs[0].Updated.IsZero() {
		t.Errorf("S2 reads back as %+v", recs)
	}
}

func TestFindAcrossCollectionsAndRefuseUnknownSort(t *testing.T) {
	r := open(t)
	ctx := context.Background()
	testenv.Must(t, r.EnsureCollection(ctx, "D", "Collection D", []string{"T"}, nil), "collection D")
	for i, id := range []string{"A1", "D1", "A2"} {
		p := product(id, i+1, 10, 40)
		if id[0] == 'D' {
			p.Collection = "D"
		}
		_, err := r.Register(ctx, p, true)
		testenv.Must(t, err, "register %s", id)
	}
	q := catalog.Query{Collections: []string{"C", "D"}, Sort: []catalog.SortKey{{Field: catalog.SortCollection}, {Field: catalog.SortIdentifier}}}
	recs, err := r.Find(ctx, q)
	testenv.Must(t, err, "find in C and D")
	if got := ids(recs); got != "A1,A2,D1" {
		t.Errorf("C and D hold %q, want A1,A2,D1", got)
	}
	if n, err := r.Count(ctx, q); err != nil || n != 3 {
		t.Errorf("count in C and D: %d, %v", n, err)
	}
	recs, _ = r.Find(ctx, catalog.Query{Collections: []string{"D"}, Identifiers: []string{"A1", "D1"}})
	if got := ids(recs); got != "D1" {
		t.Errorf("D with identifiers A1,D1 holds %q, want D1", got)
	}
	_, err = r.Find(ctx, catalog.Query{Collection: "C", Sort: []catalog.SortKey{{Field: "footprint"}}})
	if !errors.Is(err, catalog.ErrInvalid) {
		t.Errorf("sorting by an unknown field: %v, want ErrInvalid", err)
	}
}
