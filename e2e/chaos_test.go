package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/airbusgeo/godal"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/queue"
)

// The chaos tests run the real daemons, two of each worker, on tiny
// generated products in the local filesystem store, and break things while
// they work: SIGKILL of random workers, a Redis restart, a PostgreSQL
// restart. Redis and PostgreSQL are restarted only as private instances the
// test starts; the shared services are never touched.

// Worker timing of the chaos runs: a killed worker is judged dead after
// 1.5 s of silence (by Redis's clock).
var chaosWorkerFlags = []string{"--heartbeat", "250ms", "--dead-after", "1500ms", "--shutdown-grace", "5s"}

// chaosRoles are the queue workers, each run twice.
var chaosRoles = []string{"preprocessor", "registrar", "seeder"}

// chaosRun is one pipeline under test: its configuration, products and
// daemons.
type chaosRun struct {
	t       *testing.T
	bin     string
	dir     string
	env     []string
	rdb     *redis.Client
	q       *queue.Client
	prefix  string
	dbURL   string
	ids     []string // product identifiers
	items   []string // preprocess_queue items
	seeds   []string // seed_queue items
	regs    []string // register_queue items
	started time.Time

	mu       sync.Mutex
	workers  map[string]*daemon // by role-slot
	logs     []string
	restarts int
	// heldAtKill counts the items the killed workers held when killed.
	heldAtKill int
}

// daemon is one process of a pvs daemon.
type daemon struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
}

// newChaosRun prepares a run of n products; each option then changes the
// setup (the object store, say) before any daemon starts.
func newChaosRun(t *testing.T, redisURL, prefix, dbURL string, n int, options ...func(*chaosRun)) *chaosRun {
	t.Helper()
	godal.RegisterAll()
	opt, err := redis.ParseURL(redisURL)
	testenv.Must(t, err, "redis url")
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	r := &chaosRun{t: t, bin: testenv.PVSBinary(t), dir: t.TempDir(), rdb: rdb, q: queue.New(rdb, prefix), prefix: prefix,
		dbURL: dbURL, workers: map[string]*daemon{}}
	for _, d := range []string{"source", "output", "cache", "logs", "work"} {
		testenv.Must(t, os.MkdirAll(filepath.Join(r.dir, d), 0o755), "mkdir")
	}
	rendererPort := testenv.FreePort(t)
	cfg := filepath.Join(r.dir, "chaos.yaml")
	testenv.Must(t, os.WriteFile(cfg, []byte(chaosConfig(r.dir, rendererPort)), 0o644), "write config")
	r.env = append(os.Environ(), "PVS_CONFIG="+cfg, "REDIS_URL="+redisURL, "PVS_REDIS_PREFIX="+prefix,
		"DATABASE_URL="+dbURL, "PVS_SOURCE="+filepath.Join(r.dir, "source"), "PVS_OUTPUT="+filepath.Join(r.dir, "output"),
		"PVS_CACHE_STORE="+filepath.Join(r.dir, "cache"), fmt.Sprintf("PVS_RENDERER_URL=http://127.0.0.1:%d/ows", rendererPort),
		"PVS_LOG_LEVEL=info", "PVS_WORKER_ID=")
	r.makeProducts(n)
	for _, o := range options {
		o(r)
	}
	out, err := r.run("migrate")
	testenv.Must(t, err, "pvs migrate: %s", out)
	t.Cleanup(r.stop)
	r.launch("renderer", "renderer", "renderer", "--listen", fmt.Sprintf("127.0.0.1:%d", rendererPort))
	waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/ows?SERVICE=WMS&REQUEST=GetCapabilities", rendererPort))
	return r
}

