package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/metadata"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/register"
	"github.com/pvs/pvs/pkg/registry"
	"github.com/pvs/pvs/pkg/store/file"
)

var benchColl = config.Collection{Name: "VHR_IMAGE_2018", ProductTypes: []config.ProductType{{Name: "VHR_OPTICAL"}}}

// scene returns a realistic optical scene footprint: a ~25 x 22 km
// quadrilateral tilted like a sun-synchronous ground track, densified to 20
// vertices, somewhere over Europe.
func scene(rng *rand.Rand) [][2]float64 {
	cx, cy := -10+40*rng.Float64(), 35+25*rng.Float64()
	w, h := 0.3, 0.2
	a := (12 + 4*rng.Float64()) * math.Pi / 180
	corners := [][2]float64{{-w / 2, -h / 2}, {w / 2, -h / 2}, {w / 2, h / 2}, {-w / 2, h / 2}}
	var ring [][2]float64
	for i := 0; i < 4; i++ {
		p, q := corners[i], corners[(i+1)%4]
		for k := 0; k < 5; k++ {
			t := float64(k) / 5
			x, y := p[0]+(q[0]-p[0])*t, p[1]+(q[1]-p[1])*t
			ring = append(ring, [2]float64{cx + x*math.Cos(a) - y*math.Sin(a), cy + x*math.Sin(a) + y*math.Cos(a)})
		}
	}
	return append(ring, ring[0])
}

func sceneTime(rng *rand.Rand) time.Time {
	return time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
}

func openRegistry(b *testing.B) *registry.Registry {
	b.Helper()
	reg, err := registry.Open(context.Background(), testenv.Database(b))
	testenv.Must(b, err, "registry")
	b.Cleanup(reg.Close)
	_, err = reg.Migrate(context.Background())
	testenv.Must(b, err, "migrate")
	testenv.Must(b, reg.EnsureCollection(context.Background(), benchColl.Name, "", benchColl.ProductTypeNames(), nil), "collection")
	return reg
}

