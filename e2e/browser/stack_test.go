package browser

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/internal/pixelcheck"
	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/tile"
)

const (
	collection = "VHR_IMAGE_2018"
	sampleID   = "VHR18_SAMPLE_RGB_20180615"
	newerID    = "VHR18_MAGENTA_20180617"
)

// daemon runs `pvs <args>` until the test ends, its output in a log that
// is shown when the test fails.
func daemon(t *testing.T, bin string, env []string, args ...string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), args[0]+".log")
	f, err := os.Create(logPath)
	testenv.Must(t, err, "create log")
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, testenv.RepoRoot(t), f, f
	testenv.Must(t, cmd.Start(), "start pvs %s", args[0])
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		f.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("==== pvs %s\n%s", args[0], b)
		}
	})
}

func waitReady(t *testing.T, port int) {
	t.Helper()
	u := fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
	testenv.Eventually(t, 30*time.Second, u, func() (bool, error) {
		resp, err := http.Get(u)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Errorf("status %d", resp.StatusCode)
	})
}

// packages writes the sample (a Landsat scene, 2018-06-15) and a magenta
// square over part of it two days later into the source folder.
func packages(t *testing.T, root, incoming string) {
	t.Helper()
	raster, err := os.ReadFile(filepath.Join(root, "testdata/rasters/RGB.byte.tif"))
	testenv.Must(t, err, "read raster")
	meta, err := os.ReadFile(filepath.Join(root, "testdata/products/vhr18_sample", sampleID+".xml"))
	testenv.Must(t, err, "read metadata")
	dir := filepath.Join(incoming, "packages")
	testenv.Must(t, os.MkdirAll(dir, 0o755), "mkdir")
	testenv.Must(t, os.WriteFile(filepath.Join(dir, "sample.tar"), pixelcheck.Tar(t, map[string][]byte{
		"RGB.byte.tif": raster, sampleID + ".xml": meta}), 0o644), "write sample")

	cog.Init() // GDAL's drivers
	path := filepath.Join(t.TempDir(), "magenta.tif")
	ds, err := godal.Create(godal.GTiff, path, 3, godal.Byte, 300, 300)
	testenv.Must(t, err, "create raster")
	sr, err := godal.NewSpatialRefFromEPSG(4326)
	testenv.Must(t, err, "EPSG:4326")
	testenv.Must(t, ds.SetSpatialRef(sr), "set CRS")
	sr.Close()
	testenv.Must(t, ds.SetGeoTransform([6]float64{-78.2, 0.001, 0, 24.75, 0, -0.001}), "set geotransform")
	for i, v := range []float64{255, 0, 255} {
		testenv.Must(t, ds.Bands()[i].Fill(v, 0), "fill")
	}
	testenv.Must(t, ds.Close(), "write raster")
	rb, err := os.ReadFile(path)
	testenv.Must(t, err, "read raster")
	newerMeta := bytes.ReplaceAll(bytes.ReplaceAll(meta, []byte(sampleID), []byte(newerID)), []byte("2018-06-15"), []byte("2018-06-17"))
	testenv.Must(t, os.WriteFile(filepath.Join(dir, "newer.tar"), pixelcheck.Tar(t, map[string][]byte{
		"magenta.tif": rb, newerID + ".xml": newerMeta}), 0o644), "write newer")
}

// proxyTo hands requests to a daemon on a local port.
func proxyTo(port int) http.Handler {
	return httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(port)})
}

// deployment is the pipeline and the OGC daemons of pvs, run as processes
// on ports of their own with the registry, Redis and a local object store,
// with the sample and a newer product registered through the preprocessor
// and the registrar.
type deployment struct {
	bin, root       string
	env             []string
	renderer, cache int
}

