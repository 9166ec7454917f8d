package stacks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/pixelcheck"
	"github.com/pvs/pvs/pkg/store/s3"
	"github.com/pvs/pvs/pkg/tile"
)

// TestSwarmDeploy deploys the base stack, both collection stacks and the
// monitoring stack on a single-node swarm with the images scripts/images.sh
// builds, as docs/operations.md tells an operator to, and checks what an
// operator and a map user see. `make stack-test` runs it.
func TestSwarmDeploy(t *testing.T) {
	if os.Getenv("PVS_STACK_TEST") != "1" {
		t.Skip("deploys on a Docker swarm: run `make stack-test`")
	}
	root, _ := filepath.Abs("..")
	s := &swarm{t: t, root: root}
	s.teardown() // what a failed earlier run may have left
	if os.Getenv("PVS_STACK_KEEP") == "" {
		t.Cleanup(s.teardown)
	}
	start := time.Now()

	// What an operator prepares once: node labels for the stateful
	// services, the public network, secrets.
	node := s.must("info", "-f", "{{.Swarm.NodeID}}")
	s.must("node", "update", "--label-add", "vhr18-data=true", "--label-add", "emg-data=true", node)
	s.must("network", "create", "--driver", "overlay", "--attachable", "pvs-public")
	certPEM, keyPEM, pool := selfSigned(t, vhr18.host, emg.host)
	s.secret("pvs-tls-cert", certPEM)
	s.secret("pvs-tls-key", keyPEM)
	tokens := map[string]string{} // the admin and ingestor tokens, by secret name
	for _, c := range []collection{vhr18, emg} {
		for _, name := range []string{"s3-access-key", "s3-secret-key", "db-password", "redis-password", "admin-token", "ingestor-token"} {
			v := c.stack + "-" + name + "-" + fmt.Sprint(time.Now().UnixNano())
			tokens[c.stack+"-"+name] = v
			s.secret(c.stack+"-"+name, []byte(v))
		}
	}
	baseEnv := []string{"PVS_WEB_PORT=" + webPort, "PVS_WEBSECURE_PORT=" + websecurePort}
	if out, err := s.dockerEnv(baseEnv, "stack", "deploy", "--resolve-image", "never", "-c", "stacks/base.yml", "base"); err != nil {
		t.Fatalf("deploy base: %v\n%s", err, out)
	}
	s.deploy(vhr18, root)
	s.deploy(emg, root)
	s.converged(5*time.Minute, "base", "vhr18", "emg")
	if out, err := s.dockerEnv([]string{"PVS_PROMETHEUS_PORT=" + promPort}, "stack", "deploy", "--resolve-image", "never",
		"-c", "stacks/monitoring.yml", "monitoring"); err != nil {
		t.Fatalf("deploy monitoring: %v\n%s", err, out)
	}
	t.Logf("stacks deployed and converged in %s", time.Since(start).Round(time.Second))

	hc := client(pool)
	src := pixelcheck.Open(t, filepath.Join(root, "testdata/rasters/RGB.byte.tif"))
	for _, c := range []collection{vhr18, emg} {
		c := c
		t.Run("ingest/"+c.stack, func(t *testing.T) {
			upload(t, s, c, "packages/sample.tar", samplePackage(t, root, c))
			if out, err := s.exec(c.stack+"_registrar", "pvs", "enqueue", "--wait", "3m", "packages/sample.tar"); err != nil {
				t.Fatalf("pvs enqueue in the swarm: %v\n%s", err, out)
			}
			served(t, hc, c, src)
		})
	}
	if t.Failed() {
		return
	}
	t.Run("isolation", func(t *testing.T) { isolation(t, hc) })
	t.Run("seeding", func(t *testing.T) { seeded(t, s, hc, src) })
	t.Run("metrics", func(t *testing.T) { metrics(t) })
	t.Run("replicas", func(t *testing.T) { replicas(t, s, hc) })
	t.Run("kill", func(t *testing.T) { kills(t, s, hc, root) })
	t.Run("rolling-update", func(t *testing.T) { rollingUpdate(t, s, hc, root) })
	t.Run("config-redeploy", func(t *testing.T) { configRedeploy(t, s, hc, root) })
	for _, c := range []collection{vhr18, emg} {
		t.Run("operations/"+c.stack, func(t *testing.T) { operations(t, s, hc, root, c, tokens) })
	}
	t.Logf("stack test took %s", time.Since(start).Round(time.Second))
}

