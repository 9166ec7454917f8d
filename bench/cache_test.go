package bench

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/tile"
)

// The cache benchmarks run against `make demo`'s deployment (the sample
// product in VHR_IMAGE_2018) and the reference servers of scripts/refs.sh,
// which scripts/bench.sh starts: PVS_BENCH_REFS=1 says they are up.
func requireRefs(b *testing.B) {
	if os.Getenv("PVS_BENCH_REFS") != "1" {
		b.Skip("reference servers not started: run through make bench")
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// tileList is the same tiles for every server: zoom 10 to 12 over the core
// of the sample scene, and part of zoom 13.
func tileList(maxTiles int) [][3]int {
	g := tile.GoogleMapsCompatible
	var out [][3]int
	for z := 10; z <= 13; z++ {
		r, _ := g.Covering(g.FromWGS84([4]float64{-78.6, 23.9, -77.0, 25.2}), z)
		for row := r.MinRow; row <= r.MaxRow; row++ {
			for col := r.MinCol; col <= r.MaxCol; col++ {
				if len(out) < maxTiles {
					out = append(out, [3]int{z, row, col})
				}
			}
		}
	}
	return out
}

func warm(b *testing.B, urls []string) {
	for _, u := range urls {
		resp, err := http.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("warming %s: %s", u, resp.Status)
		}
	}
}

// BenchmarkTileHits serves the same list of cached tiles from the pvs
// cache, Apache + mod_mapcache (disk cache) and nginx serving pvs's tile
// files statically, with the same concurrency, and reports requests/s,
// latencies, the ratios and the pvs cache's peak RSS.
func BenchmarkTileHits(b *testing.B) {
	requireRefs(b)
	tiles := tileList(2000)
	pvs, mc, ngx := make([]string, len(tiles)), make([]string, len(tiles)), make([]string, len(tiles))
	for i, t := range tiles {
		pvs[i] = fmt.Sprintf("http://127.0.0.1:%s/wmts/1.0.0/VHR_IMAGE_2018/default/GoogleMapsCompatible/%d/%d/%d.png", envOr("PVS_CACHE_PORT", "18082"), t[0], t[1], t[2])
		mc[i] = fmt.Sprintf("http://127.0.0.1:%s/mapcache/wmts/1.0.0/sample/default/GoogleMapsCompatible/%d/%d/%d.png", envOr("PVS_MAPCACHE_PORT", "18092"), t[0], t[1], t[2])
		ngx[i] = fmt.Sprintf("http://127.0.0.1:%s/VHR_IMAGE_2018/GoogleMapsCompatible/default/%d/%d/%d.png", envOr("PVS_NGINX_TILES_PORT", "18091"), t[0], t[2], t[1])
	}
	warm(b, pvs) // renders and caches what the seeder has not
	warm(b, mc)  // mapcache fills its disk cache from MapServer
	warm(b, ngx)
	conc, _ := strconv.Atoi(envOr("PVS_BENCH_CONC", "16"))
	d := 8 * time.Second
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rp, tool, err := measure(pvs, conc, d)
		if err != nil {
			b.Fatal(err)
		}
		rm, _, err := measure(mc, conc, d)
		if err != nil {
			b.Fatal(err)
		}
		rn, _, err := measure(ngx, conc, d)
		if err != nil {
			b.Fatal(err)
		}
		rss := sumPeak(readPids(filepath.Join(runDir(), "daemons", "cache.pid"))...)
		b.ReportMetric(rp.Rate, "pvs-req/s")
		b.ReportMetric(rm.Rate, "mapcache-req/s")
		b.ReportMetric(rn.Rate, "nginx-req/s")
		b.ReportMetric(rp.Rate/rm.Rate, "x-mapcache")
		b.ReportMetric(rp.Rate/rn.Rate, "x-nginx")
		b.ReportMetric(float64(rss)/(1<<20), "pvs-cache-peak-RSS-MB")
		b.Logf("%d tiles, %d connections, %s each, load from %s:\n  pvs cache:        %s\n  apache+mapcache:  %s\n  nginx static:     %s\n  pvs/mapcache %.2fx, pvs/nginx %.2fx, pvs cache peak RSS %d MB",
			len(tiles), conc, d, tool, rp, rm, rn, rp.Rate/rm.Rate, rp.Rate/rn.Rate, rss>>20)
		if rp.Errors+rm.Errors+rn.Errors > 0 {
			b.Errorf("errors: pvs %d, mapcache %d, nginx %d", rp.Errors, rm.Errors, rn.Errors)
		}
	}
}

