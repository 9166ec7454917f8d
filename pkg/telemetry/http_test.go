package telemetry_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pvs/pvs/pkg/telemetry"
)

func TestOperation(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ target, want string }{
		{"/ows?SERVICE=WMS&REQUEST=GetMap&LAYERS=X", "WMS GetMap"},
		{"/ows?service=wms&request=getmap", "WMS GetMap"},
		{"/ows?REQUEST=GetCapabilities", "WMS GetCapabilities"}, // WMS 1.1.1 clients leave SERVICE out
		{"/ows?WMTVER=1.0.0&REQUEST=map", "WMS GetMap"},
		{"/ows?SERVICE=WMS&REQUEST=feature_info", "WMS GetFeatureInfo"},
		{"/ows?SERVICE=WMS&REQUEST=GetFeatureInfo", "WMS GetFeatureInfo"},
		{"/ows?SERVICE=WMS&REQUEST=GetLegendGraphic", "WMS other"},
		{"/ows?SERVICE=WMS", "WMS other"},
		{"/ows?SERVICE=WCS&REQUEST=GetCoverage&COVERAGEID=a", "WCS GetCoverage"},
		{"/ows?SERVICE=WCS&REQUEST=DescribeCoverage", "WCS DescribeCoverage"},
		{"/wcs?REQUEST=GetCapabilities", "WCS GetCapabilities"},
		{"/wms?REQUEST=GetMap", "WMS GetMap"},
		{"/ows?SERVICE=nonsense&REQUEST=GetMap", "other other"},
		{"/wmts?SERVICE=WMTS&REQUEST=GetTile&LAYER=X", "WMTS GetTile"},
		{"/wmts?SERVICE=WMTS&REQUEST=GetCapabilities", "WMTS GetCapabilities"},
		{"/wmts?SERVICE=WMTS&REQUEST=GetFeatureInfo", "WMTS GetFeatureInfo"},
		{"/wmts?REQUEST=GetTile", "WMTS GetTile"},
		{"/wmts/?SERVICE=WMS&REQUEST=GetMap", "WMS GetMap"}, // tiled WMS on the cache
		{"/wmts?WMTVER=1.0.0&REQUEST=map", "WMS GetMap"},
		{"/wmts/1.0.0/WMTSCapabilities.xml", "WMTS GetCapabilities"},
		{"/wmts/1.0.0/VHR18/default/WorldCRS84Quad/3/1/2.png", "WMTS GetTile"},
		{"/wmts/1.0.0/VHR18/default/2018-06-15--2018-06-16/WorldCRS84Quad/3/1/2.png", "WMTS GetTile"},
		{"/wmts/1.0.0/VHR18/default/WorldCRS84Quad/3/1/2/10/20.json", "WMTS GetFeatureInfo"},
		{"/wmts/1.0.0/VHR18/default/2018-06-15--2018-06-16/WorldCRS84Quad/3/1/2/10/20.html", "WMTS GetFeatureInfo"},
		{"/wmts/1.0.0/x", "WMTS other"},
		{"/wmts/2.0.0/VHR18/default/WorldCRS84Quad/3/1/2.png", "WMTS other"},
		{"/opensearch", "OpenSearch Description"},
		{"/opensearch/", "OpenSearch Description"},
		{"/opensearch/description.xml", "OpenSearch Description"},
		{"/opensearch/atom?bbox=1,2,3,4", "OpenSearch Search"},
		{"/opensearch/json", "OpenSearch Search"},
		{"/opensearch/nope", "OpenSearch other"},
		{"/", "other other"},
		{"/wp-login.php", "other other"},
	} {
		r := httptest.NewRequest(http.MethodGet, c.target, nil)
		protocol, op := telemetry.Operation(r)
		if got := protocol + " " + op; got != c.want {
			t.Errorf("Operation(%s) = %q, want %q", c.target, got, c.want)
		}
	}
}

// Whatever a client sends, protocol and operation are one of a few pairs:
// a label made of request parameters would let any client create series
// at will.
func FuzzOperationIsBounded(f *testing.F) {
	allowed := map[string]bool{"other other": true, "OpenSearch Description": true, "OpenSearch Search": true, "OpenSearch other": true}
	for svc, ops := range map[string][]string{
		"WMS":  {"GetCapabilities", "GetMap", "GetFeatureInfo"},
		"WCS":  {"GetCapabilities", "DescribeCoverage", "GetCoverage"},
		"WMTS": {"GetCapabilities", "GetTile", "GetFeatureInfo"},
	} {
		allowed[svc+" other"] = true
		for _, op := range ops {
			allowed[svc+" "+op] = true
		}
	}
	for _, seed := range []string{"/ows", "/wmts", "/wmts/1.0.0/a/b/c/d/e/f.png", "/opensearch/atom", "/x"} {
		f.Add(seed, "WMS", "GetMap")
	}
	f.Add("/ows", "WCS", "GetCoverage<script>")
	f.Add("/wmts", "", "GetTile\x00")
	f.Fuzz(func(t *testing.T, path, service, request string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.Path = path
		r.URL.RawQuery = "SERVICE=" + service + "&REQUEST=" + request
		if protocol, op := telemetry.Operation(r); !allowed[protocol+" "+op] {
			t.Errorf("Operation(%q, SERVICE=%q, REQUEST=%q) = %q %q, not one of the bounded pairs", path, service, request, protocol, op)
		}
	})
}

