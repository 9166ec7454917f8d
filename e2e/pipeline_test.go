// Package e2e runs the whole system: the pvs daemons as processes against the
// real Redis, PostGIS, S3 server and Traefik that `make test` starts.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/internal/pixelcheck"
	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/tile"
)

const (
	collection = "VHR_IMAGE_2018"
	sampleID   = "VHR18_SAMPLE_RGB_20180615"
	brokenID   = "VHR18_BROKEN_20180616"
)

type daemons struct {
	t    *testing.T
	cmds []*exec.Cmd
	logs []string
}

func (d *daemons) start(bin string, env []string, args ...string) {
	d.t.Helper()
	logPath := filepath.Join(d.t.TempDir(), args[0]+".log")
	f, err := os.Create(logPath)
	testenv.Must(d.t, err, "create log")
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Dir = testenv.RepoRoot(d.t)
	cmd.Stdout, cmd.Stderr = f, f
	testenv.Must(d.t, cmd.Start(), "start %s", args[0])
	d.cmds = append(d.cmds, cmd)
	d.logs = append(d.logs, logPath)
}

func (d *daemons) stop() {
	for _, c := range d.cmds {
		c.Process.Signal(syscall.SIGTERM)
	}
	for _, c := range d.cmds {
		done := make(chan struct{})
		go func() { c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			c.Process.Kill()
			<-done
		}
	}
	if d.t.Failed() {
		for _, l := range d.logs {
			b, _ := os.ReadFile(l)
			d.t.Logf("==== %s\n%s", filepath.Base(l), b)
		}
	}
}