// chaosConfig is config/vhr18.yaml cut down to what the chaos runs need:
// zoom levels where each product (0.064° wide, 15° from the next) is alone
// in its few tiles, and enough work per item (a conversion process, a
// batch delay, four zoom levels) that kills find items in flight.
func chaosConfig(dir string, rendererPort int) string {
	return fmt.Sprintf(`collection:
  name: VHR_IMAGE_2018
  title: VHR Image 2018 (chaos)
  product_types:
    - name: VHR_OPTICAL
      metadata_globs: ["*.xml"]
      data_globs: ["*.tif"]
  browses:
    - name: TRUE_COLOR
      bands: [1, 2, 3]
      resampling: nearest
redis:
  url: redis://127.0.0.1:1/0
database:
  url: postgres://127.0.0.1:1/none
storage:
  source: %[1]s/source
  output: %[1]s/output
  cache: %[1]s/cache
preprocessor:
  workdir: %[1]s/work
  concurrency: 2
  timeout: 2m
  cog:
    compress: DEFLATE
    blocksize: 256
    overview_resampling: AVERAGE
    num_threads: "1"
registrar:
  replace: true
  seed: true
  batch_delay: 100ms
renderer:
  listen: 127.0.0.1:%[2]d
  max_products: 50
cache:
  renderer_url: http://127.0.0.1:%[2]d/ows
  format: png
seeder:
  grid: GoogleMapsCompatible
  min_zoom: 8
  max_zoom: 11
  metatile: 1
  concurrency: 2
`, dir, rendererPort)
}

// makeProducts writes n packages of one 64×64 RGB GeoTIFF and its EO
// metadata each, at distinct places and times, under source/packages/.
func (r *chaosRun) makeProducts(n int) {
	r.t.Helper()
	tmpl, err := os.ReadFile(filepath.Join(testenv.RepoRoot(r.t), "testdata/products/vhr18_sample", sampleID+".xml"))
	testenv.Must(r.t, err, "read metadata template")
	t0 := time.Date(2018, 6, 15, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("CHAOS_P%03d", i)
		begin := t0.Add(time.Duration(i) * time.Minute)
		end := begin.Add(30 * time.Second)
		pkg := filepath.Join(r.dir, "source", "packages", id)
		testenv.Must(r.t, os.MkdirAll(pkg, 0o755), "mkdir")
		lon, lat := -150+float64(i%20)*15+0.5, -45+float64(i/20%10)*9+0.5
		writeRaster(r.t, filepath.Join(pkg, id+".tif"), lon, lat, byte(i))
		md := bytes.ReplaceAll(tmpl, []byte(sampleID), []byte(id))
		md = bytes.ReplaceAll(md, []byte("2018-06-15T15:20:00Z"), []byte(begin.Format(time.RFC3339)))
		md = bytes.ReplaceAll(md, []byte("2018-06-15T15:20:30Z"), []byte(end.Format(time.RFC3339)))
		testenv.Must(r.t, os.WriteFile(filepath.Join(pkg, id+".xml"), md, 0o644), "write metadata")
		r.ids = append(r.ids, id)
		r.items = append(r.items, "packages/"+id)
		r.regs = append(r.regs, collection+"/"+id)
		r.seeds = append(r.seeds, period.Period{Start: begin, End: end}.String())
	}
}

func writeRaster(t *testing.T, path string, lon, lat float64, v byte) {
	ds, err := godal.Create(godal.GTiff, path, 3, godal.Byte, 64, 64)
	testenv.Must(t, err, "create raster")
	sr, err := godal.NewSpatialRefFromEPSG(4326)
	testenv.Must(t, err, "EPSG:4326")
	testenv.Must(t, ds.SetSpatialRef(sr), "set CRS")
	sr.Close()
	testenv.Must(t, ds.SetGeoTransform([6]float64{lon, 0.001, 0, lat, 0, -0.001}), "set geotransform")
	for i, b := range ds.Bands() {
		testenv.Must(t, b.Fill(float64(v)+float64(40*i), 0), "fill band")
	}
	testenv.Must(t, ds.Close(), "write raster")
}