// BenchmarkSeeding seeds zooms 8-13 over the sample product's footprint with
// `pvs seed` and with `mapcache_seed` (the faster of -n 2 and -n 3) fed by
// MapServer, both from an
// empty cache, and reports tiles/s and distinct images drawn per second:
// once with the caches on the disk, once with both on a tmpfs (when
// /dev/shm is one), where the filesystem's inode allocation is out of the
// figure.
func BenchmarkSeeding(b *testing.B) {
	requireRefs(b)
	pvsBin := pvsBinary(b)
	refs := filepath.Join(envOr("PVS_RUN_DIR", "../var/run"), "refs")
	fp := os.Getenv("PVS_BENCH_FOOTPRINT")
	if fp == "" {
		b.Skip("PVS_BENCH_FOOTPRINT (the product footprint in EPSG:3857, for mapcache_seed -d) is not set")
	}
	type place struct{ name, pvsCache, mapcacheXML, mapcacheDir string }
	places := []place{{"disk", envOr("PVS_CACHE_STORE", "../var/data/vhr18/cache"), filepath.Join(refs, "mapcache.xml"), filepath.Join(refs, "mapcache")}}
	if shm := "/dev/shm"; isTmpfs(shm) {
		dir, err := os.MkdirTemp(shm, "pvs-bench-seed-")
		if err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(dir)
		xml, err := os.ReadFile(filepath.Join(refs, "mapcache.xml"))
		if err != nil {
			b.Fatal(err)
		}
		mcDir := filepath.Join(dir, "mapcache")
		xml = regexp.MustCompile(`<base>[^<]*</base>`).ReplaceAll(xml, []byte("<base>"+mcDir+"</base>"))
		if err := os.WriteFile(filepath.Join(dir, "mapcache.xml"), xml, 0o644); err != nil {
			b.Fatal(err)
		}
		places = append(places, place{"tmpfs", filepath.Join(dir, "pvs"), filepath.Join(dir, "mapcache.xml"), mcDir})
	}
	for i := 0; i < b.N; i++ {
		for _, pl := range places {
			r := seedBoth(b, pvsBin, fp, pl.pvsCache, pl.mapcacheXML, pl.mapcacheDir)
			pr, mr := float64(r.pvsTiles)/r.pvs.Seconds(), float64(r.mcTiles)/r.mc.Seconds()
			pi := float64(r.pvsImages) / r.pvs.Seconds()
			suffix := ""
			if pl.name != "disk" {
				suffix = "-" + pl.name
			}
			b.ReportMetric(pr, "pvs-tiles/s"+suffix)
			b.ReportMetric(pi, "pvs-images/s"+suffix)
			b.ReportMetric(mr, "mapcache_seed-tiles/s"+suffix)
			b.ReportMetric(pr/mr, "ratio"+suffix)
			b.ReportMetric(pi/mr, "images-ratio"+suffix)
			b.Logf("zoom 8-13 over the footprint, caches on the %s: pvs seed %d tiles (%d distinct images: %.0f images/s) in %.1fs (%.0f tiles/s, 2 layers of time keys), mapcache_seed -n %s %d tiles in %.1fs (%.0f tiles/s): %.2fx per tile stored, %.2fx per distinct image",
				pl.name, r.pvsTiles, r.pvsImages, pi, r.pvs.Seconds(), pr, r.mcThreads, r.mcTiles, r.mc.Seconds(), mr, pr/mr, pi/mr)
		}
	}
}

// seeded is what one seeding of each side did.
type seeded struct {
	pvsTiles, pvsImages, mcTiles int
	pvs, mc                      time.Duration
	mcThreads                    string // mapcache_seed -n of its best run
}

// seedBoth empties both caches, then seeds with pvs (its cache store at
// pvsCache) and with mapcache_seed (configured by mapcacheXML, its disk
// cache under mapcacheDir).
func seedBoth(b *testing.B, pvsBin, footprint, pvsCache, mapcacheXML, mapcacheDir string) seeded {
	seedArgs := []string{"seed", "--interval", "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z", "--zoom", "8-13"}
	env := append(os.Environ(), "PVS_CACHE_STORE="+pvsCache)
	trunc := exec.Command(pvsBin, append(seedArgs, "--truncate")...)
	trunc.Env = env
	if out, err := trunc.CombinedOutput(); err != nil {
		b.Fatalf("truncate: %v\n%s", err, out)
	}
	var r seeded
	t0 := time.Now()
	cmd := exec.Command(pvsBin, seedArgs...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	r.pvs = time.Since(t0)
	if err != nil {
		b.Fatalf("pvs seed: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`seed: (\d+) tiles in`).FindSubmatch(out)
	if m == nil {
		b.Fatalf("pvs seed output: %s", out)
	}
	r.pvsTiles, _ = strconv.Atoi(string(m[1]))
	r.pvsImages = distinctTiles(filepath.Join(pvsCache, "VHR_IMAGE_2018", "GoogleMapsCompatible"), t0)

	// mapcache_seed at its best of 2 and 3 threads (pvs draws CPUs + 1
	// blocks at once by default).
	for _, threads := range []string{"2", "3"} {
		os.RemoveAll(filepath.Join(mapcacheDir, "sample"))
		t0 = time.Now()
		mc := exec.Command("mapcache_seed", "-c", mapcacheXML, "-t", "sample", "-g", "GoogleMapsCompatible",
			"-z", "8,13", "-n", threads, "-d", footprint, "-q")
		if out, err := mc.CombinedOutput(); err != nil {
			b.Fatalf("mapcache_seed: %v\n%s", err, out)
		}
		if el := time.Since(t0); r.mc == 0 || el < r.mc {
			r.mc, r.mcThreads = el, threads
		}
	}
	filepath.Walk(filepath.Join(mapcacheDir, "sample"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(p, ".png") {
			r.mcTiles++
		}
		return nil
	})
	return r
}

// isTmpfs reports whether dir is a writable tmpfs mount.
func isTmpfs(dir string) bool {
	var st syscall.Statfs_t
	const tmpfsMagic = 0x01021994
	return syscall.Statfs(dir, &st) == nil && st.Type == tmpfsMagic && syscall.Access(dir, 2) == nil
}

// distinctTiles counts the distinct z/x/y of the tile files written since
// t0 under any time key of dir (<time key>/<z>/<x>/<y>.png): the images
// drawn, however many keys each is stored under.
func distinctTiles(dir string, t0 time.Time) int {
	seen := map[string]bool{}
	keys, _ := os.ReadDir(dir)
	for _, k := range keys {
		root := filepath.Join(dir, k.Name())
		filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() && strings.HasSuffix(p, ".png") && !info.ModTime().Before(t0) {
				rel, _ := filepath.Rel(root, p)
				seen[rel] = true
			}
			return nil
		})
	}
	return len(seen)
}