// samplePackage is the sample product as a package of collection c.
func samplePackage(t *testing.T, root string, c collection) []byte {
	raster, err := os.ReadFile(filepath.Join(root, "testdata/rasters/RGB.byte.tif"))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := os.ReadFile(filepath.Join(root, "testdata/products/vhr18_sample", vhr18.sample+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.sample != vhr18.sample {
		meta = bytes.ReplaceAll(meta, []byte(vhr18.sample), []byte(c.sample))
		meta = bytes.ReplaceAll(meta, []byte("2018-06-15"), []byte("2018-06-16"))
	}
	return pixelcheck.Tar(t, map[string][]byte{"RGB.byte.tif": raster, c.sample + ".xml": meta})
}

// bucket opens a bucket of a collection's S3 server from this host.
func bucket(t *testing.T, s *swarm, c collection, name string) *s3.Store {
	t.Helper()
	key, _ := s.exec(c.stack+"_s3", "cat", "/run/secrets/s3-access-key")
	secret, _ := s.exec(c.stack+"_s3", "cat", "/run/secrets/s3-secret-key")
	st, err := s3.New(s3.Config{Endpoint: "http://127.0.0.1:" + c.s3Port, Region: "us-east-1",
		AccessKey: key, SecretKey: secret, Bucket: name})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// upload puts a package in the collection's source bucket, making the
// collection's buckets first (what an operator's object store has).
func upload(t *testing.T, s *swarm, c collection, key string, data []byte) {
	t.Helper()
	ctx := context.Background()
	for _, b := range []string{"incoming", "products", "cache"} {
		if err := bucket(t, s, c, c.stack+"-"+b).CreateBucket(ctx); err != nil && !strings.Contains(err.Error(), "BucketAlready") {
			t.Fatalf("create bucket %s-%s: %v", c.stack, b, err)
		}
	}
	if err := bucket(t, s, c, c.stack+"-incoming").Put(ctx, key, bytes.NewReader(data)); err != nil {
		t.Fatalf("upload %s: %v", key, err)
	}
}

var view3857 = [4]float64{-8750000, 2800000, -8600000, 2950000}

func bboxParam(b [4]float64) string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	return f(b[0]) + "," + f(b[1]) + "," + f(b[2]) + "," + f(b[3])
}

func getMapURL(c collection, layer string, b [4]float64, extra string) string {
	return fmt.Sprintf("https://%s/ows?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=%s&STYLES=&CRS=EPSG:3857&BBOX=%s&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE%s",
		c.host, layer, bboxParam(b), extra)
}

// get fetches a URL and returns its body, failing on anything but 200.
func get(t *testing.T, hc *http.Client, u string) []byte {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%.400s", u, resp.Status, body)
	}
	return body
}

// served checks the ingested sample through Traefik: WMS GetMap, a WMTS
// tile, WCS GetCoverage and OpenSearch, pixels against the source.
func served(t *testing.T, hc *http.Client, c collection, src *pixelcheck.Source) {
	img := pixelcheck.GetPNG(t, hc, getMapURL(c, c.name, view3857, ""), nil)
	src.Check(t, c.stack+" WMS GetMap", img, 3857, view3857)
	g := tile.GoogleMapsCompatible
	r, _ := g.Covering(g.FromWGS84([4]float64{-77.9, 24.6, -77.9, 24.6}), 11)
	img = pixelcheck.GetPNG(t, hc, fmt.Sprintf("https://%s/wmts/1.0.0/%s/default/%s/11/%d/%d.png", c.host, c.name, g.Name, r.MinRow, r.MinCol), nil)
	src.Check(t, c.stack+" WMTS tile", img, 3857, g.BBox(11, r.MinRow, r.MinCol))

	// WCS: a 200×150 window in the product's own CRS, byte-equal.
	gt := src.GeoTransform()
	x0, y1 := gt[0]+100*gt[1], gt[3]+120*gt[5]
	x1, y0 := x0+200*gt[1], y1+150*gt[5]
	body := get(t, hc, fmt.Sprintf("https://%s/ows?SERVICE=WCS&VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID=%s&FORMAT=image/tiff&SUBSET=x(%f,%f)&SUBSET=y(%f,%f)",
		c.host, c.sample, x0+gt[1]/4, x1-gt[1]/4, y0-gt[5]/4, y1+gt[5]/4))
	tif := filepath.Join(t.TempDir(), "wcs.tif")
	if err := os.WriteFile(tif, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if w, h := src.CheckWindow(t, c.stack+" WCS GetCoverage", tif, 100, 120); w != 200 || h != 150 {
		t.Errorf("%s WCS GetCoverage: %dx%d, want 200x150", c.stack, w, h)
	}
	ids := search(t, hc, c, "")
	if len(ids) != 1 || ids[0] != c.sample {
		t.Errorf("%s OpenSearch: %v, want [%s]", c.stack, ids, c.sample)
	}
}

// search runs an OpenSearch GeoJSON query and returns the identifiers.
func search(t *testing.T, hc *http.Client, c collection, q string) []string {
	t.Helper()
	var fc struct {
		Features []struct {
			ID         string `json:"id"`
			Properties struct {
				Identifier string `json:"identifier"`
			} `json:"properties"`
		} `json:"features"`
	}
	body := get(t, hc, fmt.Sprintf("https://%s/opensearch/json?bbox=-80,20,-75,30%s", c.host, q))
	if err := json.Unmarshal(body, &fc); err != nil {
		t.Fatalf("OpenSearch JSON: %v\n%.300s", err, body)
	}
	var ids []string
	for _, f := range fc.Features {
		id := f.Properties.Identifier
		if id == "" {
			id = f.ID
		}
		ids = append(ids, id)
	}
	return ids
}

// isolation: one collection's products never show in the other's layers,
// searches or product layers, although both lie on the same place.
func isolation(t *testing.T, hc *http.Client) {
	for _, p := range []struct{ c, other collection }{{vhr18, emg}, {emg, vhr18}} {
		for _, id := range search(t, hc, p.c, "") {
			if id == p.other.sample {
				t.Errorf("%s OpenSearch lists %s of %s", p.c.stack, id, p.other.stack)
			}
		}
		// The products under the sample's point, whatever their time: only
		// this collection's own.
		var fc struct {
			Features []struct {
				ID string `json:"id"`
			} `json:"features"`
		}
		body := get(t, hc, fmt.Sprintf("https://%s/ows?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=%s&QUERY_LAYERS=%s&STYLES=&CRS=EPSG:4326&BBOX=23,-80,26,-76&WIDTH=400&HEIGHT=300&I=210&J=140&INFO_FORMAT=application/json&FEATURE_COUNT=10&TIME=2018-01-01T00:00:00Z/2019-01-01T00:00:00Z",
			p.c.host, p.c.name, p.c.name))
		if err := json.Unmarshal(body, &fc); err != nil {
			t.Fatalf("GetFeatureInfo: %v\n%.300s", err, body)
		}
		if len(fc.Features) != 1 || fc.Features[0].ID != p.c.sample {
			t.Errorf("%s GetFeatureInfo at the sample: %s, want only %s", p.c.stack, body, p.c.sample)
		}
		resp, err := hc.Get(getMapURL(p.c, p.other.sample, view3857, ""))
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && bytes.HasPrefix(body, []byte("\x89PNG")) {
			t.Errorf("%s serves %s's product %s as a layer", p.c.stack, p.other.stack, p.other.sample)
		} else if !bytes.Contains(body, []byte("LayerNotDefined")) {
			t.Errorf("%s, layer %s: want LayerNotDefined, got %d %.300s", p.c.stack, p.other.sample, resp.StatusCode, body)
		}
	}
}

// seeded: the seed job of the sample's interval ran in the stack, so its
// tile at the seeded zoom is a hit in the S3 cache.
func seeded(t *testing.T, s *swarm, hc *http.Client, src *pixelcheck.Source) {
	for _, c := range []collection{vhr18, emg} {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			out, _ := s.exec(c.stack+"_registrar", "pvs", "status", c.sampleTime)
			if strings.Contains(out, "status:    success") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: seed job %s did not succeed:\n%s", c.stack, c.sampleTime, out)
			}
			time.Sleep(2 * time.Second)
		}
		g := tile.GoogleMapsCompatible
		r, _ := g.Covering(g.FromWGS84([4]float64{-77.9, 24.6, -77.9, 24.6}), 9)
		var hdr http.Header
		img := pixelcheck.GetPNG(t, hc, fmt.Sprintf("https://%s/wmts/1.0.0/%s/default/%s/9/%d/%d.png", c.host, c.name, g.Name, r.MinRow, r.MinCol), &hdr)
		if hdr.Get("X-Cache") != "HIT" {
			t.Errorf("%s: seeded tile X-Cache=%q, want HIT", c.stack, hdr.Get("X-Cache"))
		}
		src.Check(t, c.stack+" seeded tile", img, 3857, g.BBox(9, r.MinRow, r.MinCol))
		key := tile.Key{Layer: c.name, Grid: g.Name, Time: tile.DefaultTime, Z: 9, Row: r.MinRow, Col: r.MinCol, Format: "png"}
		if _, err := bucket(t, s, c, c.stack+"-cache").Stat(context.Background(), key.Path()); err != nil {
			t.Errorf("%s: tile %s is not in the S3 cache: %v", c.stack, key.Path(), err)
		}
	}
}

