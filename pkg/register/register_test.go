package register_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/invalidation"
	"github.com/pvs/pvs/pkg/metadata"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/register"
	"github.com/pvs/pvs/pkg/registry"
	"github.com/pvs/pvs/pkg/store/file"
)

var coll = config.Collection{Name: "VHR_IMAGE_2018", ProductTypes: []config.ProductType{{Name: "VHR_OPTICAL"}}}

type fixture struct {
	out  *file.Store
	reg  *registry.Registry
	q    *queue.Client
	pub  invalidation.Publisher
	cog  []byte
	meta func(id string, mut func(p *metadata.Product)) []byte
}

func setup(t *testing.T) *fixture {
	t.Helper()
	testenv.Require(t)
	cog.Init()
	f := &fixture{}
	var err error
	f.out, err = file.New(t.TempDir())
	testenv.Must(t, err, "store")
	f.reg, err = registry.Open(context.Background(), testenv.Database(t))
	testenv.Must(t, err, "registry")
	t.Cleanup(f.reg.Close)
	_, err = f.reg.Migrate(context.Background())
	testenv.Must(t, err, "migrate")
	testenv.Must(t, f.reg.EnsureCollection(context.Background(), coll.Name, "", coll.ProductTypeNames(), nil), "collection")
	rdb, prefix := testenv.Redis(t)
	f.q = queue.New(rdb, prefix)
	f.pub = invalidation.Publisher{RDB: rdb, Prefix: prefix}
	dst := filepath.Join(t.TempDir(), "c.tif")
	testenv.Must(t, cog.Translate("../../testdata/rasters/RGBA.uint16.tif", dst, cog.Options{Compress: "DEFLATE", BlockSize: 256, OverviewResampling: "AVERAGE", Threads: "1"}, nil), "cog")
	f.cog, _ = os.ReadFile(dst)
	f.meta = func(id string, mut func(p *metadata.Product)) []byte {
		p := metadata.Product{Identifier: id, Collection: coll.Name, ProductType: "VHR_OPTICAL",
			BeginTime: time.Date(2018, 6, 15, 10, 0, 0, 0, time.UTC), EndTime: time.Date(2018, 6, 15, 10, 1, 0, 0, time.UTC),
			Footprint:  [][][][2]float64{{{{-112, 33}, {-111.9, 33}, {-111.9, 33.1}, {-112, 33.1}, {-112, 33}}}},
			Properties: map[string]string{"platform": "PHR1A", "cloudCover": "12.5"}}
		if mut != nil {
			mut(&p)
		}
		var b bytes.Buffer
		testenv.Must(t, metadata.WriteGSC(&b, p), "write GSC")
		return b.Bytes()
	}
	return f
}

func (f *fixture) put(t *testing.T, key string, data []byte) {
	t.Helper()
	testenv.Must(t, f.out.Put(context.Background(), key, bytes.NewReader(data)), "put %s", key)
}

func (f *fixture) product(t *testing.T, id string, meta []byte) string {
	prefix := coll.Name + "/" + id
	f.put(t, prefix+"/"+id+".tif", f.cog)
	if meta != nil {
		f.put(t, prefix+"/"+id+".xml", meta)
	}
	return prefix
}

func (f *fixture) registrar() *register.Registrar {
	return &register.Registrar{Output: f.out, Catalogue: f.reg, Seed: f.q, Events: f.pub, Collection: coll, Replace: true,
		DeleteObjects: true, MaxBatch: 8, BatchDelay: 5 * time.Millisecond, Log: slog.New(slog.DiscardHandler)}
}

