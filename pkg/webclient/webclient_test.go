package webclient

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

var built = fstest.MapFS{
	"index.html": {Data: []byte("<!DOCTYPE html><title>pvs</title>")},
	"client.js":  {Data: []byte("console.log('pvs')")},
	"client.css": {Data: []byte("body{}")},
	"README.md":  {Data: []byte("built by make client")},
}

var cfg = Config{Collection: "VHR_IMAGE_2018", Title: "VHR Image 2018", WMS: "https://vhr18.example/ows",
	WCS: "https://vhr18.example/ows", WMTS: "https://vhr18.example/wmts/1.0.0/WMTSCapabilities.xml",
	OpenSearch: "https://vhr18.example/opensearch"}

func get(t *testing.T, h http.Handler, method, path string, header http.Header) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func TestServesTheBundle(t *testing.T) {
	t.Parallel()
	h, err := New(built, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if h.Err() != nil {
		t.Fatalf("a complete bundle: %v", h.Err())
	}
	for _, c := range []struct {
		path, ctype, body string
		status            int
	}{
		{"/", "text/html; charset=utf-8", "<!DOCTYPE html>", 200},
		{"/index.html", "text/html; charset=utf-8", "<!DOCTYPE html>", 200},
		{"/client.js", "text/javascript; charset=utf-8", "console.log", 200},
		{"/client.css", "text/css; charset=utf-8", "body{}", 200},
		{"/config.json", "application/json", `"collection": "VHR_IMAGE_2018"`, 200},
		{"/README.md", "", "not found", 404},
		{"/nothing.js", "", "not found", 404},
	} {
		t.Run(c.path, func(t *testing.T) {
			resp := get(t, h, http.MethodGet, c.path, nil)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status || !strings.Contains(string(body), c.body) {
				t.Fatalf("GET %s: %d %q, want %d with %q", c.path, resp.StatusCode, body, c.status, c.body)
			}
			if c.status != 200 {
				return
			}
			if got := resp.Header.Get("Content-Type"); got != c.ctype {
				t.Errorf("Content-Type %q, want %q", got, c.ctype)
			}
			if resp.Header.Get("ETag") == "" || resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", resp.Header)
			}
			// Revalidation costs a 304 with no body.
			again := get(t, h, http.MethodGet, c.path, http.Header{"If-None-Match": {resp.Header.Get("ETag")}})
			if again.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match with the ETag: %d, want 304", again.StatusCode)
			}
		})
	}
	if resp := get(t, h, http.MethodPost, "/", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", resp.StatusCode)
	}
	if resp := get(t, h, http.MethodHead, "/client.js", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD /client.js: %d", resp.StatusCode)
	}
}

// Without the bundle (a binary built without `make client`) every page
// says what to do, and config.json still answers.
func TestWithoutTheBundle(t *testing.T) {
	t.Parallel()
	for name, files := range map[string]fstest.MapFS{
		"empty":      {"README.md": {Data: []byte("built by make client")}},
		"incomplete": {"index.html": built["index.html"], "README.md": built["README.md"]},
	} {
		t.Run(name, func(t *testing.T) {
			h, err := New(files, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if h.Err() != ErrNotBuilt {
				t.Fatalf("Err() = %v, want ErrNotBuilt", h.Err())
			}
			for _, p := range []string{"/", "/index.html", "/client.js"} {
				resp := get(t, h, http.MethodGet, p, nil)
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "client bundle not built: make client") {
					t.Errorf("GET %s: %d %q", p, resp.StatusCode, body)
				}
			}
			if resp := get(t, h, http.MethodGet, "/config.json", nil); resp.StatusCode != http.StatusOK {
				t.Errorf("GET /config.json: %d", resp.StatusCode)
			}
		})
	}
}

// The embedded folder always holds its README, so the package builds
// without the bundle; whether the bundle is there depends on the build.
func TestEmbeddedBundle(t *testing.T) {
	t.Parallel()
	h, err := New(Bundle(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.files["README.md"]; !ok {
		t.Error("the embedded folder lacks its README")
	}
	t.Logf("embedded bundle: %d files, %v", len(h.files), h.Err())
}

func TestConfig(t *testing.T) {
	t.Parallel()
	wms, wcs, wmts, search := ServiceURLs("https://vhr18.example/", "https://tiles.example")
	if wms != "https://vhr18.example/ows" || wcs != wms || wmts != "https://tiles.example/wmts/1.0.0/WMTSCapabilities.xml" || search != "https://vhr18.example/opensearch" {
		t.Errorf("ServiceURLs: %s %s %s %s", wms, wcs, wmts, search)
	}
	// Without public URLs the services are paths of the page's origin.
	if wms, _, wmts, search := ServiceURLs("", ""); wms != "/ows" || wmts != "/wmts/1.0.0/WMTSCapabilities.xml" || search != "/opensearch" {
		t.Errorf("ServiceURLs without bases: %s %s %s", wms, wmts, search)
	}

	c := cfg
	c.BaseMap = &BaseMap{URL: "https://tile.example/{z}/{x}/{y}.png", Attribution: "© example", MaxZoom: 18}
	h, err := New(built, c)
	if err != nil {
		t.Fatal(err)
	}
	var got Config
	if err := json.NewDecoder(get(t, h, http.MethodGet, "/config.json", nil).Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Collection != c.Collection || got.WMTS != c.WMTS || got.BaseMap == nil || *got.BaseMap != *c.BaseMap {
		t.Errorf("config.json: %+v", got)
	}

	for _, bad := range []Config{
		{},
		{Collection: "C", BaseMap: &BaseMap{URL: "https://tile.example/{z}/{x}.png"}},
		{Collection: "C", BaseMap: &BaseMap{URL: "javascript:alert(1)//{z}{x}{y}"}},
	} {
		if _, err := New(built, bad); err == nil {
			t.Errorf("New accepted %+v", bad)
		}
	}
}