func TestHTTPCountsByServiceOperationAndCode(t *testing.T) {
	t.Parallel()
	m := telemetry.New("cache", "test")
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("case") {
		case "hit":
			w.Header().Set("X-Cache", "HIT")
			w.Write([]byte("tile"))
		case "miss":
			w.Header().Set("X-Cache", "MISS")
			w.Write([]byte("tile"))
		case "blank":
			w.Header().Set("X-Cache", "BLANK")
			w.WriteHeader(http.StatusNotModified)
		case "bad":
			http.Error(w, "no such layer", http.StatusBadRequest)
		case "silent":
			// Writes nothing: net/http answers 200.
		}
	})
	h := m.HTTP("cache", app)
	for _, target := range []string{
		"/wmts?SERVICE=WMTS&REQUEST=GetTile&case=hit",
		"/wmts?SERVICE=WMTS&REQUEST=GetTile&case=hit",
		"/wmts/1.0.0/L/default/WorldCRS84Quad/0/0/0.png?case=miss",
		"/wmts/1.0.0/L/default/WorldCRS84Quad/9/9/9.png?case=blank",
		"/wmts?SERVICE=WMTS&REQUEST=GetTile&case=bad",
		"/wmts?SERVICE=WMTS&REQUEST=GetCapabilities&case=silent",
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, target, nil))
	}
	reg := m.Registry()
	for _, c := range []struct {
		op, code string
		want     float64
	}{
		{"GetTile", "200", 3},
		{"GetTile", "304", 1},
		{"GetTile", "400", 1},
		{"GetCapabilities", "200", 1},
	} {
		got := value(t, reg, "pvs_http_requests_total", map[string]string{"service": "cache", "protocol": "WMTS", "operation": c.op, "code": c.code})
		if got != c.want {
			t.Errorf("requests %s %s = %v, want %v", c.op, c.code, got, c.want)
		}
	}
	if n := value(t, reg, "pvs_http_request_duration_seconds", map[string]string{"service": "cache", "protocol": "WMTS", "operation": "GetTile"}); n != 5 {
		t.Errorf("GetTile latency observations = %v, want 5", n)
	}
	for result, want := range map[string]float64{"hit": 2, "miss": 1, "blank": 1} {
		if got := value(t, reg, "pvs_tilecache_tiles_total", map[string]string{"result": result}); got != want {
			t.Errorf("tile cache %s = %v, want %v", result, got, want)
		}
	}
}

// readerFromWriter is a ResponseWriter that, like net/http's, can send a
// file with sendfile through ReadFrom.
type readerFromWriter struct {
	*httptest.ResponseRecorder
	readFrom bool
}

func (w *readerFromWriter) ReadFrom(r io.Reader) (int64, error) {
	w.readFrom = true
	return io.Copy(w.ResponseRecorder, r)
}

// The metrics must not cost the cache its sendfile: io.Copy onto the
// wrapped writer still reaches the connection's ReadFrom.
func TestHTTPKeepsReadFrom(t *testing.T) {
	t.Parallel()
	m := telemetry.New("cache", "test")
	h := m.HTTP("cache", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A file's WriteTo ends in the writer's ReadFrom too; a plain
		// reader gets there directly.
		io.Copy(w, struct{ io.Reader }{strings.NewReader("tile body")})
	}))
	w := &readerFromWriter{ResponseRecorder: httptest.NewRecorder()}
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/wmts/1.0.0/WMTSCapabilities.xml", nil))
	if !w.readFrom {
		t.Error("the body did not go through the underlying ReadFrom")
	}
	if w.Body.String() != "tile body" {
		t.Errorf("body = %q", w.Body.String())
	}
	got := value(t, m.Registry(), "pvs_http_requests_total", map[string]string{"service": "cache", "protocol": "WMTS", "operation": "GetCapabilities", "code": "200"})
	if got != 1 {
		t.Errorf("requests = %v, want 1", got)
	}
	if _, ok := find(t, m.Registry(), "pvs_tilecache_tiles_total", map[string]string{"result": "hit"}); ok {
		t.Error("tile cache series without a tile served")
	}
}