func (r *chaosRun) run(args ...string) (string, error) {
	cmd := exec.Command(r.bin, args...)
	cmd.Env, cmd.Dir = r.env, r.dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// launch starts a daemon whose output goes to a log of its own.
func (r *chaosRun) launch(key, name string, args ...string) *daemon {
	r.t.Helper()
	path := filepath.Join(r.dir, "logs", fmt.Sprintf("%s-%d.log", name, time.Now().UnixNano()))
	f, err := os.Create(path)
	testenv.Must(r.t, err, "create log")
	defer f.Close()
	cmd := exec.Command(r.bin, args...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = r.env, r.dir, f, f
	testenv.Must(r.t, cmd.Start(), "start %s", name)
	d := &daemon{name: name, cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(d.exited) }()
	r.mu.Lock()
	r.workers[key] = d
	r.logs = append(r.logs, path)
	r.mu.Unlock()
	return d
}

// startWorker starts worker slot of role under generation gen of its id.
func (r *chaosRun) startWorker(role string, slot, gen int) {
	id := fmt.Sprintf("%s-%d-g%d", role, slot, gen)
	args := append([]string{role, "--worker-id", id}, chaosWorkerFlags...)
	r.launch(fmt.Sprintf("%s-%d", role, slot), id, args...)
}

func (r *chaosRun) startWorkers() {
	for _, role := range chaosRoles {
		for slot := 0; slot < 2; slot++ {
			r.startWorker(role, slot, 0)
		}
	}
}

// enqueue pushes the packages evenly over d, as a steady ingestion does,
// so that the pipeline is busy for all of d while things break; it
// returns at once, and notes the time.
func (r *chaosRun) enqueue(d time.Duration) {
	r.started = time.Now()
	gap := d / time.Duration(len(r.items))
	go func() {
		for _, it := range r.items {
			if err := r.q.Enqueue(context.Background(), "preprocess_queue", it); err != nil {
				// Redis may be restarting: the operator would push again.
				for err != nil {
					time.Sleep(200 * time.Millisecond)
					err = r.q.Enqueue(context.Background(), "preprocess_queue", it)
				}
			}
			time.Sleep(gap)
		}
	}()
}

// killer SIGKILLs a random worker every 1–2.5 s (three times in four one
// holding items, if any does) and starts it again: under
// the same worker id every other time (it gives back its previous life's
// items at start), else under a new id (the others reclaim its items once
// it is silent for dead-after). It returns the number of kills when ctx ends.
func (r *chaosRun) killer(ctx context.Context) int {
	kills := 0
	gens := map[string]int{}
	for {
		select {
		case <-ctx.Done():
			return kills
		case <-time.After(time.Second + rand.N(1500*time.Millisecond)):
		}
		key := r.victim(kills%4 != 0)
		r.mu.Lock()
		d := r.workers[key]
		r.mu.Unlock()
		r.heldAtKill += r.heldBy(d.name)
		d.cmd.Process.Signal(syscall.SIGKILL)
		<-d.exited
		kills++
		if kills%2 == 0 {
			gens[key]++
		}
		role, slot, _ := strings.Cut(key, "-")
		r.startWorker(role, int(slot[0]-'0'), gens[key])
		r.mu.Lock()
		r.restarts++
		r.mu.Unlock()
	}
}

// victim picks a worker to kill, as role-slot: with busy, one of those
// holding items if any does (a kill of an idle worker tests little), else
// any.
func (r *chaosRun) victim(busy bool) string {
	r.mu.Lock()
	byID := map[string]string{}
	var all []string
	for key, d := range r.workers {
		if key != "renderer" {
			byID[d.name] = key
			all = append(all, key)
		}
	}
	r.mu.Unlock()
	if busy {
		hs, _ := r.q.Holders(context.Background())
		var holding []string
		for _, h := range hs {
			if key, ok := byID[h.Worker]; ok {
				holding = append(holding, key)
			}
		}
		if len(holding) > 0 {
			return holding[rand.N(len(holding))]
		}
	}
	return all[rand.N(len(all))]
}

func (r *chaosRun) holders() []queue.Holding {
	hs, _ := r.q.Holders(context.Background())
	return hs
}

// heldBy counts the items worker holds.
func (r *chaosRun) heldBy(worker string) int {
	hs := r.holders()
	n := 0
	for _, h := range hs {
		if h.Worker == worker {
			n++
		}
	}
	return n
}

// stop ends every daemon, workers first: SIGTERM, then SIGKILL after 20 s.
func (r *chaosRun) stop() {
	r.mu.Lock()
	ds := make([]*daemon, 0, len(r.workers))
	for _, d := range r.workers {
		ds = append(ds, d)
	}
	r.mu.Unlock()
	for _, d := range ds {
		d.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, d := range ds {
		select {
		case <-d.exited:
		case <-time.After(20 * time.Second):
			d.cmd.Process.Kill()
			<-d.exited
		}
	}
	if r.t.Failed() {
		r.dumpLogs()
	}
}

func (r *chaosRun) dumpLogs() {
	for _, l := range r.logs {
		b, _ := os.ReadFile(l)
		if len(b) > 6000 {
			b = append([]byte("...\n"), b[len(b)-6000:]...)
		}
		r.t.Logf("==== %s\n%s", filepath.Base(l), b)
	}
}

// count returns the size of a PVS set.
func (r *chaosRun) count(set string) int64 {
	n, _ := r.rdb.SCard(context.Background(), r.prefix+set).Result()
	return n
}

// waitDone waits until every stage has an outcome for every item.
func (r *chaosRun) waitDone(timeout time.Duration) {
	r.t.Helper()
	n := int64(len(r.ids))
	testenv.Eventually(r.t, timeout, "every item through every stage", func() (bool, error) {
		pre := r.count("preprocess-success_set") + r.count("preprocess-failure_set")
		reg := r.count("register-success_set") + r.count("register-failure_set")
		seed := r.count("seed-success_set") + r.count("seed-failure_set")
		return pre == n && reg == n && seed == n, fmt.Errorf("outcomes: preprocess %d, register %d, seed %d of %d", pre, reg, seed, n)
	})
}

// tally is what the checks of a run found.
type tally struct {
	lost, duplicated int
	held             int   // items in progress sets, processing lists, queues or retries
	registered       int64 // products in PostGIS
	runs             runs
}

// check verifies the end state: every item in its stage's success set and
// in no other outcome set, nothing held or queued anywhere, each product
// registered exactly once.
func (r *chaosRun) check() tally {
	r.t.Helper()
	ctx := context.Background()
	var tl tally
	for _, st := range []struct {
		stage queue.Stage
		items []string
	}{{queue.Preprocess, r.items}, {queue.Register, r.regs}, {queue.Seed, r.seeds}} {
		for _, it := range st.items {
			s, _ := r.q.IsMember(ctx, st.stage.Success, it)
			f, _ := r.q.IsMember(ctx, st.stage.Failure, it)
			switch {
			case s && f:
				tl.duplicated++
				r.t.Errorf("%s is in both outcome sets of %s", it, st.stage.Name)
			case !s:
				tl.lost++
				hs, _ := r.q.History(ctx, it)
				r.t.Errorf("%s did not succeed in %s: %+v", it, st.stage.Name, hs)
			}
		}
		for _, set := range []string{st.stage.Success, st.stage.Failure} {
			if n := r.count(set); n > int64(len(st.items)) {
				tl.duplicated += int(n) - len(st.items)
				r.t.Errorf("%s holds %d items, want at most %d", set, n, len(st.items))
			}
		}
		if n := r.count(st.stage.Progress); n != 0 {
			tl.held += int(n)
			r.t.Errorf("%s holds %d items", st.stage.Progress, n)
		}
		for _, q := range st.stage.Queues {
			n, _ := r.rdb.LLen(ctx, r.prefix+q).Result()
			d, _ := r.rdb.ZCard(ctx, r.prefix+"pvs:delayed:"+q).Result()
			if n+d != 0 {
				tl.held += int(n + d)
				r.t.Errorf("%s holds %d items, %d more wait for a retry", q, n, d)
			}
		}
	}
	hs, err := r.q.Holders(ctx)
	testenv.Must(r.t, err, "holders")
	for _, h := range hs {
		tl.held++
		r.t.Errorf("still held: %+v", h)
	}
	tl.registered = r.registered()
	if tl.registered != int64(len(r.ids)) {
		r.t.Errorf("%d products registered, want %d", tl.registered, len(r.ids))
	}
	tl.runs = r.readRuns()
	return tl
}

// registered counts the chaos products in PostGIS (identifiers are
// unique there: a second registration of one is an update).
func (r *chaosRun) registered() int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, r.dbURL)
	testenv.Must(r.t, err, "connect to PostGIS")
	defer conn.Close(ctx)
	var n int64
	testenv.Must(r.t, conn.QueryRow(ctx, "SELECT count(*) FROM products WHERE identifier LIKE 'CHAOS_P%'").Scan(&n), "count products")
	return n
}

// runs is what the daemons' logs say they did.
type runs struct {
	starts, retries, successes map[string]int     // by stage + " " + item
	dropped                    int                // late outcomes of items a worker had lost
	reclaimed                  int                // items taken back from workers judged dead
	restarted                  int                // items a worker gave back when it started again
	orphans                    int                // items a live worker held without working on them
	seconds                    map[string]float64 // handler time of the successes, by stage
}

// readRuns reads the JSON logs of every daemon life.
func (r *chaosRun) readRuns() runs {
	rs := runs{starts: map[string]int{}, retries: map[string]int{}, successes: map[string]int{}, seconds: map[string]float64{}}
	for _, path := range r.logs {
		f, err := os.Open(path)
		testenv.Must(r.t, err, "open log")
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l struct {
				Msg   string  `json:"msg"`
				Stage string  `json:"stage"`
				Item  string  `json:"item"`
				Items int     `json:"items"`
				Secs  float64 `json:"seconds"`
			}
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				continue
			}
			k := l.Stage + " " + l.Item
			switch {
			case l.Msg == "item started":
				rs.starts[k]++
			case l.Msg == "item will be retried":
				rs.retries[k]++
			case l.Msg == "item succeeded":
				rs.successes[k]++
				rs.seconds[l.Stage] += l.Secs
			case strings.HasPrefix(l.Msg, "outcome dropped"):
				rs.dropped++
			case strings.HasPrefix(l.Msg, "returned items of dead workers"):
				rs.reclaimed += l.Items
			case strings.HasPrefix(l.Msg, "returned items a previous life"):
				rs.restarted += l.Items
			case strings.HasPrefix(l.Msg, "gave back an item"):
				rs.orphans++
			}
		}
		f.Close()
	}
	return rs
}