// poller sends GetMaps until stopped and counts the answers.
type poller struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	errs       []string
	lastFail   time.Time
	stop       chan struct{}
	done       chan struct{}
}

func poll(hc *http.Client, u string, every time.Duration) *poller {
	p := &poller{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			case <-time.After(every):
			}
			resp, err := hc.Get(u)
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 && bytes.HasPrefix(body, []byte("\x89PNG")) {
					p.ok.Add(1)
					continue
				}
				err = fmt.Errorf("%s %.200s", resp.Status, body)
			}
			p.failed.Add(1)
			p.mu.Lock()
			p.lastFail = time.Now()
			if len(p.errs) < 5 {
				p.errs = append(p.errs, time.Now().Format("15:04:05.000")+" "+err.Error())
			}
			p.mu.Unlock()
		}
	}()
	return p
}

func (p *poller) finish() (ok, failed int64, errs []string) {
	close(p.stop)
	<-p.done
	return p.ok.Load(), p.failed.Load(), p.errs
}

// replicas: the two renderer and the two cache tasks all serve; Traefik
// spreads the requests over them.
func replicas(t *testing.T, s *swarm, hc *http.Client) {
	for _, svc := range []string{"renderer", "cache"} {
		ids := s.containers("vhr18_" + svc)
		if len(ids) != 2 {
			t.Fatalf("vhr18_%s runs %d containers, want 2", svc, len(ids))
		}
	}
	for i := 0; i < 40; i++ {
		get(t, hc, getMapURL(vhr18, vhr18.name, view3857, fmt.Sprintf("&WIDTH=%d", 200+i)))
		get(t, hc, fmt.Sprintf("https://%s/wmts/1.0.0/WMTSCapabilities.xml", vhr18.host))
	}
	for _, p := range []struct{ svc, port, op string }{{"renderer", "8081", "GetMap"}, {"cache", "8082", "GetCapabilities"}} {
		for _, id := range s.containers("vhr18_" + p.svc) {
			out, err := s.docker("exec", id, "pvs", "healthcheck", "--print", "http://127.0.0.1:"+p.port+"/metrics")
			if err != nil {
				t.Fatalf("metrics of %s: %v\n%s", id, err, out)
			}
			if !servedSome(out, p.op) {
				t.Errorf("vhr18_%s container %s served no %s of the 40 sent", p.svc, id, p.op)
			}
		}
	}
}

