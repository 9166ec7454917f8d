package wmts

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/layer"
	"github.com/pvs/pvs/pkg/tile"
	"github.com/pvs/pvs/pkg/wms"
)

type fakeTiles struct{ last tile.Key }

func (f *fakeTiles) Open(ctx context.Context, k tile.Key) (tile.Content, error) {
	f.last = k
	b := "bytes of " + k.Path()
	return tile.Content{Body: io.NopCloser(strings.NewReader(b)), Size: int64(len(b)), Version: k.Path(), Hit: true}, nil
}

type fakeLayers struct{}

func (fakeLayers) Layers(ctx context.Context) ([]layer.Layer, error) {
	bb := [4]float64{-79, -89, -76.5, 25.6}
	return []layer.Layer{{Name: "VHR_IMAGE_2018", Title: "VHR", BBox: &bb, Browse: config.Browse{Name: "TRUE_COLOR", Bands: []int{1, 2, 3}},
		Start: time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2018, 12, 31, 0, 0, 0, 0, time.UTC)},
		// An empty collection: no extent, no time.
		{Name: "EMPTY__NDVI", Title: "Empty", Browse: config.Browse{Name: "NDVI", Expression: "(B4-B1)/(B4+B1)", Range: []float64{-1, 1}}},
	}, nil
}

// fakeWMS is the renderer's WMS behind the cache, which draws nothing.
type fakeWMS struct{ fakeLayers }

func (fakeWMS) Render(ctx context.Context, req wms.MapRequest) (*image.NRGBA, error) {
	return image.NewNRGBA(image.Rect(0, 0, req.Width, req.Height)), nil
}

type fakeInfo struct {
	k      tile.Key
	i, j   int
	format string
}

func (f *fakeInfo) FeatureInfo(ctx context.Context, k tile.Key, i, j int, format string) (int, string, []byte, error) {
	f.k, f.i, f.j, f.format = k, i, j, format
	return 200, format, []byte("info of " + k.Path()), nil
}

func handler() (*Handler, *fakeTiles) {
	ft := &fakeTiles{}
	log := slog.New(slog.DiscardHandler)
	renderer := &wms.Handler{Backend: fakeWMS{}, Log: log, Service: wms.Service{MaxSize: 4096}}
	return &Handler{Tiles: ft, Layers: fakeLayers{}, Info: &fakeInfo{}, Fallback: renderer, Prefix: "/wmts", PublicURL: "http://example.org", MaxAge: 60, Log: log}, ft
}

func do(h http.Handler, target string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestRESTAndKVPGiveTheSameTile(t *testing.T) {
	h, ft := handler()
	rest := do(h, "/wmts/1.0.0/VHR_IMAGE_2018/default/2018-06-15T00:00:00Z--2018-06-16T00:00:00Z/GoogleMapsCompatible/8/109/72.png")
	restKey := ft.last
	kvp := do(h, "/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=VHR_IMAGE_2018&STYLE=default&TILEMATRIXSET=GoogleMapsCompatible&TILEMATRIX=8&TILEROW=109&TILECOL=72&FORMAT=image/png&TIME=2018-06-15T00:00:00Z/2018-06-16T00:00:00Z")
	if rest.Code != 200 || kvp.Code != 200 {
		t.Fatalf("REST %d %s, KVP %d %s", rest.Code, rest.Body, kvp.Code, kvp.Body)
	}
	if rest.Body.String() != kvp.Body.String() || restKey != ft.last {
		t.Errorf("REST %q (%v) and KVP %q (%v) differ", rest.Body, restKey, kvp.Body, ft.last)
	}
	want := tile.Key{Layer: "VHR_IMAGE_2018", Grid: "GoogleMapsCompatible", Time: "2018-06-15T00:00:00Z--2018-06-16T00:00:00Z", Z: 8, Row: 109, Col: 72, Format: "png"}
	if restKey != want {
		t.Errorf("key = %+v", restKey)
	}
	if rest.Header().Get("Content-Type") != "image/png" || rest.Header().Get("ETag") == "" || !strings.Contains(rest.Header().Get("Cache-Control"), "max-age=60") {
		t.Errorf("headers: %v", rest.Header())
	}
	// Without TIME: the default key.
	do(h, "/wmts/1.0.0/VHR_IMAGE_2018/default/WorldCRS84Quad/0/0/0.jpeg")
	if ft.last.Time != tile.DefaultTime || ft.last.Format != "jpeg" || ft.last.Grid != "WorldCRS84Quad" {
		t.Errorf("default key = %+v", ft.last)
	}
	// Conditional request.
	if rec := do(h, "/wmts/1.0.0/VHR_IMAGE_2018/default/WorldCRS84Quad/0/0/0.jpeg", "If-None-Match", do(h, "/wmts/1.0.0/VHR_IMAGE_2018/default/WorldCRS84Quad/0/0/0.jpeg").Header().Get("ETag")); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", rec.Code)
	}
}