// reruns counts the starts that no recorded retry explains: an item run
// again because its worker died (or was thought dead) before recording it.
func (rs runs) reruns() int {
	n := 0
	for k, s := range rs.starts {
		n += max(0, s-1-rs.retries[k])
	}
	return n
}

func (rs runs) total() (starts, retries int) {
	for _, s := range rs.starts {
		starts += s
	}
	for _, s := range rs.retries {
		retries += s
	}
	return starts, retries
}

// ranTwice reports the items whose work was done more than once: started
// again without a recorded retry, or succeeding twice.
func (rs runs) ranTwice() []string {
	var out []string
	for k, s := range rs.starts {
		if s-1-rs.retries[k] > 0 || rs.successes[k] > 1 {
			out = append(out, fmt.Sprintf("%s (%d starts, %d retries, %d successes)", k, s, rs.retries[k], rs.successes[k]))
		}
	}
	return out
}

// checkStatus asks `pvs status --held` who holds what, every half second
// for d, and checks that every held item is one of the run's, held by one
// of its workers; it fails the test if no answer showed anything held.
func (r *chaosRun) checkStatus(d time.Duration) {
	r.t.Helper()
	known := map[string]bool{}
	for _, list := range [][]string{r.items, r.regs, r.seeds} {
		for _, it := range list {
			known[it] = true
		}
	}
	worker := regexp.MustCompile(`^(preprocessor|registrar|seeder)-[01]-g[0-9]+$`)
	seen := 0
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		out, err := r.run("status", "--held", "--json")
		testenv.Must(r.t, err, "pvs status --held --json: %s", out)
		var hs []queue.Holding
		testenv.Must(r.t, json.Unmarshal([]byte(out), &hs), "decode %s", out)
		for _, h := range hs {
			if !known[h.Item] || !worker.MatchString(h.Worker) || h.Attempts < 1 {
				r.t.Errorf("pvs status shows %+v", h)
			}
		}
		seen += len(hs)
	}
	if seen == 0 {
		r.t.Errorf("pvs status --held showed no item held in %s of work", d)
	}
}