func TestPipelineEndToEnd(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	root := testenv.RepoRoot(t)
	bin := testenv.PVSBinary(t)
	rdb, prefix := testenv.Redis(t)
	dbURL := testenv.Database(t)
	incoming := testenv.S3Bucket(t)
	products := testenv.S3Bucket(t)
	cache := testenv.S3Bucket(t)
	s3cfg := testenv.S3Config("")
	httpBase := testenv.Env("PVS_TEST_HTTP", "http://127.0.0.1:18080")

	// Packages in the source bucket: the sample, and one with a truncated
	// raster that must fail without stopping the preprocessor.
	raster, err := os.ReadFile(filepath.Join(root, "testdata/rasters/RGB.byte.tif"))
	testenv.Must(t, err, "read raster")
	meta, err := os.ReadFile(filepath.Join(root, "testdata/products/vhr18_sample", sampleID+".xml"))
	testenv.Must(t, err, "read metadata")
	truncated, err := os.ReadFile(filepath.Join(root, "testdata/rasters/byte_truncated.tif"))
	testenv.Must(t, err, "read truncated raster")
	brokenMeta := bytes.ReplaceAll(bytes.ReplaceAll(meta, []byte(sampleID), []byte(brokenID)), []byte("2018-06-15"), []byte("2018-06-16"))
	testenv.Must(t, incoming.Put(ctx, "packages/sample.tar", bytes.NewReader(pixelcheck.Tar(t, map[string][]byte{
		"RGB.byte.tif": raster, sampleID + ".xml": meta}))), "upload sample")
	testenv.Must(t, incoming.Put(ctx, "packages/broken.tar", bytes.NewReader(pixelcheck.Tar(t, map[string][]byte{
		"byte_truncated.tif": truncated, brokenID + ".xml": brokenMeta}))), "upload broken")

	env := append(os.Environ(),
		"PVS_CONFIG="+filepath.Join(root, "config/vhr18.yaml"),
		"REDIS_URL="+testenv.RedisURL(), "PVS_REDIS_PREFIX="+prefix, "DATABASE_URL="+dbURL,
		"S3_ENDPOINT="+s3cfg.Endpoint, "S3_ACCESS_KEY="+s3cfg.AccessKey, "S3_SECRET_KEY="+s3cfg.SecretKey,
		"PVS_SOURCE=s3://"+bucketOf(incoming.URL()), "PVS_OUTPUT=s3://"+bucketOf(products.URL()),
		"PVS_CACHE_STORE=s3://"+bucketOf(cache.URL()), "PVS_PUBLIC_URL="+httpBase,
		"PVS_LOG_LEVEL=debug",
	)
	run := func(args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Dir = env, root
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("migrate")
	testenv.Must(t, err, "pvs migrate: %s", out)

	d := &daemons{t: t}
	defer d.stop()
	d.start(bin, env, "preprocessor", "--heartbeat", "1s")
	d.start(bin, env, "registrar", "--heartbeat", "1s")
	d.start(bin, env, "seeder", "--heartbeat", "1s")
	d.start(bin, env, "renderer")
	d.start(bin, env, "cache")

	out, err = run("enqueue", "packages/broken.tar", "packages/sample.tar")
	testenv.Must(t, err, "pvs enqueue: %s", out)

	q := queue.New(rdb, prefix)
	registerItem := collection + "/" + sampleID
	testenv.Eventually(t, 90*time.Second, "sample in register-success_set", func() (bool, error) {
		return q.IsMember(ctx, "register-success_set", registerItem)
	})
	ok, err := q.IsMember(ctx, "preprocess-failure_set", "packages/broken.tar")
	testenv.Must(t, err, "failure set")
	if !ok {
		t.Fatal("the truncated package is not in preprocess-failure_set")
	}
	ok, err = q.IsMember(ctx, "preprocess-success_set", "packages/sample.tar")
	testenv.Must(t, err, "success set")
	if !ok {
		t.Fatal("the sample package is not in preprocess-success_set")
	}

	// pvs status: every PVS key, and the failed item's reason.
	out, err = run("status")
	testenv.Must(t, err, "pvs status: %s", out)
	for _, want := range []string{"preprocess_queue", "preprocess-md_queue", "preprocessing_set", "preprocess-success_set",
		"preprocess-failure_set", "register_queue", "registering_set", "register-success_set", "register-failure_set",
		"seed_queue", "seeding_set", "seed-success_set", "seed-failure_set"} {
		if !strings.Contains(out, want) {
			t.Errorf("pvs status does not list %s:\n%s", want, out)
		}
	}
	if !containsLine(out, "preprocess-failure_set", "1") || !containsLine(out, "register-success_set", "1") {
		t.Errorf("pvs status counts are wrong:\n%s", out)
	}
	// A failed item: its history, and exit code 4 (failed) for scripts.
	out, err = run("status", "packages/broken.tar")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 4 {
		t.Errorf("pvs status of a failed item: %v, want exit code 4\n%s", err, out)
	}
	for _, want := range []string{"status:    failure", "stage:     preprocess", "enqueued:", "finished:",
		"error:     convert byte_truncated.tif to COG", "Read error"} {
		if !strings.Contains(out, want) {
			t.Errorf("pvs status packages/broken.tar lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "pvs-preprocess-") {
		t.Errorf("the failure reason leaks the work dir:\n%s", out)
	}
	out, err = run("status", "packages/sample.tar")
	testenv.Must(t, err, "pvs status ITEM: %s", out)
	if !strings.Contains(out, "status:    success") || !strings.Contains(out, "result:    "+registerItem) {
		t.Errorf("pvs status packages/sample.tar:\n%s", out)
	}

	// The product's objects are in the output bucket.
	for _, key := range []string{registerItem + "/" + sampleID + ".tif", registerItem + "/" + sampleID + ".xml"} {
		if _, err := products.Stat(ctx, key); err != nil {
			t.Errorf("output object %s: %v", key, err)
		}
	}

	src := pixelcheck.Open(t, filepath.Join(root, "testdata/rasters/RGB.byte.tif"))

	// WMS 1.3.0 GetMap through Traefik, in EPSG:3857 and in EPSG:4326
	// (lat/lon axis order), checked pixel by pixel against the source.
	waitHTTP(t, httpBase+"/ows?SERVICE=WMS&REQUEST=GetCapabilities")
	b3857 := [4]float64{-8750000, 2800000, -8600000, 2950000}
	img := pixelcheck.GetPNG(t, nil, fmt.Sprintf("%s/ows?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=%s&STYLES=&CRS=EPSG:3857&BBOX=%s&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE",
		httpBase, collection, bboxParam(b3857[0], b3857[1], b3857[2], b3857[3])), nil)
	src.Check(t, "WMS EPSG:3857", img, 3857, b3857)
	b4326 := [4]float64{-78.4, 24.3, -77.3, 25.3} // lon/lat
	img = pixelcheck.GetPNG(t, nil, fmt.Sprintf("%s/ows?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=%s&STYLES=&CRS=EPSG:4326&BBOX=%s&WIDTH=300&HEIGHT=270&FORMAT=image/png&TRANSPARENT=TRUE",
		httpBase, collection, bboxParam(b4326[1], b4326[0], b4326[3], b4326[2])), nil)
	src.Check(t, "WMS EPSG:4326", img, 4326, b4326)
	// The product as a layer of its own, and the collection's outlines.
	img = pixelcheck.GetPNG(t, nil, fmt.Sprintf("%s/ows?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=%s&STYLES=&CRS=EPSG:3857&BBOX=%s&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE",
		httpBase, sampleID, bboxParam(b3857[0], b3857[1], b3857[2], b3857[3])), nil)
	src.Check(t, "WMS product layer", img, 3857, b3857)
	img = pixelcheck.GetPNG(t, nil, fmt.Sprintf("%s/ows?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=%s__outlines&STYLES=&CRS=EPSG:4326&BBOX=23,-80,26,-76&WIDTH=400&HEIGHT=300&FORMAT=image/png&TRANSPARENT=TRUE",
		httpBase, collection), nil)
	if n := pixelcheck.Opaque(img); n < 500 || n > 20000 {
		t.Errorf("outlines layer: %d drawn pixels, want a thin outline of the scene", n)
	}

	// A WMTS tile inside the image, through Traefik; the seeder has put it
	// in the S3 cache already (zooms 6-9 of config/vhr18.yaml).
	testenv.Eventually(t, 60*time.Second, "seed of the sample's interval", func() (bool, error) {
		return q.IsMember(ctx, "seed-success_set", "2018-06-15T15:20:00Z/2018-06-15T15:20:30Z")
	})
	g := tile.GoogleMapsCompatible
	z := 9
	r, ok := g.Covering(g.FromWGS84([4]float64{-77.9, 24.6, -77.9, 24.6}), z)
	if !ok {
		t.Fatal("no tile covers the sample point")
	}
	tileURL := fmt.Sprintf("%s/wmts/1.0.0/%s/default/%s/%d/%d/%d.png", httpBase, collection, g.Name, z, r.MinRow, r.MinCol)
	var hdr http.Header
	img = pixelcheck.GetPNG(t, nil, tileURL, &hdr)
	src.Check(t, "WMTS tile", img, 3857, g.BBox(z, r.MinRow, r.MinCol))
	if hdr.Get("X-Cache") != "HIT" {
		t.Errorf("seeded tile was not served from the cache: X-Cache=%q", hdr.Get("X-Cache"))
	}
	key := tile.Key{Layer: collection, Grid: g.Name, Time: tile.DefaultTime, Z: z, Row: r.MinRow, Col: r.MinCol, Format: "png"}
	if _, err := cache.Stat(ctx, key.Path()); err != nil {
		t.Errorf("tile %s is not in the S3 cache: %v", key.Path(), err)
	}
	// Conditional request: the ETag answers 304.
	req, _ := http.NewRequest(http.MethodGet, tileURL, nil)
	req.Header.Set("If-None-Match", hdr.Get("ETag"))
	resp, err := http.DefaultClient.Do(req)
	testenv.Must(t, err, "conditional tile request")
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the tile's ETag: got %d, want 304", resp.StatusCode)
	}
	// A tile of the same product at a zoom the seeder did not seed is
	// rendered on demand, then cached.
	z = 11
	r, _ = g.Covering(g.FromWGS84([4]float64{-77.9, 24.6, -77.9, 24.6}), z)
	tileURL = fmt.Sprintf("%s/wmts/1.0.0/%s/default/2018-06-15T00:00:00Z--2018-06-16T00:00:00Z/%s/%d/%d/%d.png", httpBase, collection, g.Name, z, r.MinRow, r.MinCol)
	img = pixelcheck.GetPNG(t, nil, tileURL, &hdr)
	if hdr.Get("X-Cache") != "MISS" {
		t.Errorf("unseeded tile: X-Cache=%q, want MISS", hdr.Get("X-Cache"))
	}
	src.Check(t, "WMTS tile on demand", img, 3857, g.BBox(z, r.MinRow, r.MinCol))
	pixelcheck.GetPNG(t, nil, tileURL, &hdr)
	if hdr.Get("X-Cache") != "HIT" {
		t.Errorf("second request of a rendered tile: X-Cache=%q, want HIT", hdr.Get("X-Cache"))
	}
	featureInfo(t, httpBase)
	// The same through the WMTS: a pixel of the zoom-11 tile over the
	// sample point, forwarded to the renderer.
	{
		resp, err := http.Get(fmt.Sprintf("%s/wmts/1.0.0/%s/default/%s/%d/%d/%d/128/128.json", httpBase, collection, g.Name, z, r.MinRow, r.MinCol))
		testenv.Must(t, err, "WMTS GetFeatureInfo")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), sampleID) {
			t.Errorf("WMTS GetFeatureInfo: %d %s", resp.StatusCode, body)
		}
		// A WMS GetMap of exactly that tile is the cached tile; another
		// box is drawn by the renderer behind the cache.
		tb := g.BBox(z, r.MinRow, r.MinCol)
		wmsURL := fmt.Sprintf("%s/wmts?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=%s&STYLES=&CRS=EPSG:3857&BBOX=%s&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE&TIME=2018-06-15T00:00:00Z/2018-06-16T00:00:00Z",
			httpBase, collection, bboxParam(tb[0], tb[1], tb[2], tb[3]))
		var wh http.Header
		img := pixelcheck.GetPNG(t, nil, wmsURL, &wh)
		if wh.Get("X-Cache") != "HIT" {
			t.Errorf("tiled WMS GetMap of a cached tile: X-Cache=%q", wh.Get("X-Cache"))
		}
		src.Check(t, "tiled WMS", img, 3857, tb)
		shifted := fmt.Sprintf("%s/wmts?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=%s&STYLES=&CRS=EPSG:3857&BBOX=%s&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE",
			httpBase, collection, bboxParam(tb[0]+5000, tb[1], tb[2]+5000, tb[3]))
		img = pixelcheck.GetPNG(t, nil, shifted, &wh)
		if wh.Get("X-Cache") != "" {
			t.Errorf("unaligned WMS GetMap through the cache: X-Cache=%q, want it drawn by the renderer", wh.Get("X-Cache"))
		}
		src.Check(t, "unaligned WMS through the cache", img, 3857, [4]float64{tb[0] + 5000, tb[1], tb[2] + 5000, tb[3]})
		// Far from any data, a tile is the shared blank.
		resp, err = http.Get(fmt.Sprintf("%s/wmts/1.0.0/%s/default/%s/4/2/2.png", httpBase, collection, g.Name))
		testenv.Must(t, err, "blank tile")
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "BLANK" {
			t.Errorf("tile far from the data: %d X-Cache=%q", resp.StatusCode, resp.Header.Get("X-Cache"))
		}
	}
	openSearch(t, httpBase)
	gdalClients(t, httpBase, src)
	invalidationRoundTrip(t, httpBase, run, incoming, meta)

	// A time outside the layer's extent is the client's error, not a tile.
	resp, err = http.Get(fmt.Sprintf("%s/wmts/1.0.0/%s/default/2019-01-01T00:00:00Z--2019-01-02T00:00:00Z/%s/%d/%d/%d.png", httpBase, collection, g.Name, z, r.MinRow, r.MinCol))
	testenv.Must(t, err, "tile outside the time extent")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "is outside the layer") {
		t.Errorf("tile outside the time extent: %d %s", resp.StatusCode, body)
	}
}

