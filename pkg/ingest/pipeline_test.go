package ingest

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/preprocess"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/register"
	"github.com/pvs/pvs/pkg/registry"
	"github.com/pvs/pvs/pkg/store/file"
)

// A static catalog harvested from the S3 source store is registered by
// the real preprocessor and registrar: the STAC items' ids, times,
// geometries and EO properties (platform, cloud cover, instrument, orbit)
// become the products' (the raster holds no metadata), searchable by
// platform and cloud cover, and a harvest after the registration queues
// nothing.
func TestHarvestedItemsAreRegistered(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	cog.Init()
	l := newLedger(t)
	src := testenv.S3Bucket(t)
	out, err := file.New(t.TempDir())
	testenv.Must(t, err, "output store")
	raster, err := os.ReadFile("../../testdata/rasters/RGB.byte.tif")
	testenv.Must(t, err, "raster")
	ids := []string{"STAC_SCENE_A", "STAC_SCENE_B"}
	staticCatalog(t, src, ids)
	for _, id := range ids {
		put(t, src, "stac/vhr/"+id+"/"+id+".tif", string(raster))
	}

	coll := config.Collection{Name: "VHR_IMAGE_2018", ProductTypes: []config.ProductType{{Name: "VHR_OPTICAL", DataGlobs: []string{"*.tif"}}}}
	reg, err := registry.Open(ctx, testenv.Database(t))
	testenv.Must(t, err, "registry")
	defer reg.Close()
	_, err = reg.Migrate(ctx)
	testenv.Must(t, err, "migrate")
	testenv.Must(t, reg.EnsureCollection(ctx, coll.Name, "", coll.ProductTypeNames(), nil), "collection")
	log := slog.New(slog.DiscardHandler)
	pre := &preprocess.Preprocessor{Source: src, Output: out, Next: l.Q, Collection: coll, Log: log,
		Limits:  preprocess.Limits{MaxBytes: 100 << 20, MaxEntries: 100},
		Options: config.Preprocessor{WorkDir: t.TempDir(), Timeout: time.Minute, COG: config.COG{Compress: "DEFLATE", BlockSize: 256, Resampling: "AVERAGE", Threads: "1"}}}
	rr := &register.Registrar{Output: out, Catalogue: reg, Collection: coll, Replace: true, MaxBatch: 4, BatchDelay: time.Millisecond, Log: log}

	h := newHarvester(t, l, src, strings.TrimSuffix(src.URL(), "/"))
	h.Catalog = "stac/catalog.json"
	h.Collection = coll
	r, err := h.Pass(ctx)
	testenv.Must(t, err, "harvest")
	if r.Pushed != 2 {
		t.Fatalf("harvest: %+v", r)
	}

	wctx, stop := context.WithCancel(ctx)
	opts := queue.ConsumerOptions{Heartbeat: 500 * time.Millisecond, DeadAfter: 2 * time.Second, Logger: log}
	done := make(chan error, 2)
	go func() { done <- l.Q.NewConsumer(queue.Preprocess, opts).Run(wctx, pre.Handle) }()
	go func() { done <- l.Q.NewConsumer(queue.Register, opts).Run(wctx, rr.Handle) }()
	defer func() {
		stop()
		testenv.Must(t, <-done, "consumer")
		testenv.Must(t, <-done, "consumer")
	}()
	for _, id := range ids {
		path := "stac/vhr/" + id + "/" + id + ".tif"
		testenv.Eventually(t, 60*time.Second, id+" registered", func() (bool, error) {
			st, err := l.Status(ctx, path)
			if st.State == Failed {
				t.Fatalf("%s failed: %s", id, st.Detail)
			}
			return st.State == Registered, err
		})
		rec, err := reg.Get(ctx, id)
		testenv.Must(t, err, "registered product %s", id)
		if !rec.BeginTime.Equal(time.Date(2018, 6, 15, 15, 20, 0, 0, time.UTC)) || !rec.EndTime.Equal(time.Date(2018, 6, 15, 15, 20, 30, 0, time.UTC)) {
			t.Errorf("%s: times %s/%s, want the item's", id, rec.BeginTime, rec.EndTime)
		}
		if rec.BBox != [4]float64{-78.9, 23.5, -76.6, 25.6} {
			t.Errorf("%s: footprint bbox %v, want the item's geometry", id, rec.BBox)
		}
		if rec.Platform != "PHR1A" || rec.CloudCover == nil || *rec.CloudCover != 12.5 {
			t.Errorf("%s: platform %q, cloud cover %v; want the item's PHR1A and 12.5", id, rec.Platform, rec.CloudCover)
		}
		for k, v := range map[string]string{"instrument": "PHR", "orbitDirection": "DESCENDING", "orbitNumber": "12345", "constellation": "pleiades"} {
			if rec.Properties[k] != v {
				t.Errorf("%s: property %s = %v, want %s", id, k, rec.Properties[k], v)
			}
		}
	}
	found, err := reg.Find(ctx, catalog.Query{Collection: coll.Name, Platform: "PHR1A", CloudCover: &catalog.NumberRange{Max: ptr(20.0)}})
	testenv.Must(t, err, "search by platform and cloud cover")
	if len(found) != len(ids) {
		t.Errorf("search platform=PHR1A cloudCover<=20: %d products, want %d", len(found), len(ids))
	}
	found, err = reg.Find(ctx, catalog.Query{Collection: coll.Name, CloudCover: &catalog.NumberRange{Max: ptr(10.0)}})
	testenv.Must(t, err, "search by cloud cover")
	if len(found) != 0 {
		t.Errorf("search cloudCover<=10: %d products, want none", len(found))
	}
	// Registered: harvesting again (a restart without the cursor) queues
	// nothing, nor does the endpoint's route.
	testenv.Must(t, l.Q.Redis().Del(ctx, h.cursorKey()).Err(), "drop the cursor")
	r, err = h.Pass(ctx)
	testenv.Must(t, err, "harvest again")
	if r.Pushed != 0 || r.Skipped != 2 {
		t.Errorf("harvest after registration: %+v, want both left alone", r)
	}
	outc, err := l.Submit(ctx, PathRequest("stac/vhr/STAC_SCENE_A/STAC_SCENE_A.tif", "http"))
	testenv.Must(t, err, "submit")
	if outc.Pushed || outc.State != Registered {
		t.Errorf("submission of a registered package: %+v", outc)
	}
}

func ptr[T any](v T) *T { return &v }
