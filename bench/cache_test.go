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
// MapServer, and reports tiles/s and distinct images drawn per second, with
// the caches on the disk (beside the cache store), on a new ext4 with a
// journal (mkfs.ext4's default, as a host's cache volume would be; made in a
// file on the disk and mounted through a loop device, when the benchmark
// runs as root) and on a tmpfs (when /dev/shm is one).
//
// Each seeding starts from an empty cache in a directory made for it.
// Seeding into a cache just emptied is measured too, on the disks, for both
// sides (`pvs seed --truncate`, and the removal of mapcache's tiles; the
// "-after-truncate" figures): on an ext4 without a journal, which may be the
// disk's (this machine's root is one), the kernel will not reuse an inode
// freed less than 5 minutes ago (5 s once its inode table is written back),
// and checks every such inode of the block group, from its start, at every
// file it creates, so each file created costs time in proportion to the
// files deleted before it there; a run started within 5 minutes of another
// meets the files that one deleted too.
func BenchmarkSeeding(b *testing.B) {
	requireRefs(b)
	pvsBin := pvsBinary(b)
	fp := os.Getenv("PVS_BENCH_FOOTPRINT")
	if fp == "" {
		b.Skip("PVS_BENCH_FOOTPRINT (the product footprint in EPSG:3857, for mapcache_seed -d) is not set")
	}
	xml, err := os.ReadFile(filepath.Join(runDir(), "refs", "mapcache.xml"))
	if err != nil {
		b.Fatal(err)
	}
	type place struct {
		name, parent string
		truncate     bool // measure a seeding after a truncation too
	}
	disk := filepath.Dir(envOr("PVS_CACHE_STORE", "../var/data/vhr18/cache"))
	places := []place{{"disk", disk, true}}
	if mnt, err := journaledExt4(b, disk); err != nil {
		b.Logf("no ext4 with a journal: %v", err)
	} else {
		places = append(places, place{"ext4-journal", mnt, true})
	}
	if shm := "/dev/shm"; isTmpfs(shm) {
		places = append(places, place{"tmpfs", shm, false})
	}
	for i := 0; i < b.N; i++ {
		for _, pl := range places {
			dir, err := os.MkdirTemp(pl.parent, "pvs-bench-seed-")
			if err != nil {
				b.Fatal(err)
			}
			defer os.RemoveAll(dir)
			s := seeding{b: b, pvsBin: pvsBin, footprint: fp, mapcacheXML: xml, dir: dir}
			r := s.fresh()
			s.report(pl.name, "", r)
			if pl.truncate {
				s.report(pl.name, "after-truncate", s.afterTruncate(r.mcThreads))
			}
		}
	}
}

// journaledExt4 makes a 2 GiB ext4 with a journal in a sparse file under
// dir, mounts it through a loop device and returns where; it is unmounted
// and its file removed when b ends.
func journaledExt4(b *testing.B, dir string) (string, error) {
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("mounting needs root")
	}
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		return "", err
	}
	img, err := os.CreateTemp(dir, "pvs-bench-ext4-*.img")
	if err != nil {
		return "", err
	}
	img.Close()
	b.Cleanup(func() { os.Remove(img.Name()) })
	if err := os.Truncate(img.Name(), 2<<30); err != nil {
		return "", err
	}
	if out, err := exec.Command(mkfs, "-q", "-F", "-j", img.Name()).CombinedOutput(); err != nil {
		return "", fmt.Errorf("mkfs.ext4: %v: %s", err, out)
	}
	mnt, err := os.MkdirTemp(dir, "pvs-bench-ext4-")
	if err != nil {
		return "", err
	}
	b.Cleanup(func() { os.Remove(mnt) })
	if out, err := exec.Command("mount", "-o", "loop", img.Name(), mnt).CombinedOutput(); err != nil {
		return "", fmt.Errorf("mount: %v: %s", err, out)
	}
	b.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			b.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	return mnt, nil
}

// seeding seeds both sides under dir.
type seeding struct {
	b                 *testing.B
	pvsBin, footprint string
	mapcacheXML       []byte // refs' configuration, its cache base replaced
	dir               string
}

// seeded is what one seeding of each side did.
type seeded struct {
	pvsTiles, pvsImages, mcTiles int
	pvs, mc                      time.Duration
	mcThreads                    string // mapcache_seed -n of its best run
}

var pvsSeedArgs = []string{"seed", "--interval", "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z", "--zoom", "8-13"}

// fresh seeds pvs into dir/pvs and mapcache_seed at 2 and 3 threads (pvs
// draws CPUs + 1 blocks at once by default) into a new directory each.
func (s seeding) fresh() seeded {
	var r seeded
	r.pvsTiles, r.pvsImages, r.pvs = s.pvs(false)
	for _, threads := range []string{"2", "3"} {
		n, d := s.mapcache("mapcache-"+threads, threads)
		if r.mc == 0 || d < r.mc {
			r.mc, r.mcThreads, r.mcTiles = d, threads, n
		}
	}
	return r
}