func TestErrors(t *testing.T) {
	h, _ := handler()
	for target, code := range map[string]string{
		"/wmts/1.0.0/NOPE/default/GoogleMapsCompatible/0/0/0.png":                     "InvalidParameterValue",
		"/wmts/1.0.0/VHR_IMAGE_2018/fancy/GoogleMapsCompatible/0/0/0.png":             "InvalidParameterValue",
		"/wmts/1.0.0/VHR_IMAGE_2018/default/NoSuchGrid/0/0/0.png":                     "InvalidParameterValue",
		"/wmts/1.0.0/VHR_IMAGE_2018/default/GoogleMapsCompatible/1/2/0.png":           "TileOutOfRange",
		"/wmts/1.0.0/VHR_IMAGE_2018/default/WorldCRS84Quad/0/0/2.png":                 "TileOutOfRange",
		"/wmts/1.0.0/VHR_IMAGE_2018/default/GoogleMapsCompatible/99/0/0.png":          "InvalidParameterValue",
		"/wmts/1.0.0/VHR_IMAGE_2018/default/GoogleMapsCompatible/x/0/0.png":           "InvalidParameterValue",
		"/wmts/1.0.0/VHR_IMAGE_2018/default/GoogleMapsCompatible/0/0/0.gif":           "InvalidParameterValue",
		"/wmts/1.0.0/VHR_IMAGE_2018/default/yesterday/GoogleMapsCompatible/0/0/0.png": "InvalidParameterValue",
		"/wmts?SERVICE=WMTS&REQUEST=GetTile&LAYER=VHR_IMAGE_2018":                     "MissingParameterValue",
		"/wmts?SERVICE=WMTS&REQUEST=Nope":                                             "OperationNotSupported",
		"/wmts?SERVICE=WFS&REQUEST=GetTile":                                           "InvalidParameterValue",
	} {
		rec := do(h, target)
		if rec.Code < 400 || rec.Code >= 500 {
			t.Errorf("%s: status %d", target, rec.Code)
		}
		var r struct {
			Exception struct {
				Code string `xml:"exceptionCode,attr"`
			}
		}
		if err := xml.Unmarshal(rec.Body.Bytes(), &r); err != nil || r.Exception.Code != code {
			t.Errorf("%s: %q (%v), want %s", target, rec.Body, err, code)
		}
	}
}

