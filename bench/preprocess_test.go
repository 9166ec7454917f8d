package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/preprocess"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/store/file"
)

type nopEnqueuer struct{}

func (nopEnqueuer) Enqueue(ctx context.Context, q, item string) error { return nil }

// pvsBinary is the pvs binary that runs conversions as child processes.
func pvsBinary(b *testing.B) string {
	bin := os.Getenv("PVS_BIN")
	if bin == "" {
		b.Skip("PVS_BIN is not set: run through make bench")
	}
	return bin
}

var benchCOG = config.COG{Compress: "DEFLATE", BlockSize: 512, Resampling: "AVERAGE", Threads: "ALL_CPUS"}

func newPreprocessor(b *testing.B, src, out *file.Store, c config.COG) *preprocess.Preprocessor {
	return &preprocess.Preprocessor{Source: src, Output: out, Next: nopEnqueuer{},
		Collection: config.Collection{Name: "VHR_IMAGE_2018", ProductTypes: []config.ProductType{{Name: "VHR_OPTICAL", DataGlobs: []string{"*.tif"}}}},
		Options:    config.Preprocessor{WorkDir: b.TempDir(), Timeout: time.Hour, COG: c},
		Limits:     preprocess.Limits{MaxBytes: 64 << 30, MaxEntries: 1000},
		Converter:  cog.Subprocess{Args: []string{pvsBinary(b), "cog-convert"}, Env: []string{"GDAL_CACHEMAX=256"}},
		Log:        slog.New(slog.DiscardHandler)}
}

func mdItem(path, id string) queue.Item {
	doc, _ := json.Marshal(preprocess.MDItem{Path: path, Identifier: id, BeginTime: "2018-06-15T10:00:00Z", EndTime: "2018-06-15T10:00:09Z"})
	return queue.Item{Queue: "preprocess-md_queue", Value: string(doc)}
}

// BenchmarkPreprocessLarge runs the whole preprocessor (the item, the
// package read from the store, the conversion in a child process, the
// description, the uploads) on a generated 4-band UInt16 product of
// PVS_BENCH_LARGE (10000) pixels a side, and gdal_translate -of COG with the
// same creation options on the same file, alternating; it reports both
// times, their ratio and the peak RSS of the converting process.
func BenchmarkPreprocessLarge(b *testing.B) {
	size := 10000
	if n, err := strconv.Atoi(os.Getenv("PVS_BENCH_LARGE")); err == nil && n > 0 {
		size = n
	}
	srcDir := b.TempDir()
	src, _ := file.New(srcDir)
	out, _ := file.New(b.TempDir())
	raster := makeUInt16(b, srcDir, size)
	name := filepath.Base(raster)
	p := newPreprocessor(b, src, out, benchCOG)
	rec := &recordingConverter{c: p.Converter}
	p.Converter = rec
	var pvsTime, gdalTime time.Duration
	var gdalRSS int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runs := []func(){
			func() {
				t0 := time.Now()
				if _, err := p.Handle(context.Background(), mdItem(name, fmt.Sprintf("LARGE_%d", i))); err != nil {
					b.Fatal(err)
				}
				pvsTime += time.Since(t0)
			},
			func() {
				opts := cog.Options{Compress: benchCOG.Compress, BlockSize: benchCOG.BlockSize, OverviewResampling: benchCOG.Resampling, Threads: benchCOG.Threads}
				cmd := exec.Command("gdal_translate", append(opts.Switches(), "-q", raster, filepath.Join(b.TempDir(), "gdal.tif"))...)
				cmd.Env = append(os.Environ(), "GDAL_CACHEMAX=256")
				t0 := time.Now()
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("gdal_translate: %v\n%s", err, out)
				}
				gdalTime += time.Since(t0)
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
					gdalRSS = max(gdalRSS, ru.Maxrss*1024)
				}
			},
		}
		if i%2 == 1 {
			runs[0], runs[1] = runs[1], runs[0]
		}
		runs[0]()
		runs[1]()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(pvsTime.Seconds()/n, "pvs-s/op")
	b.ReportMetric(gdalTime.Seconds()/n, "gdal_translate-s/op")
	b.ReportMetric(pvsTime.Seconds()/gdalTime.Seconds(), "ratio")
	b.ReportMetric(float64(rec.peak)/(1<<20), "conversion-peak-RSS-MB")
	b.ReportMetric(float64(gdalRSS)/(1<<20), "gdal_translate-peak-RSS-MB")
	b.Logf("%dx%dx4 UInt16: preprocessor %.2fs, gdal_translate %.2fs, ratio %.3f; peak RSS of the preprocessor's conversion process %d MB, of gdal_translate %d MB",
		size, size, pvsTime.Seconds()/n, gdalTime.Seconds()/n, pvsTime.Seconds()/gdalTime.Seconds(), rec.peak>>20, gdalRSS>>20)
}