// TestChaosKillWorkers runs 200 products through two preprocessors, two
// registrars and two seeders while workers are SIGKILLed and started again
// every few seconds. Nothing is lost, nothing ends in two outcome sets,
// nothing stays held, every product is registered once.
func TestChaosKillWorkers(t *testing.T) {
	testenv.Require(t)
	_, prefix := testenv.Redis(t)
	n := 200
	r := newChaosRun(t, testenv.RedisURL(), prefix, testenv.Database(t), n)
	r.startWorkers()
	r.enqueue(40 * time.Second)
	ctx, stopKilling := context.WithCancel(context.Background())
	kills := make(chan int, 1)
	go func() { kills <- r.killer(ctx) }()
	r.checkStatus(5 * time.Second)
	r.waitDone(3 * time.Minute)
	stopKilling()
	k := <-kills
	elapsed := time.Since(r.started)
	tl := r.check()
	starts, retries := tl.runs.total()
	t.Logf("handler seconds per stage: %v", tl.runs.seconds)
	t.Logf("chaos: %d products, %d items through 3 stages in %s; %d kills (holding %d items), %d restarts; %d handler runs (%d retries, %d re-runs after kills); "+
		"items given back: %d reclaimed from dead workers, %d at restarts under the same id, %d orphans; %d late outcomes dropped; "+
		"%d registered; lost = %d, duplicated = %d, held = %d",
		n, 3*n, elapsed.Round(time.Second), k, r.heldAtKill, r.restarts, starts, retries, tl.runs.reruns(),
		tl.runs.reclaimed, tl.runs.restarted, tl.runs.orphans, tl.runs.dropped, tl.registered, tl.lost, tl.duplicated, tl.held)
	if k < 10 {
		t.Errorf("only %d kills: the run was too short to say anything", k)
	}
}