func bucketOf(url string) string {
	return strings.TrimSuffix(strings.TrimPrefix(url, "s3://"), "/")
}

func bboxParam(v ...float64) string {
	s := make([]string, len(v))
	for i, f := range v {
		s[i] = strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strings.Join(s, ",")
}

func containsLine(out, key, count string) bool {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 3 && f[0] == key && f[2] == count {
			return true
		}
	}
	return false
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, url, func() (bool, error) {
		resp, err := http.Get(url)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Errorf("status %d", resp.StatusCode)
	})
}

// invalidationRoundTrip registers a newer product over part of the sample:
// the cached tiles its footprint touches change (it is drawn on top), the
// others stay cached as they were; deregistering it brings the touched
// tiles back to what they were.
func invalidationRoundTrip(t *testing.T, httpBase string, run func(...string) (string, error), incoming interface {
	Put(context.Context, string, io.Reader) error
}, meta []byte) {
	t.Helper()
	ctx := context.Background()
	g := tile.GoogleMapsCompatible
	const z = 9
	at := func(lon, lat float64) string {
		r, _ := g.Covering(g.FromWGS84([4]float64{lon, lat, lon, lat}), z)
		return fmt.Sprintf("%s/wmts/1.0.0/%s/default/%s/%d/%d/%d.png", httpBase, collection, g.Name, z, r.MinRow, r.MinCol)
	}
	touchedURL, otherURL := at(-78.05, 24.6), at(-76.9, 24.0)
	if touchedURL == otherURL {
		t.Fatal("test tiles coincide")
	}
	get := func(url string) ([]byte, http.Header) {
		resp, err := http.Get(url)
		testenv.Must(t, err, "GET %s", url)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s", url, resp.Status)
		}
		return b, resp.Header
	}
	before, _ := get(touchedURL)
	otherBefore, _ := get(otherURL)

	// The newer product: magenta over lon -78.2..-77.9, lat 24.45..24.75.
	dir := t.TempDir()
	raster := filepath.Join(dir, "newer.tif")
	ds, err := godal.Create(godal.GTiff, raster, 3, godal.Byte, 300, 300)
	testenv.Must(t, err, "create raster")
	sr, _ := godal.NewSpatialRefFromEPSG(4326)
	ds.SetSpatialRef(sr)
	sr.Close()
	ds.SetGeoTransform([6]float64{-78.2, 0.001, 0, 24.75, 0, -0.001})
	for i, v := range []byte{255, 0, 255} {
		ds.Bands()[i].Fill(float64(v), 0)
	}
	testenv.Must(t, ds.Close(), "write raster")
	rb, _ := os.ReadFile(raster)
	const newerID = "VHR18_NEWER_20180617"
	newerMeta := bytes.ReplaceAll(bytes.ReplaceAll(meta, []byte(sampleID), []byte(newerID)), []byte("2018-06-15"), []byte("2018-06-17"))
	testenv.Must(t, incoming.Put(ctx, "packages/newer.tar", bytes.NewReader(pixelcheck.Tar(t, map[string][]byte{
		"newer.tif": rb, newerID + ".xml": newerMeta}))), "upload newer")
	out, err := run("enqueue", "--wait", "60s", "packages/newer.tar")
	testenv.Must(t, err, "enqueue newer: %s", out)

	testenv.Eventually(t, 30*time.Second, "the touched tile redrawn with the newer product", func() (bool, error) {
		b, _ := get(touchedURL)
		return !bytes.Equal(b, before), nil
	})
	after, _ := get(touchedURL)
	img, err := png.Decode(bytes.NewReader(after))
	testenv.Must(t, err, "decode")
	magenta := 0
	bnds := img.Bounds()
	for y := bnds.Min.Y; y < bnds.Max.Y; y++ {
		for x := bnds.Min.X; x < bnds.Max.X; x++ {
			if r, gg, b, a := img.At(x, y).RGBA(); r>>8 == 255 && gg>>8 == 0 && b>>8 == 255 && a>>8 == 255 {
				magenta++
			}
		}
	}
	if magenta < 1000 {
		t.Errorf("the redrawn tile shows %d pixels of the newer product", magenta)
	}
	otherAfter, hdr := get(otherURL)
	if !bytes.Equal(otherAfter, otherBefore) || hdr.Get("X-Cache") != "HIT" {
		t.Errorf("a tile the newer footprint does not touch was dropped or changed (X-Cache %s)", hdr.Get("X-Cache"))
	}

	out, err = run("deregister", newerID)
	testenv.Must(t, err, "deregister: %s", out)
	// Back as it was: the seeder drew `before` inside a metatile, the cache
	// draws it alone now; GDAL's approximate transformer (0.125 px) may pick
	// another source pixel at a few pixel edges in the two windows.
	beforeImg, err := png.Decode(bytes.NewReader(before))
	testenv.Must(t, err, "decode")
	testenv.Eventually(t, 30*time.Second, "the touched tile back as it was", func() (bool, error) {
		b, _ := get(touchedURL)
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			return false, err
		}
		magenta, differ := 0, 0
		bb := img.Bounds()
		for y := bb.Min.Y; y < bb.Max.Y; y++ {
			for x := bb.Min.X; x < bb.Max.X; x++ {
				r, g, b2, a := img.At(x, y).RGBA()
				if r>>8 == 255 && g>>8 == 0 && b2>>8 == 255 && a>>8 == 255 {
					magenta++
				}
				if r0, g0, b0, a0 := beforeImg.At(x, y).RGBA(); r0 != r || g0 != g || b0 != b2 || a0 != a {
					differ++
				}
			}
		}
		return magenta == 0 && differ <= bb.Dx()*bb.Dy()/200, fmt.Errorf("%d pixels of the newer product, %d differing", magenta, differ)
	})
	if b, hdr := get(otherURL); !bytes.Equal(b, otherBefore) || hdr.Get("X-Cache") != "HIT" {
		t.Errorf("deregistration dropped an untouched tile")
	}
}

