package bench

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/tile"
)

// The large scenes of bench/scenegen, registered by scripts/bench.sh
// through the preprocessor: MapServer draws the same COGs (refs.sh layers
// large16 and largergb). The UTM extents repeat scenegen's.
type largeScene struct {
	name              string
	pvsLayer, msLayer string
	time              string
	epsg              int
	minX, minY        float64 // UTM, metres
	maxX, maxY        float64
}

var largeScenes = []largeScene{
	{"uint16", "VHR_IMAGE_2018__TRUE_COLOR_UINT16", "large16", "2018-07-01T00:00:00Z/2018-07-02T00:00:00Z", 32632, 450000, 4950000, 550000, 5050000},
	{"rgb", "VHR_IMAGE_2018", "largergb", "2018-07-02T00:00:00Z/2018-07-03T00:00:00Z", 32633, 450000, 5286000, 546000, 5350000},
}

// wgs84 returns the scene's extent in lon/lat (the box of its corners and
// edge midpoints).
func (s largeScene) wgs84(b *testing.B) [4]float64 {
	cog.Init()
	src, err := godal.NewSpatialRefFromEPSG(s.epsg)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := godal.NewSpatialRefFromEPSG(4326)
	if err != nil {
		b.Fatal(err)
	}
	defer dst.Close()
	tr, err := godal.NewTransform(src, dst)
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	mx, my := (s.minX+s.maxX)/2, (s.minY+s.maxY)/2
	xs := []float64{s.minX, s.maxX, s.minX, s.maxX, mx, mx, s.minX, s.maxX}
	ys := []float64{s.minY, s.minY, s.maxY, s.maxY, s.minY, s.maxY, my, my}
	if err := tr.TransformEx(xs, ys, nil, nil); err != nil {
		b.Fatal(err)
	}
	out := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for i := range xs {
		out[0], out[1] = math.Min(out[0], xs[i]), math.Min(out[1], ys[i])
		out[2], out[3] = math.Max(out[2], xs[i]), math.Max(out[3], ys[i])
	}
	return out
}

// largeBoxes returns n random 256x256 boxes (WMS 1.3.0 BBOX values) at
// zooms 8-14 centred inside the scene's lon/lat box ll: in EPSG:3857 at the
// GoogleMapsCompatible resolutions, in EPSG:4326 (lat/lon order) at the
// WorldCRS84Quad ones.
func largeBoxes(ll [4]float64, crs string, n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 21))
	out := make([]string, n)
	for i := range out {
		z := 8 + rng.IntN(7)
		lon := ll[0] + (ll[2]-ll[0])*rng.Float64()
		lat := ll[1] + (ll[3]-ll[1])*rng.Float64()
		if crs == "EPSG:3857" {
			res := 2 * math.Pi * 6378137 / 256 / math.Exp2(float64(z))
			x := lon * math.Pi / 180 * 6378137
			y := math.Log(math.Tan(math.Pi/4+lat*math.Pi/360)) * 6378137
			h := 128 * res
			out[i] = ff(x-h) + "," + ff(y-h) + "," + ff(x+h) + "," + ff(y+h)
		} else {
			res := 180.0 / 256 / math.Exp2(float64(z))
			h := 128 * res
			f := func(v float64) string { return strconv.FormatFloat(v, 'f', 8, 64) }
			out[i] = f(lat-h) + "," + f(lon-h) + "," + f(lat+h) + "," + f(lon+h)
		}
	}
	return out
}

func getMapURLs(base, layer, crs, format string, boxes []string, extra string) []string {
	out := make([]string, len(boxes))
	for i, bb := range boxes {
		out[i] = base + "?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=" + layer + "&STYLES=&CRS=" + crs +
			"&BBOX=" + bb + "&WIDTH=256&HEIGHT=256&FORMAT=" + format + "&TRANSPARENT=TRUE" + extra
	}
	return out
}