// afterTruncate empties what fresh seeded and seeds it again: pvs after its
// own truncation, mapcache_seed at its best thread count after the removal
// of its tiles.
func (s seeding) afterTruncate(threads string) seeded {
	r := seeded{mcThreads: threads}
	r.pvsTiles, r.pvsImages, r.pvs = s.pvs(true)
	if err := os.RemoveAll(filepath.Join(s.dir, "mapcache-"+threads)); err != nil {
		s.b.Fatal(err)
	}
	r.mcTiles, r.mc = s.mapcache("mapcache-"+threads, threads)
	return r
}

// pvs seeds with `pvs seed` into dir/pvs, truncating first if asked, and
// returns the tiles stored, the distinct images drawn and the time taken.
func (s seeding) pvs(truncate bool) (tiles, images int, d time.Duration) {
	store := filepath.Join(s.dir, "pvs")
	env := append(os.Environ(), "PVS_CACHE_STORE="+store)
	if truncate {
		trunc := exec.Command(s.pvsBin, append(pvsSeedArgs, "--truncate")...)
		trunc.Env = env
		if out, err := trunc.CombinedOutput(); err != nil {
			s.b.Fatalf("truncate: %v\n%s", err, out)
		}
	}
	t0 := time.Now()
	cmd := exec.Command(s.pvsBin, pvsSeedArgs...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	d = time.Since(t0)
	if err != nil {
		s.b.Fatalf("pvs seed: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`seed: (\d+) tiles in`).FindSubmatch(out)
	if m == nil {
		s.b.Fatalf("pvs seed output: %s", out)
	}
	tiles, _ = strconv.Atoi(string(m[1]))
	images = distinctTiles(filepath.Join(store, "VHR_IMAGE_2018", "GoogleMapsCompatible"), t0)
	return tiles, images, d
}

// mapcache seeds with mapcache_seed at the given thread count into
// dir/name, and returns the tiles stored and the time taken.
func (s seeding) mapcache(name, threads string) (tiles int, d time.Duration) {
	base := filepath.Join(s.dir, name)
	conf := base + ".xml"
	xml := regexp.MustCompile(`<base>[^<]*</base>`).ReplaceAll(s.mapcacheXML, []byte("<base>"+base+"</base>"))
	if err := os.WriteFile(conf, xml, 0o644); err != nil {
		s.b.Fatal(err)
	}
	t0 := time.Now()
	mc := exec.Command("mapcache_seed", "-c", conf, "-t", "sample", "-g", "GoogleMapsCompatible",
		"-z", "8,13", "-n", threads, "-d", s.footprint, "-q")
	if out, err := mc.CombinedOutput(); err != nil {
		s.b.Fatalf("mapcache_seed: %v\n%s", err, out)
	}
	d = time.Since(t0)
	filepath.Walk(base, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(p, ".png") {
			tiles++
		}
		return nil
	})
	return tiles, d
}

// report reports r's figures, their names suffixed with the place (but the
// disk's) and what else says how the seeding started.
func (s seeding) report(place, how string, r seeded) {
	suffix := ""
	for _, part := range []string{place, how} {
		if part != "" && part != "disk" {
			suffix += "-" + part
		}
	}
	pr, mr := float64(r.pvsTiles)/r.pvs.Seconds(), float64(r.mcTiles)/r.mc.Seconds()
	pi := float64(r.pvsImages) / r.pvs.Seconds()
	s.b.ReportMetric(pr, "pvs-tiles/s"+suffix)
	s.b.ReportMetric(pi, "pvs-images/s"+suffix)
	s.b.ReportMetric(mr, "mapcache_seed-tiles/s"+suffix)
	s.b.ReportMetric(pr/mr, "ratio"+suffix)
	s.b.ReportMetric(pi/mr, "images-ratio"+suffix)
	start := "an empty cache"
	if how != "" {
		start = "a cache just emptied"
	}
	s.b.Logf("zoom 8-13 over the footprint, caches on the %s, from %s: pvs seed %d tiles (%d distinct images: %.0f images/s) in %.1fs (%.0f tiles/s, 2 layers of time keys), mapcache_seed -n %s %d tiles in %.1fs (%.0f tiles/s): %.2fx per tile stored, %.2fx per distinct image",
		place, start, r.pvsTiles, r.pvsImages, pi, r.pvs.Seconds(), pr, r.mcThreads, r.mcTiles, r.mc.Seconds(), mr, pr/mr, pi/mr)
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