// BenchmarkPreprocessThroughput preprocesses 20 small products (RGB Byte,
// 1024x1024, from tar packages with metadata) through the real consumer
// with 1 and then 2 items at a time, and reports the speed-up.
func BenchmarkPreprocessThroughput(b *testing.B) {
	testenv.Require(b)
	const n = 20
	srcDir := b.TempDir()
	src, _ := file.New(srcDir)
	cog.Init()
	// 20 distinct products: windows of RGB.byte.tif resampled to 1024x1024.
	for k := 0; k < n; k++ {
		ds, err := godal.Open("../testdata/rasters/RGB.byte.tif")
		testenv.Must(b, err, "open")
		out, err := ds.Translate(filepath.Join(srcDir, fmt.Sprintf("P%02d.tif", k)), []string{"-srcwin", strconv.Itoa(10 * k), "0", "600", "600", "-outsize", "1024", "1024"})
		testenv.Must(b, err, "make product")
		out.Close()
		ds.Close()
	}
	rates := map[int]float64{}
	for i := 0; i < b.N; i++ {
		for _, workers := range []int{1, 2} {
			rdb, prefix := testenv.Redis(b)
			q := queue.New(rdb, prefix)
			ctx := context.Background()
			// Many small products: one thread per conversion, one item per
			// core (preprocessor.cog.num_threads: 1).
			small := benchCOG
			small.Threads = "1"
			p := newPreprocessor(b, src, mustFile(b), small)
			for k := 0; k < n; k++ {
				doc, _ := json.Marshal(preprocess.MDItem{Path: fmt.Sprintf("P%02d.tif", k), Identifier: fmt.Sprintf("P%02d", k),
					BeginTime: "2018-06-15T10:00:00Z", EndTime: "2018-06-15T10:00:09Z"})
				testenv.Must(b, q.Enqueue(ctx, "preprocess-md_queue", string(doc)), "enqueue")
			}
			c := q.NewConsumer(queue.Preprocess, queue.ConsumerOptions{Concurrency: workers})
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			t0 := time.Now()
			go func() { done <- c.Run(runCtx, p.Handle) }()
			for {
				s, _ := rdb.SCard(ctx, prefix+"preprocess-success_set").Result()
				f, _ := rdb.SCard(ctx, prefix+"preprocess-failure_set").Result()
				if f > 0 {
					b.Fatalf("%d products failed", f)
				}
				if s == n {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			rates[workers] = n / time.Since(t0).Seconds()
			cancel()
			testenv.Must(b, <-done, "run")
		}
	}
	b.ReportMetric(rates[1], "products/s-1-worker")
	b.ReportMetric(rates[2], "products/s-2-workers")
	b.ReportMetric(rates[2]/rates[1], "speedup")
	b.Logf("20 products of 1024x1024x3: %.2f products/s with 1 worker, %.2f with 2: %.2fx", rates[1], rates[2], rates[2]/rates[1])
}

// recordingConverter keeps the peak RSS of the conversions it runs.
type recordingConverter struct {
	c    cog.Converter
	peak int64
}

func (r *recordingConverter) Convert(ctx context.Context, j cog.Job) (cog.Usage, error) {
	u, err := r.c.Convert(ctx, j)
	r.peak = max(r.peak, u.MaxRSS)
	return u, err
}

func mustFile(b *testing.B) *file.Store {
	s, err := file.New(b.TempDir())
	testenv.Must(b, err, "store")
	return s
}