func TestBadInputsFailWithAReason(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	good := f.product(t, "GOOD", f.meta("GOOD", nil))
	cases := map[string]string{
		f.product(t, "NOMETA", nil): "metadata VHR_IMAGE_2018/NOMETA/NOMETA.xml not found",
		f.product(t, "FLAT", f.meta("FLAT", func(p *metadata.Product) {
			p.Footprint = [][][][2]float64{{{{0, 0}, {1, 1}, {2, 2}, {0, 0}}}}
		})): "footprint has no area",
		f.product(t, "OTHER", f.meta("OTHER", func(p *metadata.Product) { p.Collection, p.ParentIdentifier = "Emergency", "Emergency/DM02_RGB_1B" })): "belongs to collection Emergency (eop:parentIdentifier Emergency/DM02_RGB_1B), not VHR_IMAGE_2018",
		f.product(t, "BACKWARDS", f.meta("BACKWARDS", func(p *metadata.Product) { p.EndTime = p.BeginTime.Add(-time.Hour) })):                         "end time",
		f.product(t, "LATIN1", bytes.Replace(f.meta("LATIN1", nil), []byte("PHR1A"), []byte("PHR\xe91A"), 1)):                                         "not valid UTF-8",
		f.product(t, "SAR", f.meta("SAR", func(p *metadata.Product) { p.ProductType = "SAR_GRD" })):                                                   `product type "SAR_GRD", which collection VHR_IMAGE_2018 does not list (it lists VHR_OPTICAL)`,
		f.product(t, "CLOUDY", f.meta("CLOUDY", func(p *metadata.Product) { p.Properties["cloudCover"] = "140" })):                                    "not a percentage",
		"VHR_IMAGE_2018/NOCOG": "metadata VHR_IMAGE_2018/NOCOG/NOCOG.xml not found",
	}
	f.put(t, "VHR_IMAGE_2018/NOCOG2/NOCOG2.xml", f.meta("NOCOG2", nil))
	cases["VHR_IMAGE_2018/NOCOG2"] = "COG VHR_IMAGE_2018/NOCOG2/NOCOG2.tif not found"
	for item := range cases {
		testenv.Must(t, f.q.Enqueue(ctx, "register_queue", item), "enqueue")
	}
	testenv.Must(t, f.q.Enqueue(ctx, "register_queue", good), "enqueue")
	c := f.q.NewConsumer(queue.Register, queue.ConsumerOptions{Concurrency: 4, Heartbeat: 50 * time.Millisecond})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx, f.registrar().Handle) }()
	testenv.Eventually(t, 20*time.Second, "all outcomes", func() (bool, error) {
		n, err := f.q.Members(ctx, "register-failure_set")
		s, _ := f.q.Members(ctx, "register-success_set")
		return len(n) == len(cases) && len(s) == 1, err
	})
	cancel()
	testenv.Must(t, <-done, "run")
	for item, want := range cases {
		hs, err := f.q.History(ctx, item)
		testenv.Must(t, err, "history")
		if len(hs) != 1 || hs[0].Status != queue.StatusFailure || !strings.Contains(hs[0].Error, want) || hs[0].Attempts != 1 {
			t.Errorf("%s: %+v, want a failure saying %q", item, hs, want)
		}
	}
	recs, _ := f.reg.Find(ctx, catalog.Query{Collection: coll.Name})
	if len(recs) != 1 || recs[0].Identifier != "GOOD" {
		t.Errorf("registered: %v", recs)
	}
	var cc *float64
	testenv.Must(t, f.reg.Pool().QueryRow(ctx, "SELECT cloud_cover FROM products WHERE identifier = 'GOOD'").Scan(&cc), "cloud cover")
	if cc == nil || *cc != 12.5 {
		t.Errorf("cloud cover column = %v", cc)
	}
	// The caches are told, and the interval is queued for seeding.
	evs, err := f.pub.Read(ctx, "0", 10, 0)
	testenv.Must(t, err, "read events")
	if len(evs) != 1 || evs[0].Identifier != "GOOD" || evs[0].Action != invalidation.Registered || evs[0].Areas[0].BBox[0] != -112 {
		t.Errorf("events = %+v", evs)
	}
	counts, _ := f.q.Counts(ctx)
	for _, c := range counts {
		if c.Key == "seed_queue" && c.Count != 1 {
			t.Errorf("seed_queue holds %d items", c.Count)
		}
	}
}