// gdalClients reads the served layer with GDAL's WMTS and WMS drivers,
// which are strict about capabilities, and checks what they fetch.
func gdalClients(t *testing.T, httpBase string, src *pixelcheck.Source) {
	t.Helper()
	dir := t.TempDir()
	// GDAL's WMS and WMTS drivers cache tiles under the working folder
	// unless told otherwise: keep them out of the checkout.
	t.Setenv("GDAL_DEFAULT_WMS_CACHE_PATH", filepath.Join(dir, "wms-cache"))
	wmts := fmt.Sprintf("WMTS:%s/wmts/1.0.0/WMTSCapabilities.xml,layer=%s,tilematrixset=GoogleMapsCompatible", httpBase, collection)
	out, err := exec.Command("gdalinfo", wmts).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Size is") {
		t.Fatalf("gdalinfo on the WMTS: %v\n%s", err, out)
	}
	// A window of the WMTS at zoom 9 resolution, through GDAL.
	b := [4]float64{-8750000, 2800000, -8600000, 2950000}
	dst := filepath.Join(dir, "wmts.tif")
	out, err = exec.Command("gdal_translate", "-q", "-projwin", bboxParam(b[0]), bboxParam(b[3]), bboxParam(b[2]), bboxParam(b[1]),
		"-outsize", "256", "256", "-r", "nearest", wmts, dst).CombinedOutput()
	if err != nil {
		t.Fatalf("gdal_translate from the WMTS: %v\n%s", err, out)
	}
	if st := readRGBA(t, dst); st < 1000 {
		t.Errorf("GDAL read %d opaque pixels through the WMTS", st)
	}
	wms := fmt.Sprintf("WMS:%s/ows?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=%s&CRS=EPSG:4326&BBOX=23.5,-79,25.6,-76.5&FORMAT=image/png&TRANSPARENT=TRUE", httpBase, collection)
	dst = filepath.Join(dir, "wms.tif")
	out, err = exec.Command("gdal_translate", "-q", "-outsize", "400", "0", wms, dst).CombinedOutput()
	if err != nil {
		t.Fatalf("gdal_translate from the WMS: %v\n%s", err, out)
	}
	if st := readRGBA(t, dst); st < 10000 {
		t.Errorf("GDAL read %d opaque pixels through the WMS", st)
	}
	// GDAL's WCS 2.0.1 client reads a window of the product's coverage:
	// the same pixels as the source.
	wcs := fmt.Sprintf("WCS:%s/ows?version=2.0.1&coverage=%s", httpBase, sampleID)
	dst = filepath.Join(dir, "wcs.tif")
	out, err = exec.Command("gdal_translate", "-q", "-oo", "CACHE="+filepath.Join(dir, "wcs-cache"),
		"-srcwin", "100", "120", "200", "150", wcs, dst).CombinedOutput()
	if err != nil {
		t.Fatalf("gdal_translate from the WCS: %v\n%s", err, out)
	}
	if w, h := src.CheckWindow(t, "GDAL WCS client", dst, 100, 120); w != 200 || h != 150 {
		t.Fatalf("WCS result is %dx%d, want 200x150", w, h)
	}
}