// BenchmarkRegistrar pushes 10,000 preprocessed products (normalised
// metadata and a COG each, in a file store) through register_queue to one
// registrar process (the real consumer and handler, batching concurrent
// registrations) and reports products per second from the first item taken
// to the last recorded in register-success_set.
func BenchmarkRegistrar(b *testing.B) {
	testenv.Require(b)
	const n = 10000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ctx := context.Background()
		reg := openRegistry(b)
		rdb, prefix := testenv.Redis(b)
		q := queue.New(rdb, prefix)
		root := b.TempDir()
		out, _ := file.New(root)
		cog.Init()
		tif := filepath.Join(b.TempDir(), "c.tif")
		testenv.Must(b, cog.Translate("../testdata/rasters/RGBA.uint16.tif", tif, cog.Options{Compress: "DEFLATE", BlockSize: 256, OverviewResampling: "AVERAGE", Threads: "1"}, nil), "cog")
		info, err := cog.Describe(tif, nil)
		testenv.Must(b, err, "describe")
		desc, _ := json.Marshal(info) // what the preprocessor stores beside the COG
		rng := rand.New(rand.NewPCG(1, 2))
		pipe := rdb.Pipeline()
		for k := 0; k < n; k++ {
			id := fmt.Sprintf("VHR18_%05d", k)
			dir := filepath.Join(root, benchColl.Name, id)
			os.MkdirAll(dir, 0o755)
			testenv.Must(b, os.Link(tif, filepath.Join(dir, id+".tif")), "link COG")
			testenv.Must(b, os.WriteFile(filepath.Join(dir, id+".json"), desc, 0o644), "description")
			t0 := sceneTime(rng)
			var md bytes.Buffer
			metadata.WriteGSC(&md, metadata.Product{Identifier: id, Collection: benchColl.Name, ProductType: "VHR_OPTICAL",
				BeginTime: t0, EndTime: t0.Add(9 * time.Second), Footprint: [][][][2]float64{{scene(rng)}},
				Properties: map[string]string{"platform": "PHR1A", "instrument": "PHR", "cloudCover": fmt.Sprint(rng.IntN(100))}})
			testenv.Must(b, os.WriteFile(filepath.Join(dir, id+".xml"), md.Bytes(), 0o644), "metadata")
			pipe.LPush(ctx, prefix+"register_queue", benchColl.Name+"/"+id)
		}
		_, err = pipe.Exec(ctx)
		testenv.Must(b, err, "enqueue")
		r := &register.Registrar{Output: out, Catalogue: reg, Seed: q, Collection: benchColl, Replace: true,
			MaxBatch: 32, BatchDelay: 5 * time.Millisecond, Log: slog.New(slog.DiscardHandler)}
		c := q.NewConsumer(queue.Register, queue.ConsumerOptions{Concurrency: 32})
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		b.StartTimer()
		t0 := time.Now()
		go func() { done <- c.Run(runCtx, r.Handle) }()
		for {
			m, err := rdb.SCard(ctx, prefix+"register-success_set").Result()
			testenv.Must(b, err, "progress")
			f, _ := rdb.SCard(ctx, prefix+"register-failure_set").Result()
			if f > 0 {
				b.Fatalf("%d registrations failed", f)
			}
			if m == n {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		elapsed := time.Since(t0)
		b.StopTimer()
		cancel()
		testenv.Must(b, <-done, "run")
		s, _ := reg.Collection(ctx, benchColl.Name)
		if s.ProductCount != n {
			b.Fatalf("summary counts %d products", s.ProductCount)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "products/s")
		b.Logf("registered %d products in %.2fs: %.0f products/s", n, elapsed.Seconds(), float64(n)/elapsed.Seconds())
		b.StartTimer()
	}
}

// BenchmarkQueryNewest30 registers 100,000 products with realistic
// footprints and times, then times the renderer's query: the newest 30
// products intersecting a bbox (0.5° to 3° wide) and a time interval (1 to
// 60 days), and reports the p50 and p99 latency over 2,000 random queries.
func BenchmarkQueryNewest30(b *testing.B) {
	testenv.Require(b)
	const n, queries = 100000, 2000
	ctx := context.Background()
	reg := openRegistry(b)
	rng := rand.New(rand.NewPCG(3, 4))
	t0 := time.Now()
	batch := make([]catalog.Product, 0, 1000)
	for k := 0; k < n; k++ {
		ring := scene(rng)
		var fp bytes.Buffer
		fmt.Fprintf(&fp, `{"type":"Polygon","coordinates":[[`)
		for i, p := range ring {
			if i > 0 {
				fp.WriteByte(',')
			}
			fmt.Fprintf(&fp, "[%f,%f]", p[0], p[1])
		}
		fp.WriteString("]]}")
		st := sceneTime(rng)
		id := fmt.Sprintf("P%06d", k)
		batch = append(batch, catalog.Product{Identifier: id, Collection: benchColl.Name, ProductType: "VHR_OPTICAL",
			BeginTime: st, EndTime: st.Add(9 * time.Second), FootprintGeoJSON: fp.String(),
			Coverages: []catalog.Coverage{{Name: id, Location: benchColl.Name + "/" + id + "/" + id + ".tif", CRS: "EPSG:32632",
				Width: 20000, Height: 20000, GeoTransform: [6]float64{0, 0.5, 0, 0, 0, -0.5}}}})
		if len(batch) == cap(batch) {
			res, err := reg.RegisterBatch(ctx, batch, true)
			testenv.Must(b, err, "register batch")
			for _, r := range res {
				testenv.Must(b, r.Err, "register")
			}
			batch = batch[:0]
		}
	}
	_, err := reg.Pool().Exec(ctx, "ANALYZE products")
	testenv.Must(b, err, "analyze")
	b.Logf("setup: %d products registered in batches of 1000 in %.1fs (%.0f products/s)", n, time.Since(t0).Seconds(), n/time.Since(t0).Seconds())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lat := make([]time.Duration, 0, queries)
		found := 0
		for k := 0; k < queries; k++ {
			w := 0.5 + 2.5*rng.Float64()
			x, y := -10+40*rng.Float64(), 35+25*rng.Float64()
			start := sceneTime(rng)
			end := start.Add(time.Duration(1+rng.IntN(60)) * 24 * time.Hour)
			q := catalog.Query{Collection: benchColl.Name, BBox: &[4]float64{x, y, x + w, y + w*0.7}, Start: start, End: end, Limit: 30}
			t := time.Now()
			recs, err := reg.Find(ctx, q)
			lat = append(lat, time.Since(t))
			testenv.Must(b, err, "find")
			found += len(recs)
		}
		sort.Slice(lat, func(a, c int) bool { return lat[a] < lat[c] })
		p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		b.Logf("%d queries over %d products: p50 %.2f ms, p99 %.2f ms, %.1f products per answer", queries, n,
			float64(p50.Microseconds())/1000, float64(p99.Microseconds())/1000, float64(found)/queries)
	}
}