func TestCapabilities(t *testing.T) {
	h, _ := handler()
	rec := do(h, "/wmts/1.0.0/WMTSCapabilities.xml")
	kvp := do(h, "/wmts?SERVICE=WMTS&REQUEST=GetCapabilities")
	if rec.Body.String() != kvp.Body.String() {
		t.Error("REST and KVP capabilities differ")
	}
	body := rec.Body.String()
	for _, want := range []string{
		"<ows:Identifier>VHR_IMAGE_2018</ows:Identifier>",
		// Web Mercator cannot show the poles: the box is clamped.
		"<ows:LowerCorner>-79 -85.0511287798066</ows:LowerCorner>",
		`template="http://example.org/wmts/1.0.0/VHR_IMAGE_2018/{Style}/{Time}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}.png"`,
		"<Dimension><ows:Identifier>time</ows:Identifier><ows:UOM>ISO8601</ows:UOM><Default>2018-01-01T00:00:00Z--2018-12-31T00:00:00Z</Default>",
		"<ows:Identifier>WorldCRS84Quad</ows:Identifier>", "<MatrixWidth>2</MatrixWidth><MatrixHeight>1</MatrixHeight>",
		"<TopLeftCorner>90 -180</TopLeftCorner>", "<TopLeftCorner>-20037508.342789244 20037508.342789244</TopLeftCorner>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("capabilities lack %s", want)
		}
	}
	var v struct{ XMLName xml.Name }
	if err := xml.Unmarshal(rec.Body.Bytes(), &v); err != nil || v.XMLName.Local != "Capabilities" {
		t.Errorf("not a Capabilities document: %v", err)
	}
}

func FuzzREST(f *testing.F) {
	for _, s := range []string{"1.0.0/L/default/GoogleMapsCompatible/0/0/0.png", "1.0.0/L/default/a--b/WorldCRS84Quad/1/1/1.jpeg", "1.0.0/../../x", ""} {
		f.Add(s)
	}
	h, _ := handler()
	f.Fuzz(func(t *testing.T, p string) {
		req := httptest.NewRequest(http.MethodGet, "/wmts/", nil)
		req.URL.Path = "/wmts/" + p
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%q: %d", p, rec.Code)
		}
	})
}