// openSearch finds the sample through Traefik by area and time, in Atom
// and GeoJSON, and follows its WMS link.
func openSearch(t *testing.T, httpBase string) {
	t.Helper()
	fetch := func(u string) []byte {
		resp, err := http.Get(u)
		testenv.Must(t, err, "GET %s", u)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
		}
		return body
	}
	var fc struct {
		TotalResults int `json:"totalResults"`
		Features     []struct {
			ID    string `json:"id"`
			Props struct {
				Links map[string][]struct {
					Href string `json:"href"`
				} `json:"links"`
			} `json:"properties"`
		} `json:"features"`
	}
	body := fetch(httpBase + "/opensearch/json?bbox=-78,24.5,-77.5,25&start=2018-06-15&end=2018-06-16")
	testenv.Must(t, json.Unmarshal(body, &fc), "GeoJSON results")
	if fc.TotalResults != 1 || len(fc.Features) != 1 || fc.Features[0].ID != sampleID {
		t.Fatalf("OpenSearch by bbox and time: %s", body)
	}
	img := pixelcheck.GetPNG(t, nil, fc.Features[0].Props.Links["alternates"][0].Href, nil)
	if n := pixelcheck.Opaque(img); n < 10000 {
		t.Errorf("the result's WMS link draws %d opaque pixels", n)
	}
	// Elsewhere or at another time: nothing; Atom says so too.
	body = fetch(httpBase + "/opensearch/atom?bbox=-78,24.5,-77.5,25&start=2019-01-01")
	if !strings.Contains(string(body), "<opensearch:totalResults>0</opensearch:totalResults>") {
		t.Errorf("OpenSearch for 2019: %s", body)
	}
	body = fetch(httpBase + "/opensearch/atom?geom=" + url.QueryEscape("POINT(-77.9 24.6)"))
	if !strings.Contains(string(body), "<dc:identifier>"+sampleID+"</dc:identifier>") {
		t.Errorf("OpenSearch by point geometry: %s", body)
	}
	if !strings.Contains(string(fetch(httpBase+"/opensearch")), "{geo:box?}") {
		t.Error("the OpenSearch description has no geo:box template")
	}
}

