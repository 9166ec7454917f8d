package webclient

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// bundle is what `make client` built; the README alone when it has not run.
//
//go:embed dist
var bundle embed.FS

// Bundle returns the embedded client files.
func Bundle() fs.FS {
	sub, err := fs.Sub(bundle, "dist")
	if err != nil {
		panic(err) // dist is embedded: it is always there
	}
	return sub
}

// Files the page needs; the bundle is complete only with all of them.
var required = []string{"index.html", "client.js", "client.css"}

// ErrNotBuilt says that the binary was built without the client bundle.
var ErrNotBuilt = fmt.Errorf("client bundle not built: make client (it runs npm ci and esbuild in web/client)")

// Config is what the page reads from config.json: the collection and the
// public URLs of its services. An empty URL is a path on the page's own
// origin, as behind the stack's proxy.
type Config struct {
	Collection string `json:"collection"`
	Title      string `json:"title"`
	// WMS is the renderer's WMS endpoint (GetCapabilities, GetMap,
	// GetFeatureInfo); WCS usually the same endpoint.
	WMS string `json:"wms"`
	WCS string `json:"wcs"`
	// WMTS is the cache's WMTS capabilities document.
	WMTS string `json:"wmts"`
	// OpenSearch is the OpenSearch description document.
	OpenSearch string `json:"opensearch"`
	// BaseMap, when set, is drawn under the collection's layers; without
	// one the client draws the layers over a plain background, which needs
	// no internet.
	BaseMap *BaseMap `json:"baseMap,omitempty"`
}

// BaseMap is an XYZ tile source ({z}/{x}/{y} in its URL) in Web Mercator.
type BaseMap struct {
	URL         string `json:"url"`
	Attribution string `json:"attribution,omitempty"`
	MaxZoom     int    `json:"maxZoom,omitempty"`
}

// Validate checks what the page cannot recover from.
func (c Config) Validate() error {
	if c.Collection == "" {
		return fmt.Errorf("client config: no collection")
	}
	if c.BaseMap != nil {
		u := c.BaseMap.URL
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "/") {
			return fmt.Errorf("client base map %q: an http(s) URL or a path is needed", u)
		}
		if !strings.Contains(u, "{z}") || !strings.Contains(u, "{x}") || !strings.Contains(u, "{y}") {
			return fmt.Errorf("client base map %q: the URL needs {z}, {x} and {y}", u)
		}
	}
	return nil
}

// ServiceURLs derives the service URLs from the public base URLs of the
// renderer and the cache, as their capabilities advertise them.
func ServiceURLs(rendererBase, cacheBase string) (wms, wcs, wmts, openSearch string) {
	r := strings.TrimSuffix(rendererBase, "/")
	c := strings.TrimSuffix(cacheBase, "/")
	return r + "/ows", r + "/ows", c + "/wmts/1.0.0/WMTSCapabilities.xml", r + "/opensearch"
}

// file is one file of the bundle, read once.
type file struct {
	body  []byte
	etag  string
	ctype string
}

// Handler serves the client: the page at / (and /index.html), client.js,
// client.css and config.json. It answers 503 when the bundle is missing.
type Handler struct {
	files  map[string]file
	config file
	err    error
}

// New serves the files of bundle (Bundle() in a daemon) with cfg.
func New(bundle fs.FS, cfg Config) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cj, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	h := &Handler{files: map[string]file{}, config: newFile(cj, "application/json")}
	err = fs.WalkDir(bundle, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(bundle, p)
		if err != nil {
			return fmt.Errorf("read client file %s: %w", p, err)
		}
		h.files[p] = newFile(b, contentType(p))
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, name := range required {
		if _, ok := h.files[name]; !ok {
			h.err = ErrNotBuilt
		}
	}
	return h, nil
}

func newFile(b []byte, ctype string) file {
	sum := sha256.Sum256(b)
	return file{body: b, ctype: ctype, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".txt", ".md":
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// Err is ErrNotBuilt when the bundle is incomplete, else nil.
func (h *Handler) Err() error { return h.err }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	name := strings.TrimPrefix(r.URL.Path, "/")
	if name == "" {
		name = "index.html"
	}
	if name == "config.json" {
		// Cheap to revalidate, and it changes with a redeployment.
		h.send(w, r, h.config, "no-cache")
		return
	}
	if h.err != nil {
		w.Header().Set("Retry-After", "3600")
		http.Error(w, h.err.Error(), http.StatusServiceUnavailable)
		return
	}
	f, ok := h.files[name]
	if !ok || name == "README.md" {
		http.Error(w, "not found: the client is at /", http.StatusNotFound)
		return
	}
	// The page names its script and stylesheet without a version, so that
	// every file is revalidated: a 304 costs little next to stale code
	// after an upgrade.
	h.send(w, r, f, "no-cache")
}

func (h *Handler) send(w http.ResponseWriter, r *http.Request, f file, cacheControl string) {
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("Cache-Control", cacheControl)
	w.Header().Set("ETag", f.etag)
	// http.ServeContent answers If-None-Match with 304 and serves ranges.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