// servedSome tells whether a /metrics text counts a 200 answer of op.
func servedSome(metricsText, op string) bool {
	for _, line := range strings.Split(metricsText, "\n") {
		if strings.HasPrefix(line, "pvs_http_requests_total{") && strings.Contains(line, `operation="`+op+`"`) &&
			strings.Contains(line, `code="200"`) && !strings.HasSuffix(line, " 0") {
			return true
		}
	}
	return false
}

// kills: a renderer killed while clients poll, and both preprocessors
// killed in the middle of an item: the services come back and the item
// completes, nothing lost.
func kills(t *testing.T, s *swarm, hc *http.Client, root string) {
	p := poll(hc, getMapURL(vhr18, vhr18.name, view3857, ""), 50*time.Millisecond)
	time.Sleep(time.Second)
	victim := s.containers("vhr18_renderer")[0]
	s.must("kill", victim)
	killed := time.Now()
	time.Sleep(3 * time.Second)
	s.converged(2*time.Minute, "vhr18")
	ok, failed, errs := p.finish()
	t.Logf("renderer killed: %d GetMaps answered, %d failed %v", ok, failed, errs)
	// A request inside the killed process when it dies can be lost (the
	// poller has one in flight at a time; a graceful stop loses none, see
	// rollingUpdate); every later one must be served by the survivor.
	p.mu.Lock()
	lastFail := p.lastFail
	p.mu.Unlock()
	if failed > 1 || (failed == 1 && lastFail.Sub(killed) > 2*time.Second) {
		t.Errorf("%d GetMaps failed after a renderer was killed (the last %s after the kill): %v", failed, lastFail.Sub(killed), errs)
	}

	// A package that takes a while to convert.
	pkg := bigPackage(t, root)
	upload(t, s, vhr18, "packages/big.tar", pkg)
	if out, err := s.exec("vhr18_registrar", "pvs", "enqueue", "packages/big.tar"); err != nil {
		t.Fatalf("enqueue: %v\n%s", err, out)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		out, _ := s.exec("vhr18_registrar", "pvs", "status", "packages/big.tar")
		if strings.Contains(out, "status:    processing") || strings.Contains(out, "status:    running") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("packages/big.tar never started:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, id := range s.containers("vhr18_preprocessor") {
		s.must("kill", id)
	}
	t.Log("killed both preprocessors in the middle of packages/big.tar")
	deadline = time.Now().Add(4 * time.Minute)
	for {
		out, _ := s.exec("vhr18_registrar", "pvs", "status", "packages/big.tar")
		if strings.Contains(out, "status:    success") {
			t.Logf("packages/big.tar completed after the kill:\n%s", out)
			break
		}
		if strings.Contains(out, "status:    failure") || time.Now().After(deadline) {
			t.Fatalf("packages/big.tar after the kill:\n%s", out)
		}
		time.Sleep(2 * time.Second)
	}
	out, _ := s.exec("vhr18_registrar", "pvs", "status")
	for _, set := range []string{"preprocessing_set", "registering_set"} {
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == set && f[2] != "0" {
				t.Errorf("%s holds %s items after the run:\n%s", set, f[2], out)
			}
		}
	}
}