// readRGBA counts the opaque pixels of an RGBA raster.
func readRGBA(t *testing.T, path string) int {
	ds, err := godal.Open(path)
	testenv.Must(t, err, "open %s", path)
	defer ds.Close()
	st := ds.Structure()
	if st.NBands != 4 {
		t.Fatalf("%s has %d bands, want RGBA", path, st.NBands)
	}
	alpha := make([]byte, st.SizeX*st.SizeY)
	testenv.Must(t, ds.Bands()[3].Read(0, 0, alpha, st.SizeX, st.SizeY), "read alpha")
	n := 0
	for _, a := range alpha {
		if a == 255 {
			n++
		}
	}
	return n
}

// featureInfo asks the renderer, through Traefik, which product is at a
// pixel inside the sample and at one outside it.
func featureInfo(t *testing.T, httpBase string) {
	t.Helper()
	q := func(i, j int) []string {
		url := fmt.Sprintf("%s/ows?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=%s&QUERY_LAYERS=%s&STYLES=&CRS=EPSG:4326&BBOX=23,-80,26,-76&WIDTH=400&HEIGHT=300&I=%d&J=%d&INFO_FORMAT=application/json",
			httpBase, collection, collection, i, j)
		resp, err := http.Get(url)
		testenv.Must(t, err, "GetFeatureInfo")
		defer resp.Body.Close()
		var fc struct {
			Features []struct {
				ID         string         `json:"id"`
				Properties map[string]any `json:"properties"`
			} `json:"features"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&fc); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GetFeatureInfo: %d %v", resp.StatusCode, err)
		}
		var ids []string
		for _, f := range fc.Features {
			ids = append(ids, f.ID)
			if f.Properties["platform"] != "Landsat" {
				t.Errorf("feature %s properties %v", f.ID, f.Properties)
			}
		}
		return ids
	}
	// lon -77.9, lat 24.6 is inside the scene; lon -79.5, lat 25.5 is not.
	if ids := q(210, 140); len(ids) != 1 || ids[0] != sampleID {
		t.Errorf("inside the sample: %v", ids)
	}
	if ids := q(50, 50); len(ids) != 0 {
		t.Errorf("outside the sample: %v", ids)
	}
}