// outage takes a service down for d in the middle of the run (stop, then
// start after d), lets the run finish, and checks that nothing was lost or
// done twice across it: every extra start of an item follows a recorded
// retry, no item succeeds twice, nothing is reclaimed from live workers.
// It returns the handler runs' retries.
func (r *chaosRun) outage(what string, n int, d time.Duration, stop, start func()) (retries int) {
	t := r.t
	inFlight := len(r.holders())
	stop()
	down := time.Now()
	time.Sleep(d)
	start()
	took := time.Since(down)
	r.waitDone(2 * time.Minute)
	tl := r.check()
	starts, retries := tl.runs.total()
	twice := tl.runs.ranTwice()
	t.Logf("%s restart: %d products, %d items in %s; %s down %s with %d items held; %d handler runs (%d retries); %d items reclaimed, %d orphans given back, %d late outcomes dropped; %d registered; lost = %d, run twice = %d, duplicated = %d",
		what, n, 3*n, time.Since(r.started).Round(time.Second), what, took.Round(time.Millisecond), inFlight, starts, retries,
		tl.runs.reclaimed, tl.runs.orphans, tl.runs.dropped, tl.registered, tl.lost, len(twice), tl.duplicated)
	if len(twice) > 0 || tl.runs.reclaimed > 0 || tl.runs.dropped > 0 {
		t.Errorf("work done twice across the %s restart: %v (%d items reclaimed from live workers, %d outcomes dropped)", what, twice, tl.runs.reclaimed, tl.runs.dropped)
	}
	return retries
}