func TestConcurrentRegistrarsRegisterOnce(t *testing.T) {
	f := setup(t)
	item := f.product(t, "SAME", f.meta("SAME", nil))
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		r := f.registrar() // separate registrars, as separate processes
		for j := 0; j < 4; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := r.Handle(context.Background(), queue.Item{Queue: "register_queue", Value: item}); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	var products, coverages int
	f.reg.Pool().QueryRow(context.Background(), "SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM coverages)").Scan(&products, &coverages)
	if products != 1 || coverages != 1 {
		t.Errorf("%d products and %d coverages, want 1 and 1", products, coverages)
	}
	s, _ := f.reg.Collection(context.Background(), coll.Name)
	if s.ProductCount != 1 {
		t.Errorf("summary counts %d products", s.ProductCount)
	}
}

func TestReplaceAnnouncesBothAreasAndDeregisterCleansUp(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	r := f.registrar()
	item := f.product(t, "P", f.meta("P", nil))
	_, err := r.Handle(ctx, queue.Item{Value: item})
	testenv.Must(t, err, "register")
	f.put(t, item+"/P.xml", f.meta("P", func(p *metadata.Product) {
		p.Footprint = [][][][2]float64{{{{10, 40}, {11, 40}, {11, 41}, {10, 41}, {10, 40}}}}
	}))
	res, err := r.Handle(ctx, queue.Item{Value: item})
	testenv.Must(t, err, "replace")
	if !strings.HasPrefix(res, "replaced P") {
		t.Errorf("result %q", res)
	}
	evs, _ := f.pub.Read(ctx, "0", 10, 0)
	if len(evs) != 2 || evs[1].Action != invalidation.Replaced || len(evs[1].Areas) != 2 ||
		evs[1].Areas[0].BBox != [4]float64{10, 40, 11, 41} || evs[1].Areas[1].BBox[0] != -112 {
		t.Errorf("replacement event = %+v", evs)
	}
	// Without replace, another product under the identifier is refused.
	r.Replace = false
	f.put(t, item+"/P.xml", f.meta("P", func(p *metadata.Product) { p.Properties["cloudCover"] = "80" }))
	if _, err := r.Handle(ctx, queue.Item{Value: item}); err == nil || !queue.IsPermanent(err) || !strings.Contains(err.Error(), "already registered") {
		t.Errorf("no-replace: %v", err)
	}
	if n, _ := f.pub.Read(ctx, evs[1].ID, 10, 0); len(n) != 0 {
		t.Errorf("a refused registration was announced: %+v", n)
	}
	out, err := r.HandleDeregister(ctx, queue.Item{Value: "P"})
	testenv.Must(t, err, "deregister")
	if out != "deregistered P" {
		t.Errorf("result %q", out)
	}
	if objs, _ := f.out.List(ctx, item+"/"); len(objs) != 0 {
		t.Errorf("objects left: %v", objs)
	}
	s, _ := f.reg.Collection(ctx, coll.Name)
	if s.ProductCount != 0 || s.BBox != nil {
		t.Errorf("summary after deregistration: %+v", s)
	}
	evs, _ = f.pub.Read(ctx, evs[1].ID, 10, 0)
	if len(evs) != 1 || evs[0].Action != invalidation.Deregistered || evs[0].Areas[0].BBox != [4]float64{10, 40, 11, 41} {
		t.Errorf("deregistration event = %+v", evs)
	}
	// Done, and delivered again: nothing left to do, no failure.
	if out, err := r.HandleDeregister(ctx, queue.Item{Value: "P"}); err != nil || !strings.HasPrefix(out, "P was deregistered already") {
		t.Errorf("deregistering P again: %q, %v", out, err)
	}
	if _, err := r.HandleDeregister(ctx, queue.Item{Value: "NEVER"}); err == nil || !queue.IsPermanent(err) ||
		!strings.Contains(err.Error(), "product NEVER is not registered") {
		t.Errorf("deregistering an unknown product: %v", err)
	}
}