// Tiles outside the layer's bbox are the shared blank, never rendered.
func TestTilesOutsideDataAreTheSharedBlank(t *testing.T) {
	h, ft := handler()
	ft.last = tile.Key{}
	for _, c := range []struct{ path, ctype string }{
		{"/wmts/1.0.0/VHR_IMAGE_2018/default/WorldCRS84Quad/0/0/1.png", "image/png"},
		{"/wmts/1.0.0/VHR_IMAGE_2018/default/GoogleMapsCompatible/8/10/200.jpeg", "image/jpeg"},
	} {
		rec := do(h, c.path)
		if rec.Code != 200 || rec.Header().Get("X-Cache") != "BLANK" || rec.Header().Get("Content-Type") != c.ctype {
			t.Fatalf("%s: %d %v", c.path, rec.Code, rec.Header())
		}
		img, _, err := image.Decode(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() != 256 || img.Bounds().Dy() != 256 {
			t.Errorf("%s: blank is %v", c.path, img.Bounds())
		}
		_, _, _, a := img.At(10, 10).RGBA()
		if c.ctype == "image/png" && a != 0 {
			t.Errorf("%s: blank PNG is not transparent", c.path)
		}
		if rec2 := do(h, c.path, "If-None-Match", rec.Header().Get("ETag")); rec2.Code != http.StatusNotModified {
			t.Errorf("%s: If-None-Match on the blank: %d", c.path, rec2.Code)
		}
	}
	if ft.last != (tile.Key{}) {
		t.Errorf("a tile outside the data was asked of the cache: %v", ft.last)
	}
	// A tile over the data is not blank.
	if rec := do(h, "/wmts/1.0.0/VHR_IMAGE_2018/default/GoogleMapsCompatible/8/109/72.png"); rec.Header().Get("X-Cache") == "BLANK" {
		t.Error("a tile over the data was served blank")
	}
}

func TestFeatureInfoIsForwarded(t *testing.T) {
	h, _ := handler()
	fi := h.Info.(*fakeInfo)
	rest := do(h, "/wmts/1.0.0/VHR_IMAGE_2018/default/2018-06-15T00:00:00Z--2018-06-16T00:00:00Z/GoogleMapsCompatible/8/109/72/30/200.json")
	restCall := *fi
	kvp := do(h, "/wmts?SERVICE=WMTS&REQUEST=GetFeatureInfo&VERSION=1.0.0&LAYER=VHR_IMAGE_2018&STYLE=default&TILEMATRIXSET=GoogleMapsCompatible&TILEMATRIX=8&TILEROW=109&TILECOL=72&J=30&I=200&INFOFORMAT=application/json&TIME=2018-06-15T00:00:00Z/2018-06-16T00:00:00Z")
	if rest.Code != 200 || kvp.Code != 200 || rest.Body.String() != kvp.Body.String() || restCall != *fi {
		t.Fatalf("REST %d %s %+v, KVP %d %s %+v", rest.Code, rest.Body, restCall, kvp.Code, kvp.Body, *fi)
	}
	if fi.i != 200 || fi.j != 30 || fi.format != "application/json" || fi.k.Z != 8 || fi.k.Row != 109 || fi.k.Col != 72 ||
		fi.k.Time != "2018-06-15T00:00:00Z--2018-06-16T00:00:00Z" || rest.Header().Get("Content-Type") != "application/json" {
		t.Errorf("forwarded %+v, content type %s", *fi, rest.Header().Get("Content-Type"))
	}
	do(h, "/wmts/1.0.0/VHR_IMAGE_2018/default/WorldCRS84Quad/3/2/4/0/255.html")
	if fi.k.Grid != "WorldCRS84Quad" || fi.k.Time != tile.DefaultTime || fi.i != 255 || fi.format != "text/html" {
		t.Errorf("without time: %+v", *fi)
	}
	for path, code := range map[string]string{
		"/wmts/1.0.0/VHR_IMAGE_2018/default/GoogleMapsCompatible/8/109/72/30/256.json":                                                                                                     "PointIJOutOfRange",
		"/wmts/1.0.0/VHR_IMAGE_2018/default/GoogleMapsCompatible/8/109/72/-1/2.json":                                                                                                       "PointIJOutOfRange",
		"/wmts/1.0.0/VHR_IMAGE_2018/default/GoogleMapsCompatible/8/109/72/1/2.pdf":                                                                                                         "InvalidParameterValue",
		"/wmts/1.0.0/NOPE/default/GoogleMapsCompatible/8/109/72/1/2.json":                                                                                                                  "InvalidParameterValue",
		"/wmts?SERVICE=WMTS&REQUEST=GetFeatureInfo&LAYER=VHR_IMAGE_2018&STYLE=default&TILEMATRIXSET=GoogleMapsCompatible&TILEMATRIX=8&TILEROW=109&TILECOL=72&J=1&I=1":                      "MissingParameterValue",
		"/wmts?SERVICE=WMTS&REQUEST=GetFeatureInfo&LAYER=VHR_IMAGE_2018&STYLE=default&TILEMATRIXSET=GoogleMapsCompatible&TILEMATRIX=8&TILEROW=109&TILECOL=72&J=1&I=x&INFOFORMAT=text/html": "PointIJOutOfRange",
		"/wmts?SERVICE=WMTS&REQUEST=GetFeatureInfo&LAYER=VHR_IMAGE_2018&STYLE=default&TILEMATRIXSET=GoogleMapsCompatible&TILEMATRIX=8&TILEROW=109&TILECOL=72&J=1&I=1&INFOFORMAT=image/png": "InvalidParameterValue",
	} {
		rec := do(h, path)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `exceptionCode="`+code+`"`) {
			t.Errorf("%s: %d %s, want 400 %s", path, rec.Code, rec.Body, code)
		}
	}
}

