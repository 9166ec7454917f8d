package bench

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/cog"
)

// benchSize is the side of the generated raster (PVS_BENCH_SIZE).
func benchSize() int {
	if n, err := strconv.Atoi(os.Getenv("PVS_BENCH_SIZE")); err == nil && n > 0 {
		return n
	}
	return 4096
}

// makeUInt16 writes a size x size, 4-band UInt16 striped GeoTIFF whose
// values vary smoothly with some noise, like a multispectral scene.
func makeUInt16(b *testing.B, dir string, size int) string {
	b.Helper()
	cog.Init()
	path := filepath.Join(dir, fmt.Sprintf("uint16_%d.tif", size))
	ds, err := godal.Create(godal.GTiff, path, 4, godal.UInt16, size, size)
	if err != nil {
		b.Fatal(err)
	}
	sr, _ := godal.NewSpatialRefFromEPSG(32632)
	ds.SetSpatialRef(sr)
	ds.SetGeoTransform([6]float64{500000, 0.5, 0, 5000000, 0, -0.5})
	row := make([]uint16, size*4)
	seed := uint32(1)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			seed = seed*1664525 + 1013904223
			noise := int(seed>>24) - 128
			for k := 0; k < 4; k++ {
				v := 1500 + 800*math.Sin(float64(x+k*97)/211)*math.Cos(float64(y-k*53)/173)
				row[x*4+k] = uint16(int(v) + noise)
			}
		}
		if err := ds.Write(0, y, row, size, 1); err != nil {
			b.Fatal(err)
		}
	}
	if err := ds.Close(); err != nil {
		b.Fatal(err)
	}
	sr.Close()
	return path
}

// BenchmarkCOGVersusGDALTranslate converts the same generated raster with
// pvs (cog.Translate, as the preprocessor does) and with the gdal_translate
// command, with identical creation options, alternating the two; it reports
// seconds for each and their ratio (pvs / gdal_translate).
func BenchmarkCOGVersusGDALTranslate(b *testing.B) {
	size := benchSize()
	dir := b.TempDir()
	src := makeUInt16(b, dir, size)
	opts := cog.Options{Compress: "DEFLATE", BlockSize: 512, OverviewResampling: "AVERAGE", Threads: "ALL_CPUS"}
	var pvsTime, gdalTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run := []func(){
			func() {
				t0 := time.Now()
				if err := cog.Translate(src, filepath.Join(dir, "pvs.tif"), opts, nil); err != nil {
					b.Fatal(err)
				}
				pvsTime += time.Since(t0)
			},
			func() {
				args := append(opts.Switches(), "-q", src, filepath.Join(dir, "gdal.tif"))
				t0 := time.Now()
				if out, err := exec.Command("gdal_translate", args...).CombinedOutput(); err != nil {
					b.Fatalf("gdal_translate: %v\n%s", err, out)
				}
				gdalTime += time.Since(t0)
			},
		}
		if i%2 == 1 {
			run[0], run[1] = run[1], run[0]
		}
		run[0]()
		run[1]()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(pvsTime.Seconds()/n, "pvs-s/op")
	b.ReportMetric(gdalTime.Seconds()/n, "gdal_translate-s/op")
	b.ReportMetric(pvsTime.Seconds()/gdalTime.Seconds(), "ratio")
	b.Logf("%dx%dx4 UInt16: pvs %.2fs, gdal_translate %.2fs per conversion, ratio %.3f",
		size, size, pvsTime.Seconds()/n, gdalTime.Seconds()/n, pvsTime.Seconds()/gdalTime.Seconds())
}