// TestChaosRedisRestart kills a private Redis (appendonly, fsync always)
// in the middle of a run and starts it again after twice dead-after:
// nothing is lost, and no work is done twice (every extra start of an item
// follows a recorded retry, no item succeeds twice, nothing is reclaimed).
func TestChaosRedisRestart(t *testing.T) {
	testenv.Require(t)
	srv := testenv.StartRedis(t)
	n := 60
	r := newChaosRun(t, srv.URL(), "chaos:", testenv.Database(t), n)
	r.startWorkers()
	r.enqueue(15 * time.Second)
	testenv.Eventually(t, time.Minute, "a quarter of the packages preprocessed", func() (bool, error) {
		return r.count("preprocess-success_set") >= int64(n/4), nil
	})
	r.outage("Redis", n, 3*time.Second, srv.Kill, srv.Start)
}

// TestChaosPostgresRestart stops a private PostgreSQL cluster the hard way
// in the middle of a run and starts it again: registrations, seeding and
// rendering fail meanwhile and are retried; nothing is lost and no work is
// done twice.
func TestChaosPostgresRestart(t *testing.T) {
	testenv.Require(t)
	pg := testenv.StartPostgres(t)
	_, prefix := testenv.Redis(t)
	n := 60
	r := newChaosRun(t, testenv.RedisURL(), prefix, pg.URL(), n)
	r.startWorkers()
	r.enqueue(15 * time.Second)
	testenv.Eventually(t, time.Minute, "a quarter of the products registered", func() (bool, error) {
		return r.count("register-success_set") >= int64(n/4), nil
	})
	r.outage("PostgreSQL", n, 3*time.Second, pg.Stop, pg.Start)
}

// onS3 puts the run's source and output stores in two buckets of srv (the
// cache stays local: the seeder's tiles are not what is under test) and
// uploads the packages made in the source folder.
func onS3(srv *testenv.S3Server) func(*chaosRun) {
	return func(r *chaosRun) {
		src, out := srv.Bucket("chaos-source"), srv.Bucket("chaos-output")
		root := filepath.Join(r.dir, "source")
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			key, _ := filepath.Rel(root, path)
			return src.PutFile(context.Background(), filepath.ToSlash(key), path)
		})
		testenv.Must(r.t, err, "upload the packages")
		c := srv.Config("")
		r.env = append(r.env, "PVS_SOURCE="+src.URL(), "PVS_OUTPUT="+out.URL(), "S3_ENDPOINT="+c.Endpoint,
			"S3_REGION="+c.Region, "S3_ACCESS_KEY="+c.AccessKey, "S3_SECRET_KEY="+c.SecretKey)
	}
}

// TestChaosS3Restart kills a private S3 server (versitygw) holding the
// source and output buckets in the middle of a run, keeps it down 10 s and
// starts it again on the same port and data: fetches, uploads, metadata
// reads and renderings fail meanwhile and are retried; nothing is lost, no
// work is done twice, every product is registered once.
func TestChaosS3Restart(t *testing.T) {
	testenv.Require(t)
	srv := testenv.StartS3(t)
	_, prefix := testenv.Redis(t)
	n := 40
	r := newChaosRun(t, testenv.RedisURL(), prefix, testenv.Database(t), n, onS3(srv))
	r.startWorkers()
	r.enqueue(12 * time.Second)
	testenv.Eventually(t, time.Minute, "a quarter of the packages preprocessed", func() (bool, error) {
		return r.count("preprocess-success_set") >= int64(n/4), nil
	})
	if r.outage("S3", n, 10*time.Second, srv.Kill, srv.Start) == 0 {
		t.Errorf("no item was retried: the outage hit no work, the test says nothing")
	}
}