// bigPackage is a 6000×6000 RGB product (the sample's metadata with
// another identifier and date), slow enough to convert that a kill lands
// in the middle of it.
func bigPackage(t *testing.T, root string) []byte {
	dir := t.TempDir()
	tif := filepath.Join(dir, "big.tif")
	out, err := execOut("gdal_translate", "-q", "-outsize", "6000", "6000", "-r", "bilinear", "-co", "TILED=YES",
		filepath.Join(root, "testdata/rasters/RGB.byte.tif"), tif)
	if err != nil {
		t.Fatalf("gdal_translate: %v\n%s", err, out)
	}
	raster, err := os.ReadFile(tif)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := os.ReadFile(filepath.Join(root, "testdata/products/vhr18_sample", vhr18.sample+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	meta = bytes.ReplaceAll(meta, []byte(vhr18.sample), []byte("VHR18_BIG_20180617"))
	meta = bytes.ReplaceAll(meta, []byte("2018-06-15"), []byte("2018-06-17"))
	return pixelcheck.Tar(t, map[string][]byte{"big.tif": raster, "VHR18_BIG_20180617.xml": meta})
}

// rollingUpdate redeploys the collection with the pvs image under a new
// tag while a client polls GetMap and tiles: no request fails.
func rollingUpdate(t *testing.T, s *swarm, hc *http.Client, root string) {
	s.must("tag", "pvs:latest", "pvs:rolling")
	p := poll(hc, getMapURL(vhr18, vhr18.name, view3857, ""), 50*time.Millisecond)
	start := time.Now()
	s.deploy(vhr18, root, "PVS_IMAGE=pvs:rolling")
	deadline := time.Now().Add(5 * time.Minute)
	for _, svc := range []string{"renderer", "cache", "registrar", "seeder", "preprocessor"} {
		for {
			img, _ := s.docker("service", "inspect", "-f", "{{.Spec.TaskTemplate.ContainerSpec.Image}} {{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}", "vhr18_"+svc)
			if strings.HasPrefix(img, "pvs:rolling") && (strings.HasSuffix(img, "completed") || !strings.Contains(img, " ")) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("vhr18_%s was not updated: %s", svc, img)
			}
			time.Sleep(2 * time.Second)
		}
	}
	s.converged(3*time.Minute, "vhr18")
	time.Sleep(6 * time.Second) // past Traefik's refresh
	ok, failed, errs := p.finish()
	t.Logf("rolling update in %s: %d GetMaps answered, %d failed", time.Since(start).Round(time.Second), ok, failed)
	if failed > 0 || ok < 20 {
		t.Errorf("rolling update: %d GetMaps answered, %d failed: %v", ok, failed, errs)
	}
	for _, id := range s.containers("vhr18_renderer") {
		img, _ := s.docker("inspect", "-f", "{{.Config.Image}}", id)
		if !strings.HasPrefix(img, "pvs:rolling") {
			t.Errorf("renderer container %s still runs %s", id, img)
		}
	}
}

// configRedeploy changes the collection's configuration (its title) and
// redeploys with a new config version, as docs/operations.md says.
func configRedeploy(t *testing.T, s *swarm, hc *http.Client, root string) {
	dir := t.TempDir()
	compose, err := os.ReadFile(filepath.Join(root, "docker-compose.vhr18.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(root, "config/vhr18.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg = bytes.Replace(cfg, []byte("title: VHR Image 2018"), []byte("title: VHR Image 2018 (redeployed)"), 1)
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "docker-compose.vhr18.yml"), compose, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "config/vhr18.yaml"), cfg, 0o644))
	version := s.deploy(vhr18, dir, "PVS_IMAGE=pvs:rolling")
	deadline := time.Now().Add(4 * time.Minute)
	for {
		body := get(t, hc, fmt.Sprintf("https://%s/ows?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0", vhr18.host))
		if bytes.Contains(body, []byte("VHR Image 2018 (redeployed)")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the changed configuration never reached the renderer")
		}
		time.Sleep(3 * time.Second)
	}
	s.converged(3*time.Minute, "vhr18")
	if out := s.must("config", "ls", "--format", "{{.Name}}"); !strings.Contains(out, "vhr18-config-"+version) {
		t.Errorf("no versioned config vhr18-config-%s: %s", version, out)
	}
}

// metrics: Prometheus of the monitoring stack scrapes every daemon, and the
// registrar's success counter moved with the ingests.
func metrics(t *testing.T) {
	q := `sum(pvs_queue_items_total{stack="vhr18",service="registrar",outcome="success"})`
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get("http://127.0.0.1:" + promPort + "/api/v1/query?query=" + url.QueryEscape(q))
		if err == nil {
			var r struct {
				Data struct {
					Result []struct {
						Value [2]any `json:"value"`
					} `json:"result"`
				} `json:"data"`
			}
			json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			if len(r.Data.Result) > 0 {
				if v, _ := r.Data.Result[0].Value[1].(string); v != "" && v != "0" {
					t.Logf("Prometheus: %s = %s", q, v)
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus never saw %s above 0 (err %v)", q, err)
		}
		time.Sleep(3 * time.Second)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