func TestAlignedTile(t *testing.T) {
	g := tile.GoogleMapsCompatible
	b := g.BBox(8, 109, 72)
	bb := func(v [4]float64) string {
		return strings.Join([]string{ff(v[0]), ff(v[1]), ff(v[2]), ff(v[3])}, ",")
	}
	w := tile.WorldCRS84Quad.BBox(3, 2, 4)
	base := "SERVICE=WMS&REQUEST=GetMap&LAYERS=VHR_IMAGE_2018&STYLES=&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE"
	for q, want := range map[string]string{
		base + "&VERSION=1.3.0&CRS=EPSG:3857&BBOX=" + bb(b):                                                                 "VHR_IMAGE_2018/GoogleMapsCompatible/default/8/72/109.png",
		base + "&VERSION=1.1.1&SRS=EPSG:900913&BBOX=" + bb(b) + "&TIME=2018-06-15/2018-06-16":                               "VHR_IMAGE_2018/GoogleMapsCompatible/2018-06-15T00:00:00Z--2018-06-16T00:00:00Z/8/72/109.png",
		base + "&VERSION=1.3.0&CRS=EPSG:4326&BBOX=" + bb([4]float64{w[1], w[0], w[3], w[2]}):                                "VHR_IMAGE_2018/WorldCRS84Quad/default/3/4/2.png",
		base + "&VERSION=1.1.1&SRS=EPSG:4326&BBOX=" + bb(w):                                                                 "VHR_IMAGE_2018/WorldCRS84Quad/default/3/4/2.png",
		base + "&VERSION=1.3.0&CRS=CRS:84&BBOX=" + bb(w):                                                                    "VHR_IMAGE_2018/WorldCRS84Quad/default/3/4/2.png",
		strings.Replace(base, "image/png&TRANSPARENT=TRUE", "image/jpeg", 1) + "&VERSION=1.3.0&CRS=EPSG:3857&BBOX=" + bb(b): "VHR_IMAGE_2018/GoogleMapsCompatible/default/8/72/109.jpeg",
		// Not one cached tile:
		base + "&VERSION=1.3.0&CRS=EPSG:3857&BBOX=" + bb([4]float64{b[0] + 10, b[1], b[2] + 10, b[3]}):                   "",
		strings.Replace(base, "WIDTH=256", "WIDTH=512", 1) + "&VERSION=1.3.0&CRS=EPSG:3857&BBOX=" + bb(b):                "",
		strings.Replace(base, "TRANSPARENT=TRUE", "TRANSPARENT=FALSE", 1) + "&VERSION=1.3.0&CRS=EPSG:3857&BBOX=" + bb(b): "",
		strings.Replace(base, "LAYERS=VHR_IMAGE_2018", "LAYERS=A,B", 1) + "&VERSION=1.3.0&CRS=EPSG:3857&BBOX=" + bb(b):   "",
		base + "&VERSION=1.3.0&CRS=EPSG:32618&BBOX=" + bb(b):                                                             "",
	} {
		v, err := url.ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for k, vs := range v {
			m[strings.ToUpper(k)] = vs[0]
		}
		k, ok := alignedTile(m)
		got := ""
		if ok {
			got = k.Path()
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", q, got, want)
		}
	}
}

func TestTiledWMSServesTilesAndForwardsTheRest(t *testing.T) {
	h, ft := handler()
	forwarded := 0
	h.Fallback = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { forwarded++; w.Write([]byte("renderer")) })
	b := tile.GoogleMapsCompatible.BBox(8, 109, 72)
	q := "/wmts?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=VHR_IMAGE_2018&STYLES=&CRS=EPSG:3857&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE&BBOX=" +
		strings.Join([]string{ff(b[0]), ff(b[1]), ff(b[2]), ff(b[3])}, ",")
	wmsRec := do(h, q)
	wmtsRec := do(h, "/wmts/1.0.0/VHR_IMAGE_2018/default/GoogleMapsCompatible/8/109/72.png")
	if wmsRec.Code != 200 || wmsRec.Body.String() != wmtsRec.Body.String() || forwarded != 0 {
		t.Fatalf("aligned GetMap: %d %q (WMTS %q), forwarded %d", wmsRec.Code, wmsRec.Body, wmtsRec.Body, forwarded)
	}
	_ = ft
	for _, q := range []string{
		strings.Replace(q, "WIDTH=256", "WIDTH=300", 1),
		q + "&TIME=2019-01-01/2019-01-02", // outside the layer's extent: the renderer's WMS exception
		strings.Replace(q, "LAYERS=VHR_IMAGE_2018", "LAYERS=NOPE", 1),
		"/wmts?SERVICE=WMS&REQUEST=GetCapabilities",
		"/wmts?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=VHR_IMAGE_2018",
	} {
		if rec := do(h, q); rec.Body.String() != "renderer" {
			t.Errorf("%s was not forwarded: %d %s", q, rec.Code, rec.Body)
		}
	}
}

