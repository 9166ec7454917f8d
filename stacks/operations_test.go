package stacks

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/pixelcheck"
)

// operations checks, through Traefik over HTTPS, what the stack offers
// beside the maps: the management API and console under /admin, the
// ingestor's endpoint and its watched inbox/ prefix, and the STAC API.
func operations(t *testing.T, s *swarm, hc *http.Client, root string, c collection, tokens map[string]string) {
	base := "https://" + c.host
	call := func(method, path, token, ctype string, body []byte) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	admin, ingest := tokens[c.stack+"-admin-token"], tokens[c.stack+"-ingestor-token"]

	// The web client at /, and its configuration naming the collection
	// and the public services.
	if code, body := call("GET", "/", "", "", nil); code != http.StatusOK || !strings.Contains(string(body), "<html") {
		t.Errorf("web client: %d %.200s", code, body)
	}
	if code, body := call("GET", "/config.json", "", "", nil); code != http.StatusOK || !strings.Contains(string(body), c.name) ||
		!strings.Contains(string(body), base) {
		t.Errorf("web client configuration: %d %.300s", code, body)
	}

	// Management API: refused without its token, the stages with it; the
	// console page is public (it asks for the token).
	if code, body := call("GET", "/admin/api/stages", "", "", nil); code != http.StatusUnauthorized {
		t.Errorf("admin API without a token: %d %.200s", code, body)
	}
	if code, body := call("GET", "/admin/api/stages", ingest, "", nil); code != http.StatusUnauthorized {
		t.Errorf("admin API with the ingestor's token: %d %.200s", code, body)
	}
	code, body := call("GET", "/admin/api/stages", admin, "", nil)
	if code != http.StatusOK || !strings.Contains(string(body), "preprocess") || !json.Valid(body) {
		t.Errorf("admin API stages: %d %.300s", code, body)
	}
	if code, body := call("GET", "/admin/", "", "", nil); code != http.StatusOK || !strings.Contains(string(body), "<html") {
		t.Errorf("console: %d %.200s", code, body)
	}
	if code, body := call("GET", "/admin/openapi.json", "", "", nil); code != http.StatusOK || !strings.Contains(string(body), `"openapi"`) {
		t.Errorf("OpenAPI document: %d %.200s", code, body)
	}

	// Ingestor endpoint: no token, a wrong one and a missing package are
	// refused with the reason.
	if code, _ := call("POST", "/ingest", "", "text/plain", []byte("packages/sample.tar")); code != http.StatusUnauthorized {
		t.Errorf("ingest without a token: %d", code)
	}
	if code, body := call("POST", "/ingest", ingest, "text/plain", []byte("packages/no-such.tar")); code < 400 || code >= 500 {
		t.Errorf("ingest of a missing package: %d %.200s", code, body)
	}
	// The sample, registered already, is left alone (not pushed again).
	if code, body := call("POST", "/ingest", ingest, "text/plain", []byte("packages/sample.tar")); code != http.StatusOK ||
		!strings.Contains(string(body), `"queued":false`) {
		t.Errorf("ingest of a registered package: %d %.300s", code, body)
	}

	// A package dropped under inbox/ is found by the watcher and served,
	// with no enqueue by anyone.
	id := strings.Replace(c.sample, "_2018061", "_INBOX_2018062", 1)
	upload(t, s, c, "inbox/"+id+".tar", renamedPackage(t, root, id, "2018-06-25"))
	deadline := time.Now().Add(3 * time.Minute)
	for {
		ids := search(t, hc, c, "&uid="+id)
		if len(ids) == 1 && ids[0] == id {
			break
		}
		if time.Now().After(deadline) {
			out, _ := s.exec(c.stack+"_registrar", "pvs", "status", "inbox/"+id+".tar")
			t.Fatalf("%s dropped under inbox/ was not registered in 3 minutes:\n%s", id, out)
		}
		time.Sleep(3 * time.Second)
	}
	code, body = call("GET", "/ingest?path=inbox/"+id+".tar", ingest, "", nil)
	if code != http.StatusOK || !strings.Contains(string(body), "registered") {
		t.Errorf("ingest state of the inbox package: %d %.300s", code, body)
	}

	// STAC: the collection and the product as an item with its footprint.
	code, body = call("GET", "/stac/search?ids="+id, "", "", nil)
	var items struct {
		Type     string `json:"type"`
		Features []struct {
			ID         string          `json:"id"`
			Collection string          `json:"collection"`
			Geometry   json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(body, &items); code != http.StatusOK || err != nil || items.Type != "FeatureCollection" ||
		len(items.Features) != 1 || items.Features[0].ID != id || items.Features[0].Collection != c.name || len(items.Features[0].Geometry) < 10 {
		t.Errorf("STAC search ids=%s: %d %v %.400s", id, code, err, body)
	}
	if code, body := call("GET", "/stac/collections/"+c.name, "", "", nil); code != http.StatusOK || !strings.Contains(string(body), `"extent"`) {
		t.Errorf("STAC collection: %d %.300s", code, body)
	}
}

// renamedPackage is the sample as another product: identifier id, acquired
// on day (YYYY-MM-DD).
func renamedPackage(t *testing.T, root, id, day string) []byte {
	t.Helper()
	raster, err := os.ReadFile(filepath.Join(root, "testdata/rasters/RGB.byte.tif"))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := os.ReadFile(filepath.Join(root, "testdata/products/vhr18_sample", vhr18.sample+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	meta = bytes.ReplaceAll(meta, []byte(vhr18.sample), []byte(id))
	meta = bytes.ReplaceAll(meta, []byte("2018-06-15"), []byte(day))
	return pixelcheck.Tar(t, map[string][]byte{"RGB.byte.tif": raster, id + ".xml": meta})
}
