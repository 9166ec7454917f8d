package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// getMapList is the same 256x256 GetMaps for both servers: random boxes in
// EPSG:3857 inside a scene centred at cx, cy at five zooms (native to 16x
// coarser); extra is appended to each URL.
func getMapList(base, layer, format string, n int, cx0, cy0 float64, extra string) []string {
	rng := rand.New(rand.NewPCG(5, 8))
	var out []string
	for i := 0; i < n; i++ {
		res := 300 * math.Pow(2, float64(rng.IntN(5))) // m per pixel
		w := 256 * res
		cx, cy := cx0+60000*(rng.Float64()-0.5), cy0+60000*(rng.Float64()-0.5)
		out = append(out, fmt.Sprintf("%s?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=%s&STYLES=&CRS=EPSG:3857&BBOX=%s,%s,%s,%s&WIDTH=256&HEIGHT=256&FORMAT=%s&TRANSPARENT=TRUE%s",
			base, layer, ff(cx-w/2), ff(cy-w/2), ff(cx+w/2), ff(cy+w/2), format, extra))
	}
	return out
}

// The scenes: the sample (3-band Byte) and the same pixels as a 4-band
// UInt16 product 1,000 km north (scripts/bench.sh registers it).
var getMapScenes = []struct {
	name              string
	pvsLayer, msLayer string
	cx, cy            float64
	pvsExtra          string
}{
	{"byte", "VHR_IMAGE_2018", "sample", -8680000, 2870000, ""},
	{"uint16", "VHR_IMAGE_2018__TRUE_COLOR_UINT16", "sample16", -8684000, 3972000, "&TIME=2018-06-20T00:00:00Z/2018-06-21T00:00:00Z"},
}

func ff(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// BenchmarkGetMap sends the same list of GetMaps to the pvs renderer and
// to MapServer 8 (2 FastCGI processes behind nginx) drawing the same COGs
// (the sample, 3-band Byte, and its 4-band UInt16 copy), in PNG and JPEG,
// and reports requests/s, p99 and the renderer's peak RSS. The details go
// to standard output (the benchmark log would be truncated).
func BenchmarkGetMap(b *testing.B) {
	requireRefs(b)
	conc, _ := strconv.Atoi(envOr("PVS_BENCH_CONC", "4"))
	d := 8 * time.Second
	for i := 0; i < b.N; i++ {
		for _, sc := range getMapScenes {
			for _, f := range []string{"image/png", "image/jpeg"} {
				pvs := getMapList("http://127.0.0.1:"+envOr("PVS_RENDERER_PORT", "18081")+"/ows", sc.pvsLayer, f, 500, sc.cx, sc.cy, sc.pvsExtra)
				ms := getMapList("http://127.0.0.1:"+envOr("PVS_MS_PORT", "18090")+"/ms", sc.msLayer, f, 500, sc.cx, sc.cy, "")
				rp, tool, err := measure(pvs, conc, d)
				if err != nil {
					b.Fatal(err)
				}
				rm, _, err := measure(ms, conc, d)
				if err != nil {
					b.Fatal(err)
				}
				name := sc.name + "-" + map[string]string{"image/png": "png", "image/jpeg": "jpeg"}[f]
				b.ReportMetric(rp.Rate, "pvs-"+name+"-req/s")
				b.ReportMetric(rm.Rate, "mapserver-"+name+"-req/s")
				b.ReportMetric(rp.Rate/rm.Rate, "x-mapserver-"+name)
				fmt.Printf("%s COG, %s, 500 GetMaps 256x256, %d connections, %s each, load from %s:\n  pvs renderer: %s\n  MapServer:    %s\n  pvs/MapServer %.2fx\n",
					sc.name, f, conc, d, tool, rp, rm, rp.Rate/rm.Rate)
				if rp.Errors+rm.Errors > 0 {
					b.Errorf("errors: pvs %d, MapServer %d", rp.Errors, rm.Errors)
				}
			}
		}
		rss := sumPeak(readPids(filepath.Join(runDir(), "daemons", "renderer.pid"))...)
		b.ReportMetric(float64(rss)/(1<<20), "renderer-peak-RSS-MB")
		b.Logf("renderer peak RSS %d MB", rss>>20)
	}
}