// secret is what a backend's error may carry: hosts, object paths and
// credentials that must stay in the log.
const secret = "dial tcp 10.0.3.7:5432: password=hunter2 /vsis3/private-bucket/key"

type failingTiles struct{}

func (failingTiles) Open(context.Context, tile.Key) (tile.Content, error) {
	return tile.Content{}, errors.New(secret)
}

type failingLayers struct{}

func (failingLayers) Layers(context.Context) ([]layer.Layer, error) { return nil, errors.New(secret) }

type failingInfo struct{}

func (failingInfo) FeatureInfo(context.Context, tile.Key, int, int, string) (int, string, []byte, error) {
	return 0, "", nil, errors.New(secret)
}

// TestBackendErrorsDoNotLeak: a failing tile source, layer list or feature
// info answers an OWS exception that says where to look (the log), never
// the backend's error text, which is logged instead.
func TestBackendErrorsDoNotLeak(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	getTile := "/wmts/1.0.0/VHR_IMAGE_2018/default/GoogleMapsCompatible/8/109/72.png"
	getInfo := "/wmts?SERVICE=WMTS&REQUEST=GetFeatureInfo&VERSION=1.0.0&LAYER=VHR_IMAGE_2018&STYLE=default&TILEMATRIXSET=GoogleMapsCompatible&TILEMATRIX=8&TILEROW=109&TILECOL=72&FORMAT=image/png&I=1&J=2&INFOFORMAT=application/json"
	for _, c := range []struct {
		name   string
		h      *Handler
		target string
		status int
	}{
		{"tile source", &Handler{Tiles: failingTiles{}, Layers: fakeLayers{}, Prefix: "/wmts", Log: log}, getTile, http.StatusBadGateway},
		{"layer list", &Handler{Tiles: &fakeTiles{}, Layers: failingLayers{}, Prefix: "/wmts", Log: log}, getTile, http.StatusServiceUnavailable},
		{"capabilities", &Handler{Tiles: &fakeTiles{}, Layers: failingLayers{}, Prefix: "/wmts", Log: log}, "/wmts?SERVICE=WMTS&REQUEST=GetCapabilities", 0},
		{"feature info", &Handler{Tiles: &fakeTiles{}, Layers: fakeLayers{}, Info: failingInfo{}, Prefix: "/wmts", Log: log}, getInfo, http.StatusBadGateway},
	} {
		logged.Reset()
		rec := do(c.h, c.target)
		body := rec.Body.String()
		if strings.Contains(body, "hunter2") || strings.Contains(body, "10.0.3.7") || strings.Contains(body, "private-bucket") {
			t.Errorf("%s: the backend's error reaches the client: %s", c.name, body)
		}
		if rec.Code < 500 || (c.status != 0 && rec.Code != c.status) || !strings.Contains(body, "ExceptionReport") {
			t.Errorf("%s: %d %s, want %d and an OWS exception", c.name, rec.Code, body, c.status)
		}
		if !strings.Contains(logged.String(), "hunter2") {
			t.Errorf("%s: the error is not logged: %q", c.name, logged.String())
		}
	}
}