// newDeployment picks the ports and writes the packages; start runs it.
func newDeployment(t *testing.T, bin string) *deployment {
	t.Helper()
	root := testenv.RepoRoot(t)
	_, prefix := testenv.Redis(t)
	dbURL := testenv.Database(t)
	data := t.TempDir()
	incoming, output, cache := filepath.Join(data, "incoming"), filepath.Join(data, "products"), filepath.Join(data, "cache")
	packages(t, root, incoming)
	d := &deployment{bin: bin, root: root, renderer: testenv.FreePort(t), cache: testenv.FreePort(t)}
	d.env = append(os.Environ(),
		"PVS_CONFIG="+filepath.Join(root, "config/vhr18.yaml"),
		"REDIS_URL="+testenv.RedisURL(), "PVS_REDIS_PREFIX="+prefix, "DATABASE_URL="+dbURL,
		"PVS_SOURCE="+incoming, "PVS_OUTPUT="+output, "PVS_CACHE_STORE="+cache,
		"PVS_RENDERER_PORT="+strconv.Itoa(d.renderer), "PVS_CACHE_PORT="+strconv.Itoa(d.cache),
	)
	return d
}

// routes hands the services to the daemons as the stack's Traefik does:
// /ows, /wms, /wcs and /opensearch to the renderer, /wmts to the cache.
func (d *deployment) routes(mux *http.ServeMux) {
	for _, p := range []string{"/ows", "/wms", "/wcs", "/opensearch", "/opensearch/"} {
		mux.Handle(p, proxyTo(d.renderer))
	}
	mux.Handle("/wmts", proxyTo(d.cache))
	mux.Handle("/wmts/", proxyTo(d.cache))
}

// start registers the products and starts the renderer and the cache,
// whose capabilities advertise publicURL (the origin the browser sees).
func (d *deployment) start(t *testing.T, publicURL string) {
	t.Helper()
	d.env = append(d.env, "PVS_PUBLIC_URL="+publicURL)
	run := func(args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, d.bin, args...)
		cmd.Env, cmd.Dir = d.env, d.root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pvs %v: %v\n%s", args, err, out)
		}
	}
	run("migrate")
	daemon(t, d.bin, d.env, "preprocessor", "--heartbeat", "1s")
	daemon(t, d.bin, d.env, "registrar", "--heartbeat", "1s")
	run("enqueue", "--wait", "120s", "packages/sample.tar", "packages/newer.tar")
	// Started after the registrations, so that their first look at the
	// catalogue sees both products.
	daemon(t, d.bin, d.env, "renderer")
	daemon(t, d.bin, d.env, "cache")
	waitReady(t, d.renderer)
	waitReady(t, d.cache)
}

// The same pages against the real daemons, started here after the sample
// and a newer product are registered.
func TestOpenLayersAgainstTheStack(t *testing.T) {
	testenv.Require(t)
	b := newBrowser(t)
	scripts := bundle(t)
	d := newDeployment(t, testenv.PVSBinary(t))
	ogc := http.NewServeMux()
	d.routes(ogc)
	srv := site(t, scripts, ogc)
	d.start(t, srv.URL) // capabilities advertise the page's origin

	// The sample's raster, a little wider: the layer's extent lies in it.
	bounds := [4]float64{-79.01, 23.51, -76.52, 25.6}
	inside := [2]float64{-77.9, 24.6}
	for _, set := range []string{"GoogleMapsCompatible", "WorldCRS84Quad"} {
		t.Run(set, func(t *testing.T) {
			r, _ := wmtsPage(t, b, srv.URL, collection, set)
			g, _ := tile.Lookup(set)
			e := g.ToWGS84(r.Extent)
			if e[0] < bounds[0] || e[1] < bounds[1] || e[2] > bounds[2] || e[3] > bounds[3] ||
				inside[0] < e[0] || inside[0] > e[2] || inside[1] < e[1] || inside[1] > e[3] {
				t.Errorf("tile grid extent %v (lon/lat %v) is not the sample's", r.Extent, e)
			}
		})
	}
	t.Run("WMS TIME", func(t *testing.T) {
		r := timePage(t, b, srv.URL, collection)
		// The extent's start is the sample alone, its end the magenta
		// square alone.
		if m := r.Frames[1].Canvas.Mean; m[0] < 240 || m[1] > 15 || m[2] < 240 {
			t.Errorf("TIME=%s: mean colour %v, want the magenta product", r.Frames[1].Time, m)
		}
		if m := r.Frames[0].Canvas.Mean; m[1] < 20 {
			t.Errorf("TIME=%s: mean colour %v, want the sample", r.Frames[0].Time, m)
		}
	})
}