// procPeak reads VmHWM, the peak resident set, of a process.
func procPeak(pid int) int64 {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(st)
	if m == nil {
		return 0
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

// resetPeak starts a new peak resident set measurement (clear_refs 5).
func resetPeak(pids ...int) {
	for _, p := range pids {
		os.WriteFile("/proc/"+strconv.Itoa(p)+"/clear_refs", []byte("5"), 0)
	}
}

func sumPeak(pids ...int) int64 {
	var s int64
	for _, p := range pids {
		s += procPeak(p)
	}
	return s
}

func readPids(file string) []int {
	b, _ := os.ReadFile(file)
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if p, err := strconv.Atoi(f); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func runDir() string { return envOr("PVS_RUN_DIR", "../var/run") }

// msPids are MapServer's FastCGI processes (refs.sh lists them).
func msPids() []int { return readPids(filepath.Join(runDir(), "refs", "ms.pids")) }

// renderer is a renderer process this benchmark started in place of the
// demo's, with its own environment (a smaller memory budget, a profile).
type renderer struct {
	cmd *exec.Cmd
}

// startRenderer stops the running renderer (its pid file) and starts
// `pvs renderer` with the benchmark configuration (PVS_BENCH_CONFIG: the
// collection's plus browses with other resamplings) and env added.
func startRenderer(b *testing.B, env []string, args ...string) *renderer {
	pidFile := filepath.Join(runDir(), "daemons", "renderer.pid")
	for _, p := range readPids(pidFile) {
		stopPid(p)
	}
	cfg := envOr("PVS_BENCH_CONFIG", envOr("PVS_CONFIG", "../config/vhr18.yaml"))
	logf, err := os.OpenFile(filepath.Join(runDir(), "log", "renderer.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(pvsBinary(b), append([]string{"renderer", "--config", cfg}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
	u := "http://127.0.0.1:" + envOr("PVS_RENDERER_PORT", "18081") + "/ows?SERVICE=WMS&REQUEST=GetCapabilities"
	for i := 0; i < 300; i++ {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return &renderer{cmd: cmd}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatalf("renderer did not start: see %s", filepath.Join(runDir(), "log", "renderer.log"))
	return nil
}

func (r *renderer) pid() int { return r.cmd.Process.Pid }

// stop ends the renderer gracefully (its CPU profile is written then).
func (r *renderer) stop() {
	r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		r.cmd.Process.Kill()
		<-done
	}
}

func stopPid(pid int) {
	p, err := os.FindProcess(pid)
	if err != nil {
		return
	}
	p.Signal(syscall.SIGTERM)
	for i := 0; i < 300; i++ {
		if p.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.Kill()
}

// compareList measures the pvs and MapServer URL lists after a short warm
// load on each, with the same tool and concurrency.
func compareList(b *testing.B, pvs, ms []string, conc int, warmD, d time.Duration) (rp, rm loadResult, tool string) {
	var err error
	if warmD > 0 {
		measure(pvs, conc, warmD)
		if ms != nil {
			measure(ms, conc, warmD)
		}
	}
	if rp, tool, err = measure(pvs, conc, d); err != nil {
		b.Fatal(err)
	}
	if ms != nil {
		if rm, _, err = measure(ms, conc, d); err != nil {
			b.Fatal(err)
		}
	}
	return rp, rm, tool
}

type largeList struct {
	scene     largeScene
	crs, fmt  string
	pvs, ms   []string
	msRate    float64
	pvsResult loadResult
}

func (l largeList) name() string {
	return l.scene.name + "-" + strings.ReplaceAll(strings.ToLower(l.crs), "epsg:", "") + "-" + strings.TrimPrefix(l.fmt, "image/")
}

// BenchmarkGetMapLarge sends the same lists of 500 random 256x256 GetMaps
// at zooms 8-14 over the large scenes (bench/scenegen: 10000² x 4 UInt16
// and 12000 x 8000 x 3 Byte COGs, registered through the preprocessor) to
// the pvs renderer and to MapServer 8 (2 FastCGI processes behind nginx),
// in EPSG:3857 and EPSG:4326, PNG and JPEG, and reports each side's
// requests/s, their ratio and peak RSS (the renderer; the sum of
// MapServer's processes). Then the same lists against a renderer held to
// about 512 MB (PVS_BENCH_SMALL_ENV, default GDAL_CACHEMAX=200 and
// GOMEMLIMIT=160MiB), compared with MapServer's figures of the same run,
// and the UInt16 EPSG:3857 PNG list with bilinear, cubic and average
// resampling on both sides. PVS_BENCH_PROFILE=DIR keeps the renderer's CPU
// profile of the default run there.
func BenchmarkGetMapLarge(b *testing.B) {
	requireRefs(b)
	if os.Getenv("PVS_BENCH_LARGE_SCENES") != "1" {
		b.Skip("large scenes not registered: run through make bench")
	}
	conc, _ := strconv.Atoi(envOr("PVS_BENCH_CONC", "4"))
	d, warmD := benchDuration("PVS_BENCH_LOAD", 8*time.Second), benchDuration("PVS_BENCH_WARM", 2*time.Second)
	pvsBase := "http://127.0.0.1:" + envOr("PVS_RENDERER_PORT", "18081") + "/ows"
	msBase := "http://127.0.0.1:" + envOr("PVS_MS_PORT", "18090") + "/ms"
	var lists []*largeList
	for si, sc := range largeScenes {
		ll := sc.wgs84(b)
		for ci, crs := range []string{"EPSG:3857", "EPSG:4326"} {
			boxes := largeBoxes(ll, crs, 500, uint64(10*si+ci+1))
			for _, f := range []string{"image/png", "image/jpeg"} {
				lists = append(lists, &largeList{scene: sc, crs: crs, fmt: f,
					pvs: getMapURLs(pvsBase, sc.pvsLayer, crs, f, boxes, "&TIME="+sc.time),
					ms:  getMapURLs(msBase, sc.msLayer, crs, f, boxes, "")})
			}
		}
	}
	for i := 0; i < b.N; i++ {
		var profArgs []string
		if dir := os.Getenv("PVS_BENCH_PROFILE"); dir != "" {
			profArgs = []string{"--cpuprofile", filepath.Join(dir, "renderer-large.pprof")}
		}
		r := startRenderer(b, nil, profArgs...)
		msp := msPids()
		resetPeak(append(msp, r.pid())...)
		fmt.Printf("GetMap on the large scenes: 500 random 256x256 GetMaps at zooms 8-14 per list, %d connections, %s warm + %s each side\n", conc, warmD, d)
		fmt.Printf("  %-22s %12s %12s %7s %9s %9s\n", "list", "pvs req/s", "MS req/s", "ratio", "pvs p99", "MS p99")
		for _, l := range lists {
			rp, rm, _ := compareList(b, l.pvs, l.ms, conc, warmD, d)
			l.msRate, l.pvsResult = rm.Rate, rp
			b.ReportMetric(rp.Rate, "pvs-"+l.name()+"-req/s")
			b.ReportMetric(rm.Rate, "mapserver-"+l.name()+"-req/s")
			b.ReportMetric(rp.Rate/rm.Rate, "x-mapserver-"+l.name())
			fmt.Printf("  %-22s %12.0f %12.0f %6.2fx %7.1fms %7.1fms\n", l.name(), rp.Rate, rm.Rate, rp.Rate/rm.Rate, ms(rp.P99), ms(rm.P99))
			if rp.Errors+rm.Errors > 0 {
				b.Errorf("%s: errors: pvs %d, MapServer %d", l.name(), rp.Errors, rm.Errors)
			}
		}
		pr, mr := procPeak(r.pid()), sumPeak(msp...)
		b.ReportMetric(float64(pr>>20), "renderer-peak-RSS-MB")
		b.ReportMetric(float64(mr>>20), "mapserver-peak-RSS-MB")
		fmt.Printf("  peak RSS: renderer %d MB, MapServer %d MB (%d processes)\n", pr>>20, mr>>20, len(msp))

		// The path users get: the same lists through Traefik (the stack's
		// version, in front of the renderer).
		tbase := "http://127.0.0.1:" + envOr("PVS_BENCH_TRAEFIK_PORT", "18093") + "/ows"
		fmt.Printf("Through Traefik, against MapServer's figures above:\n")
		for _, l := range lists {
			if l.fmt != "image/png" && l.scene.name == "uint16" || l.fmt != "image/jpeg" && l.scene.name == "rgb" || l.crs != "EPSG:3857" {
				continue
			}
			tl := make([]string, len(l.pvs))
			for k, u := range l.pvs {
				tl[k] = tbase + strings.TrimPrefix(u, pvsBase)
			}
			rp, _, _ := compareList(b, tl, nil, conc, warmD, d)
			b.ReportMetric(rp.Rate/l.msRate, "traefik-x-mapserver-"+l.name())
			fmt.Printf("  %-22s %12.0f %12.0f %6.2fx %7.1fms\n", l.name(), rp.Rate, l.msRate, rp.Rate/l.msRate, ms(rp.P99))
		}

		// Other resamplings, on both sides, after the nearest lists.
		sc := largeScenes[0]
		boxes := largeBoxes(sc.wgs84(b), "EPSG:3857", 500, 1)
		fmt.Printf("Other resamplings, %s EPSG:3857 PNG:\n", sc.name)
		for _, rs := range []string{"bilinear", "cubic", "average"} {
			pvs := getMapURLs(pvsBase, sc.pvsLayer+"_"+strings.ToUpper(rs), "EPSG:3857", "image/png", boxes, "&TIME="+sc.time)
			msl := getMapURLs(msBase, sc.msLayer+"_"+rs, "EPSG:3857", "image/png", boxes, "")
			rp, rm, _ := compareList(b, pvs, msl, conc, warmD, d)
			b.ReportMetric(rp.Rate/rm.Rate, "x-mapserver-"+rs)
			fmt.Printf("  %-22s %12.0f %12.0f %6.2fx %7.1fms %7.1fms\n", rs, rp.Rate, rm.Rate, rp.Rate/rm.Rate, ms(rp.P99), ms(rm.P99))
			if rp.Errors+rm.Errors > 0 {
				b.Errorf("%s: errors: pvs %d, MapServer %d", rs, rp.Errors, rm.Errors)
			}
		}
		r.stop()

		// The renderer held to about 512 MB.
		env := strings.Fields(envOr("PVS_BENCH_SMALL_ENV", "GDAL_CACHEMAX=200 GOMEMLIMIT=160MiB"))
		r = startRenderer(b, env)
		resetPeak(r.pid())
		fmt.Printf("Renderer with %s, against MapServer's figures above:\n", strings.Join(env, " "))
		for _, l := range lists {
			rp, _, _ := compareList(b, l.pvs, nil, conc, warmD, d)
			b.ReportMetric(rp.Rate/l.msRate, "x-mapserver-small-"+l.name())
			fmt.Printf("  %-22s %12.0f %12.0f %6.2fx %7.1fms\n", l.name(), rp.Rate, l.msRate, rp.Rate/l.msRate, ms(rp.P99))
			if rp.Errors > 0 {
				b.Errorf("%s (small): %d errors", l.name(), rp.Errors)
			}
		}
		pr = procPeak(r.pid())
		b.ReportMetric(float64(pr>>20), "renderer-small-peak-RSS-MB")
		fmt.Printf("  peak RSS: renderer %d MB\n", pr>>20)
		r.stop()
		startRenderer(b, nil) // as configured, for the benchmarks after this one
	}
}

func benchDuration(k string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

// largeTiles are the GoogleMapsCompatible tiles at zooms 8-13 over the
// large UInt16 scene.
func largeTiles(b *testing.B) [][3]int {
	g := tile.GoogleMapsCompatible
	var out [][3]int
	for z := 8; z <= 13; z++ {
		r, _ := g.Covering(g.FromWGS84(largeScenes[0].wgs84(b)), z)
		for row := r.MinRow; row <= r.MaxRow; row++ {
			for col := r.MinCol; col <= r.MaxCol; col++ {
				out = append(out, [3]int{z, row, col})
			}
		}
	}
	return out
}

// warmParallel GETs every URL once with 4 workers (filling caches).
func warmParallel(b *testing.B, urls []string) (bytes int64) {
	var mu sync.Mutex
	var next int
	var wg sync.WaitGroup
	var failed string
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(urls) {
					return
				}
				resp, err := http.Get(urls[i])
				if err != nil {
					mu.Lock()
					failed = err.Error()
					mu.Unlock()
					continue
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				bytes += n
				if resp.StatusCode != 200 {
					failed = urls[i] + ": " + resp.Status
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if failed != "" {
		b.Fatalf("warming: %s", failed)
	}
	return bytes
}

// BenchmarkTileHitsLarge serves the tiles at zooms 8-13 over the large
// UInt16 scene (over a thousand PNGs of tens of KB, more than the cache's
// memory layer holds) from the pvs cache and from nginx serving the same
// files; then through one Traefik (the stack's version and access log) in
// front of the pvs cache and in front of Apache + mod_mapcache (its disk
// cache of the same tiles, drawn by MapServer).
func BenchmarkTileHitsLarge(b *testing.B) {
	requireRefs(b)
	if os.Getenv("PVS_BENCH_LARGE_SCENES") != "1" {
		b.Skip("large scenes not registered: run through make bench")
	}
	tiles := largeTiles(b)
	cachePort, tp := envOr("PVS_CACHE_PORT", "18082"), envOr("PVS_BENCH_TRAEFIK_PORT", "18093")
	// The same picture on both sides: bands 1-3 stretched from 0-4000.
	const layer = "VHR_IMAGE_2018__TRUE_COLOR_UINT16"
	var pvs, ngx, mc, tpvs, tmc, tngx []string
	for _, t := range tiles {
		pvs = append(pvs, fmt.Sprintf("http://127.0.0.1:%s/wmts/1.0.0/%s/default/GoogleMapsCompatible/%d/%d/%d.png", cachePort, layer, t[0], t[1], t[2]))
		ngx = append(ngx, fmt.Sprintf("http://127.0.0.1:%s/%s/GoogleMapsCompatible/default/%d/%d/%d.png", envOr("PVS_NGINX_TILES_PORT", "18091"), layer, t[0], t[2], t[1]))
		mc = append(mc, fmt.Sprintf("http://127.0.0.1:%s/mapcache/wmts/1.0.0/large16/default/GoogleMapsCompatible/%d/%d/%d.png", envOr("PVS_MAPCACHE_PORT", "18092"), t[0], t[1], t[2]))
		tpvs = append(tpvs, fmt.Sprintf("http://127.0.0.1:%s/wmts/1.0.0/%s/default/GoogleMapsCompatible/%d/%d/%d.png", tp, layer, t[0], t[1], t[2]))
		tmc = append(tmc, fmt.Sprintf("http://127.0.0.1:%s/mapcache/wmts/1.0.0/large16/default/GoogleMapsCompatible/%d/%d/%d.png", tp, t[0], t[1], t[2]))
		// nginx behind the same Traefik: the proxy's own ceiling.
		tngx = append(tngx, fmt.Sprintf("http://127.0.0.1:%s/%s/GoogleMapsCompatible/default/%d/%d/%d.png", tp, layer, t[0], t[2], t[1]))
	}
	total := warmParallel(b, pvs)  // the cache draws and stores what is missing
	mcTotal := warmParallel(b, mc) // MapCache fills its disk cache from MapServer
	warmParallel(b, ngx)
	conc, _ := strconv.Atoi(envOr("PVS_BENCH_CONC", "16"))
	d := benchDuration("PVS_BENCH_LOAD", 8*time.Second)
	avg := total / int64(len(tiles))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pid := readPids(filepath.Join(runDir(), "daemons", "cache.pid"))
		resetPeak(pid...)
		// Rounds in alternating order, so that no side always runs first
		// on a machine whose load changes; the rates are the rounds' mean.
		sides := []struct {
			name string
			urls []string
		}{{"pvs", pvs}, {"nginx", ngx}, {"mapcache", mc}, {"traefik-pvs", tpvs}, {"traefik-mapcache", tmc}, {"traefik-nginx", tngx}}
		rounds, _ := strconv.Atoi(envOr("PVS_BENCH_ROUNDS", "2"))
		res := map[string]loadResult{}
		for round := 0; round < max(rounds, 1); round++ {
			for k := range sides {
				s := sides[k]
				if round%2 == 1 {
					s = sides[len(sides)-1-k]
				}
				r, _, err := measure(s.urls, conc, d)
				if err != nil {
					b.Fatal(err)
				}
				if r.Errors > 0 {
					b.Errorf("%s: %d errors", s.name, r.Errors)
				}
				fmt.Printf("  round %d %-17s %s\n", round+1, s.name, r)
				acc := res[s.name]
				acc.Rate += r.Rate / float64(max(rounds, 1))
				acc.Requests += r.Requests
				acc.Errors += r.Errors
				acc.P50, acc.P99 = max(acc.P50, r.P50), max(acc.P99, r.P99)
				res[s.name] = acc
			}
		}
		for _, s := range sides {
			b.ReportMetric(res[s.name].Rate, s.name+"-req/s")
		}
		rss := sumPeak(pid...)
		b.ReportMetric(res["pvs"].Rate/res["nginx"].Rate, "x-nginx")
		b.ReportMetric(res["pvs"].Rate/res["mapcache"].Rate, "x-mapcache")
		b.ReportMetric(res["traefik-pvs"].Rate/res["traefik-mapcache"].Rate, "traefik-x-mapcache")
		b.ReportMetric(res["traefik-pvs"].Rate/res["nginx"].Rate, "traefik-x-nginx")
		b.ReportMetric(res["traefik-pvs"].Rate/res["traefik-nginx"].Rate, "traefik-x-traefik-nginx")
		b.ReportMetric(float64(rss>>20), "pvs-cache-peak-RSS-MB")
		fmt.Printf("Tile hits, large UInt16 scene, zooms 8-13: %d tiles, pvs %d KB on average (%d MB), MapCache %d KB, %d connections, %s each:\n"+
			"  pvs cache          %s\n  nginx static       %s\n  apache+mapcache    %s\n  traefik+pvs cache  %s\n  traefik+mapcache   %s\n  traefik+nginx      %s\n  (rates: mean of the rounds; p50, p99: the worst round)\n"+
			"  pvs/nginx %.2fx; through Traefik: pvs/mapcache %.2fx, pvs/nginx %.2fx, pvs/(nginx behind Traefik) %.2fx; pvs cache peak RSS %d MB\n",
			len(tiles), avg>>10, total>>20, mcTotal/int64(len(tiles))>>10, conc, d, res["pvs"], res["nginx"], res["mapcache"], res["traefik-pvs"], res["traefik-mapcache"], res["traefik-nginx"],
			res["pvs"].Rate/res["nginx"].Rate, res["traefik-pvs"].Rate/res["traefik-mapcache"].Rate, res["traefik-pvs"].Rate/res["nginx"].Rate, res["traefik-pvs"].Rate/res["traefik-nginx"].Rate, rss>>20)
	}
}
