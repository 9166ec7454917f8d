package registry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
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
	testenv.Must(t, r.EnsureCollection(context.Background(), "C", "Collection C"), "collection")
	return r
}

func square(x, y, d float64) string {
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]}`, x, y, x+d, y, x+d, y+d, x, y+d, x, y)
}

func product(id string, day int, x, y float64) registry.Product {
	t0 := time.Date(2018, 6, day, 10, 0, 0, 0, time.UTC)
	return registry.Product{Identifier: id, Collection: "C", ProductType: "T", BeginTime: t0, EndTime: t0.Add(time.Minute),
		FootprintGeoJSON: square(x, y, 1), Metadata: map[string]any{"platform": "X"},
		Coverages: []registry.Coverage{{Name: id, Location: "C/" + id + "/" + id + ".tif", CRS: "EPSG:4326", Width: 10, Height: 10,
			GeoTransform: [6]float64{x, 0.1, 0, y + 1, 0, -0.1}, Bands: []registry.Band{{Index: 1, DataType: "Byte", Color: "Gray"}}}}}
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
	if total != 1 {
		t.Errorf("migrations applied %d times in all, want once", total)
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

	recs, err := r.Find(ctx, registry.Query{Collection: "C", BBox: &[4]float64{10.2, 40.2, 10.8, 40.8}})
	testenv.Must(t, err, "find")
	if ids(recs) != "B,A" {
		t.Errorf("bbox query = %s, want newest first B,A", ids(recs))
	}
	if len(recs[0].Coverages) != 1 || recs[0].Coverages[0].Location != "C/B/B.tif" || recs[0].Coverages[0].GeoTransform[1] != 0.1 {
		t.Errorf("coverage = %+v", recs[0].Coverages)
	}
	recs, _ = r.Find(ctx, registry.Query{Collection: "C", Start: time.Date(2018, 6, 1, 10, 0, 30, 0, time.UTC), End: time.Date(2018, 6, 1, 10, 0, 30, 0, time.UTC)})
	if ids(recs) != "A" {
		t.Errorf("instant inside A = %s", ids(recs))
	}
	recs, _ = r.Find(ctx, registry.Query{Collection: "C", Start: time.Date(2018, 6, 2, 0, 0, 0, 0, time.UTC), End: time.Date(2018, 6, 30, 0, 0, 0, 0, time.UTC), Limit: 1})
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
	if _, err := r.Register(ctx, moved, false); !errors.Is(err, registry.ErrExists) {
		t.Errorf("no-replace re-registration: %v, want ErrExists", err)
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
	if _, err := r.Deregister(ctx, "FAR"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("deregister twice: %v", err)
	}
	r.Deregister(ctx, "A")
	r.Deregister(ctx, "B")
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
	if _, err := r.Register(ctx, p, true); !errors.Is(err, registry.ErrNotFound) {
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
	recs, _ := r.Find(ctx, registry.Query{Collection: "C"})
	if len(recs) != 1 || len(recs[0].Coverages) != 1 {
		t.Errorf("%d products, %d coverages after concurrent registrations", len(recs), len(recs[0].Coverages))
	}
}

func ids(recs []registry.Record) string {
	var s []string
	for _, r := range recs {
		s = append(s, r.Identifier)
	}
	return strings.Join(s, ",")
}
