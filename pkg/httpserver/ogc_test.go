package httpserver_test

import (
	"context"
	"encoding/json"
	"image"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/httpserver"
	"github.com/pvs/pvs/pkg/layer"
	"github.com/pvs/pvs/pkg/opensearch"
	"github.com/pvs/pvs/pkg/render"
	"github.com/pvs/pvs/pkg/tile"
	"github.com/pvs/pvs/pkg/wcs"
	"github.com/pvs/pvs/pkg/wms"
	"github.com/pvs/pvs/pkg/wmts"
)

// The front ends as the daemons mount them, on test backends that go the
// real way to PROJ: the WMS backend is the renderer over an empty
// catalogue (its first step is the request box to lon/lat), feature info
// transforms the point as cmd/pvs does, WCS cuts the rasters of testdata.

var vhrLayer = func() layer.Layer {
	bb := [4]float64{-79, 23.5, -76.5, 25.6}
	return layer.Layer{Name: "VHR_IMAGE_2018", Title: "VHR", Collection: "VHR_IMAGE_2018",
		Browse: config.Browse{Name: "TRUE_COLOR", Bands: []int{1, 2, 3}, Resampling: "nearest"},
		BBox:   &bb, Start: time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2018, 12, 31, 0, 0, 0, 0, time.UTC)}
}()

type layers struct{}

func (layers) Layers(ctx context.Context) ([]layer.Layer, error) { return []layer.Layer{vhrLayer}, nil }

// catalogue is empty, and remembers the boxes it was asked about.
type catalogue struct {
	mu   sync.Mutex
	last *[4]float64
}

func (c *catalogue) Find(ctx context.Context, q catalog.Query) ([]catalog.Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = q.BBox
	return nil, nil
}

func (c *catalogue) lastBox() *[4]float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

type renderer struct {
	layers
	r *render.Renderer
}

func (b renderer) Render(ctx context.Context, m wms.MapRequest) (*image.NRGBA, error) {
	img, _, err := b.r.Render(ctx, render.Request{Collection: m.Layer.Collection, Browse: m.Layer.Browse,
		CRS: m.CRS, BBox: m.BBox, Width: m.Width, Height: m.Height})
	return img, err
}

func (b renderer) FeatureInfo(ctx context.Context, m wms.MapRequest, pt [2]float64, count int) ([]wms.Feature, error) {
	_, _ = render.ToWGS84(m.CRS, [4]float64{pt[0], pt[1], pt[0], pt[1]})
	return nil, nil
}

type blankTiles struct{}

func (blankTiles) Open(ctx context.Context, k tile.Key) (tile.Content, error) {
	return tile.Content{Body: io.NopCloser(strings.NewReader("tile")), Size: 4, Version: k.Path()}, nil
}

type tileInfo struct{}

func (tileInfo) FeatureInfo(ctx context.Context, k tile.Key, i, j int, f string) (int, string, []byte, error) {
	return 200, f, []byte("info"), nil
}

// rasters offers testdata rasters as WCS coverages.
type rasters map[string]string

func (r rasters) Coverages(ctx context.Context, limit int) ([]wcs.Coverage, error) { return nil, nil }

func (r rasters) Coverage(ctx context.Context, id string) (wcs.Coverage, error) {
	path, ok := r[id]
	if !ok {
		return wcs.Coverage{}, wcs.ErrNotFound
	}
	info, err := cog.Describe(path, nil)
	if err != nil {
		return wcs.Coverage{}, err
	}
	c := wcs.Coverage{ID: id, CRS: info.CRS, Width: info.Width, Height: info.Height, GeoTransform: info.GeoTransform, Location: path}
	for _, b := range info.Bands {
		c.Bands = append(c.Bands, wcs.Band{DataType: b.DataType, Color: b.Color, NoData: b.NoData})
	}
	return c, nil
}

func (r rasters) GDALPath(key string) string { return key }

type noProducts struct{}

func (noProducts) Search(ctx context.Context, q opensearch.Query) ([]opensearch.Product, int64, error) {
	return nil, 0, nil
}

// front serves every front end, behind the limiter, on a loopback port.
func front(t *testing.T) (base string, cat *catalogue) {
	t.Helper()
	cog.Init()
	log := slog.New(slog.DiscardHandler)
	cat = &catalogue{}
	wmsH := &wms.Handler{Backend: renderer{r: &render.Renderer{Products: cat, MaxProducts: 10, Log: log}}, Log: log,
		Service: wms.Service{Title: "t", MaxSize: 4096}}
	root := filepath.Join("..", "..", "testdata", "rasters")
	wcsH := &wcs.Handler{Backend: rasters{"UTM_RGB": filepath.Join(root, "RGB.byte.tif"), "WGS84_RGB": filepath.Join(root, "rgbsmall.tif")},
		TempDir: t.TempDir(), Log: log, Service: wcs.Service{Title: "t", MaxBytes: 64 << 20}}
	wmtsH := &wmts.Handler{Tiles: blankTiles{}, Layers: layers{}, Info: tileInfo{}, Fallback: wmsH, Prefix: "/wmts", Log: log}
	osH := &opensearch.Handler{Backend: noProducts{}, Collection: "VHR_IMAGE_2018", MaxCount: 50, Log: log}
	mux := http.NewServeMux()
	mux.Handle("/wms", wmsH)
	mux.Handle("/wcs", wcsH)
	mux.Handle("/wmts", wmtsH)
	mux.Handle("/wmts/", wmtsH)
	mux.Handle("/opensearch/", osH)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = httpserver.ServeListener(ctx, log, ln, httpserver.Limit(16, mux), httpserver.Options{ShutdownGrace: time.Second})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String(), cat
}

// kvp builds a query from pairs, over base; "<del>" removes a key.
func kvp(base string, kv ...string) string {
	path, q, _ := strings.Cut(base, "?")
	v, _ := url.ParseQuery(q)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<del>" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return path + "?" + v.Encode()
}

const (
	getMap130 = "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=VHR_IMAGE_2018&STYLES=&CRS=EPSG:3857&BBOX=-8700000,2850000,-8660000,2890000&WIDTH=256&HEIGHT=256&FORMAT=image/png"
	getMap111 = "/wms?SERVICE=WMS&VERSION=1.1.1&REQUEST=GetMap&LAYERS=VHR_IMAGE_2018&STYLES=&SRS=EPSG:3857&BBOX=-8700000,2850000,-8660000,2890000&WIDTH=256&HEIGHT=256&FORMAT=image/png"
	gfi130    = "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=VHR_IMAGE_2018&QUERY_LAYERS=VHR_IMAGE_2018&STYLES=&CRS=EPSG:3857&BBOX=-8700000,2850000,-8660000,2890000&WIDTH=256&HEIGHT=256&I=10&J=10&INFO_FORMAT=application/json"
	gfi111    = "/wms?SERVICE=WMS&VERSION=1.1.1&REQUEST=GetFeatureInfo&LAYERS=VHR_IMAGE_2018&QUERY_LAYERS=VHR_IMAGE_2018&STYLES=&SRS=EPSG:3857&BBOX=-8700000,2850000,-8660000,2890000&WIDTH=256&HEIGHT=256&X=10&Y=10&INFO_FORMAT=application/json"
	getTile   = "/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=VHR_IMAGE_2018&STYLE=default&TILEMATRIXSET=GoogleMapsCompatible&TILEMATRIX=8&TILEROW=109&TILECOL=72&FORMAT=image/png"
	tileGFI   = "/wmts?SERVICE=WMTS&REQUEST=GetFeatureInfo&VERSION=1.0.0&LAYER=VHR_IMAGE_2018&STYLE=default&TILEMATRIXSET=GoogleMapsCompatible&TILEMATRIX=8&TILEROW=109&TILECOL=72&FORMAT=image/png&I=1&J=1&INFOFORMAT=text/html"
	tiledWMS  = "/wmts?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=VHR_IMAGE_2018&STYLES=&CRS=EPSG:3857&BBOX=0,0,1,1&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE"
	rest      = "/wmts/1.0.0/VHR_IMAGE_2018/default/"
	getCov    = "/wcs?SERVICE=WCS&VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID=UTM_RGB"
	getCov84  = "/wcs?SERVICE=WCS&VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID=WGS84_RGB"
	search    = "/opensearch/atom?"
)

var codeAttr = regexp.MustCompile(`(?:code|exceptionCode)="([^"]*)"`)

// exceptionCode reads the code of an OGC exception report, or for the
// OpenSearch JSON errors "json:" and the parameter named.
func exceptionCode(resp *http.Response, body []byte) string {
	if strings.Contains(resp.Header.Get("Content-Type"), "json") {
		var e struct {
			Error struct{ Parameter string } `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return "json:" + e.Error.Parameter
	}
	if m := codeAttr.FindSubmatch(body); m != nil {
		return string(m[1])
	}
	return ""
}

// Bad requests of every front end, with extreme and non-finite
// coordinates in every CRS served, inverted boxes, bad sizes and bad
// TIME: each is the client's error (4xx, with its exception code), none
// the server's, and each answers within a second, which is a detector of
// hangs, not a speed target. Then a normal GetMap still answers.
func TestBadOGCRequests(t *testing.T) {
	base, cat := front(t)
	const (
		ipv  = "InvalidParameterValue"
		idv  = "InvalidDimensionValue"
		sub  = "InvalidSubsetting"
		tooR = "TileOutOfRange"
	)
	timeList := strings.TrimSuffix(strings.Repeat("2018-06-15,", 101), ",")
	for _, c := range []struct {
		name   string
		target string
		status int
		code   string
	}{
		// WMS 1.3.0 GetMap, in every CRS.
		{"the hang: 1e300 box in EPSG:3857", kvp(getMap130, "BBOX", "-1e300,-1e300,1e300,1e300"), 400, ipv},
		{"1e20 box in EPSG:3857", kvp(getMap130, "BBOX", "-1e20,-1e20,1e20,1e20"), 400, ipv},
		{"one side 1e20 in EPSG:3857", kvp(getMap130, "BBOX", "-1e20,0,0,1"), 400, ipv},
		{"NaN in EPSG:3857", kvp(getMap130, "BBOX", "NaN,0,1,1"), 400, ipv},
		{"Inf in EPSG:3857", kvp(getMap130, "BBOX", "0,0,Inf,1"), 400, ipv},
		{"-Inf in EPSG:3857", kvp(getMap130, "BBOX", "-Inf,0,1,1"), 400, ipv},
		{"inverted box in EPSG:3857", kvp(getMap130, "BBOX", "10,10,0,0"), 400, ipv},
		{"box of no width", kvp(getMap130, "BBOX", "0,0,0,1"), 400, ipv},
		{"one number", kvp(getMap130, "BBOX", "1e300"), 400, ipv},
		{"1e300 in EPSG:4326 (lat/lon)", kvp(getMap130, "CRS", "EPSG:4326", "BBOX", "-1e300,-1e300,1e300,1e300"), 400, ipv},
		{"1e20 longitude in EPSG:4326", kvp(getMap130, "CRS", "EPSG:4326", "BBOX", "-90,1e20,90,180"), 400, ipv},
		{"NaN in EPSG:4326", kvp(getMap130, "CRS", "EPSG:4326", "BBOX", "0,0,NaN,1"), 400, ipv},
		{"inverted latitudes in EPSG:4326", kvp(getMap130, "CRS", "EPSG:4326", "BBOX", "50,0,40,1"), 400, ipv},
		{"1e300 in CRS:84", kvp(getMap130, "CRS", "CRS:84", "BBOX", "-1e300,-90,180,90"), 400, ipv},
		{"Inf in CRS:84", kvp(getMap130, "CRS", "CRS:84", "BBOX", "-180,-90,180,Inf"), 400, ipv},
		{"1e5 degrees in CRS:84", kvp(getMap130, "CRS", "CRS:84", "BBOX", "-1e5,-90,180,90"), 400, ipv},
		{"1e300 in UTM 31N", kvp(getMap130, "CRS", "EPSG:32631", "BBOX", "-1e300,-1e300,1e300,1e300"), 400, ipv},
		{"1e20 in UTM 31N", kvp(getMap130, "CRS", "EPSG:32631", "BBOX", "0,0,1e20,1e20"), 400, ipv},
		{"NaN in UTM 31N", kvp(getMap130, "CRS", "EPSG:32631", "BBOX", "0,NaN,1,1"), 400, ipv},
		{"-1e20 in UTM 60S", kvp(getMap130, "CRS", "EPSG:32760", "BBOX", "-1e20,0,0,1"), 400, ipv},
		{"Inf in UTM 1S", kvp(getMap130, "CRS", "EPSG:32701", "BBOX", "0,0,1,Inf"), 400, ipv},
		{"inverted box in UTM 60N", kvp(getMap130, "CRS", "EPSG:32660", "BBOX", "500000,0,400000,1"), 400, ipv},
		{"CRS not served", kvp(getMap130, "CRS", "EPSG:2154"), 400, "InvalidCRS"},
		{"WIDTH 1e300", kvp(getMap130, "WIDTH", "1e300"), 400, ipv},
		{"negative WIDTH", kvp(getMap130, "WIDTH", "-256"), 400, ipv},
		{"HEIGHT past int64", kvp(getMap130, "HEIGHT", "99999999999999999999"), 400, ipv},
		{"WIDTH past the limit", kvp(getMap130, "WIDTH", "100000"), 400, ipv},
		{"HEIGHT 0", kvp(getMap130, "HEIGHT", "0"), 400, ipv},
		{"TIME NaN", kvp(getMap130, "TIME", "NaN"), 400, idv},
		{"TIME month 13", kvp(getMap130, "TIME", "2018-13-45"), 400, idv},
		{"TIME list of 101", kvp(getMap130, "TIME", timeList), 400, ipv},
		{"TIME end before start", kvp(getMap130, "TIME", "2018-06-02/2018-06-01"), 400, idv},
		{"TIME outside the layer", kvp(getMap130, "TIME", "1999-01-01"), 400, idv},
		// WMS 1.1.1 GetMap.
		{"1.1.1 1e300 in EPSG:3857", kvp(getMap111, "BBOX", "-1e300,-1e300,1e300,1e300"), 400, ipv},
		{"1.1.1 -1e300 in EPSG:4326", kvp(getMap111, "SRS", "EPSG:4326", "BBOX", "-1e300,-90,180,90"), 400, ipv},
		{"1.1.1 NaN in EPSG:4326", kvp(getMap111, "SRS", "EPSG:4326", "BBOX", "NaN,-90,180,90"), 400, ipv},
		{"1.1.1 1e20 in UTM 31N", kvp(getMap111, "SRS", "EPSG:32631", "BBOX", "0,0,1e20,1"), 400, ipv},
		{"1.1.1 Inf in UTM 33S", kvp(getMap111, "SRS", "EPSG:32733", "BBOX", "0,0,1,Inf"), 400, ipv},
		{"1.1.1 inverted in EPSG:4326", kvp(getMap111, "SRS", "EPSG:4326", "BBOX", "10,0,0,1"), 400, ipv},
		{"1.1.1 WIDTH 1e300", kvp(getMap111, "WIDTH", "1e300"), 400, ipv},
		{"1.1.1 bad TIME", kvp(getMap111, "TIME", "yesterday"), 400, idv},
		{"1.1.1 TIME list of 101", kvp(getMap111, "TIME", timeList), 400, ipv},
		{"1.1.1 SRS not served", kvp(getMap111, "SRS", "EPSG:999"), 400, "InvalidSRS"},
		// WMS GetFeatureInfo.
		{"GetFeatureInfo 1e300 box", kvp(gfi130, "BBOX", "-1e300,-1e300,1e300,1e300"), 400, ipv},
		{"GetFeatureInfo 1e20 in CRS:84", kvp(gfi130, "CRS", "CRS:84", "BBOX", "-1e20,-90,180,90"), 400, ipv},
		{"GetFeatureInfo I 1e300", kvp(gfi130, "I", "1e300"), 400, "InvalidPoint"},
		{"1.1.1 GetFeatureInfo X -1", kvp(gfi111, "X", "-1"), 400, ipv},
		{"1.1.1 GetFeatureInfo NaN in UTM 31N", kvp(gfi111, "SRS", "EPSG:32631", "BBOX", "0,0,NaN,1"), 400, ipv},
		// WMTS KVP.
		{"WMTS TILEMATRIX 1e300", kvp(getTile, "TILEMATRIX", "1e300"), 400, ipv},
		{"WMTS TILEROW past int64", kvp(getTile, "TILEROW", "99999999999999999999"), 400, ipv},
		{"WMTS TILECOL -1", kvp(getTile, "TILECOL", "-1"), 400, tooR},
		{"WMTS TILEMATRIX 99", kvp(getTile, "TILEMATRIX", "99"), 400, ipv},
		{"WMTS TIME NaN", kvp(getTile, "TIME", "NaN"), 400, ipv},
		{"WMTS TIME list", kvp(getTile, "TIME", "2018-01-01,2018-02-01"), 400, ipv},
		{"WMTS FORMAT gif", kvp(getTile, "FORMAT", "image/gif"), 400, ipv},
		{"WMTS GetFeatureInfo I 1e300", kvp(tileGFI, "I", "1e300"), 400, "PointIJOutOfRange"},
		// WMTS REST.
		{"REST TileMatrix 1e300", rest + "GoogleMapsCompatible/1e300/0/0.png", 400, ipv},
		{"REST TileRow past int64", rest + "GoogleMapsCompatible/3/99999999999999999999/0.png", 400, ipv},
		{"REST tile out of range", rest + "WorldCRS84Quad/0/0/2.png", 400, tooR},
		{"REST TIME NaN--Inf", rest + "NaN--Inf/GoogleMapsCompatible/0/0/0.png", 400, ipv},
		{"REST TIME end before start", rest + "2018-06-02--2018-06-01/GoogleMapsCompatible/0/0/0.png", 400, ipv},
		// WMS through the WMTS cache, which hands what is not a tile to the renderer.
		{"tiled WMS 1e300 in EPSG:3857", kvp(tiledWMS, "BBOX", "-1e300,-1e300,1e300,1e300"), 400, ipv},
		{"tiled WMS NaN in EPSG:4326", kvp(tiledWMS, "CRS", "EPSG:4326", "BBOX", "NaN,0,1,1"), 400, ipv},
		// WCS SUBSET, in the native CRS and in others, and sizes.
		{"WCS 1e300 easting", kvp(getCov, "SUBSET", "x(-1e300,1e300)"), 400, sub},
		{"WCS 1e20 northing", kvp(getCov, "SUBSET", "y(0,1e20)"), 400, sub},
		{"WCS NaN", kvp(getCov, "SUBSET", "y(NaN,1)"), 400, sub},
		{"WCS Inf", kvp(getCov, "SUBSET", "x(0,Inf)"), 400, sub},
		{"WCS inverted", kvp(getCov, "SUBSET", "x(10,0)"), 400, sub},
		{"WCS the hang: 1e300 in EPSG:3857", kvp(getCov, "SUBSETTINGCRS", "EPSG:3857", "SUBSET", "x(-1e300,1e300)"), 400, sub},
		{"WCS 1e20 in EPSG:3857", kvp(getCov, "SUBSETTINGCRS", "EPSG:3857", "SUBSET", "y(-1e20,1e20)"), 400, sub},
		{"WCS 1e20 longitude in EPSG:4326", kvp(getCov, "SUBSETTINGCRS", "EPSG:4326", "SUBSET", "Long(-1e20,0)"), 400, sub},
		{"WCS NaN latitude in EPSG:4326", kvp(getCov, "SUBSETTINGCRS", "EPSG:4326", "SUBSET", "Lat(NaN,1)"), 400, sub},
		{"WCS 1e300 in UTM 31N", kvp(getCov, "SUBSETTINGCRS", "http://www.opengis.net/def/crs/EPSG/0/32631", "SUBSET", "x(0,1e300)"), 400, sub},
		{"WCS -1e20 in UTM 18S", kvp(getCov, "SUBSETTINGCRS", "EPSG:32718", "SUBSET", "y(-1e20,0)"), 400, sub},
		{"WCS 1e300 latitude, native EPSG:4326", kvp(getCov84, "SUBSET", "Lat(-1e300,1e300)"), 400, sub},
		{"WCS SCALESIZE 1e300", kvp(getCov, "SCALESIZE", "i(1e300),j(10)"), 400, "InvalidExtent"},
		{"WCS SCALESIZE overflowing int64 bytes", kvp(getCov, "SCALESIZE", "i(2000000000),j(2000000000)"), 400, ipv},
		{"WCS SCALEFACTOR 1e-300", kvp(getCov, "SCALEFACTOR", "1e-300"), 400, "InvalidScaleFactor"},
		{"WCS SCALEFACTOR NaN", kvp(getCov, "SCALEFACTOR", "NaN"), 400, "InvalidScaleFactor"},
		{"WCS SCALEAXES 1e-300", kvp(getCov, "SCALEAXES", "i(1e-300)"), 400, "InvalidScaleFactor"},
		// OpenSearch.
		{"OpenSearch 1e300 bbox", search + "bbox=-1e300,-1e300,1e300,1e300", 400, ipv},
		{"OpenSearch NaN bbox", search + "bbox=NaN,0,1,1", 400, ipv},
		{"OpenSearch Inf bbox", search + "bbox=0,0,Inf,1", 400, ipv},
		{"OpenSearch inverted bbox", search + "bbox=0,50,1,40", 400, ipv},
		{"OpenSearch 1e300 geom", search + "geom=" + url.QueryEscape("POINT(1e300 0)"), 400, ipv},
		{"OpenSearch 1e20 geom", search + "geom=" + url.QueryEscape("POLYGON((0 0,1e20 0,1e20 1,0 0))"), 400, ipv},
		{"OpenSearch NaN geom", search + "geom=" + url.QueryEscape("POINT(nan nan)"), 400, ipv},
		{"OpenSearch 1e300 lat", search + "lat=1e300&lon=0", 400, ipv},
		{"OpenSearch NaN lon", search + "lat=0&lon=NaN", 400, ipv},
		{"OpenSearch radius 1e20", search + "lat=0&lon=0&radius=1e20", 400, ipv},
		{"OpenSearch start NaN", search + "start=NaN", 400, ipv},
		{"OpenSearch JSON 1e300 bbox", "/opensearch/json?bbox=1e300,0,1e301,1", 400, "json:bbox"},
		{"OpenSearch JSON end before start", "/opensearch/json?start=2018-06-02&end=2018-06-01", 400, "json:end"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			resp, body := fetch(t, base+c.target)
			if d := time.Since(start); d > time.Second {
				t.Errorf("answered in %v", d)
			}
			if resp.StatusCode >= 500 || resp.StatusCode < 400 || resp.StatusCode != c.status {
				t.Errorf("status %d, want %d: %.300s", resp.StatusCode, c.status, body)
			}
			if got := exceptionCode(resp, body); got != c.code {
				t.Errorf("exception code %q, want %q: %.300s", got, c.code, body)
			}
		})
	}
	// The server still draws.
	resp, body := fetch(t, base+getMap130)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || len(body) == 0 {
		t.Errorf("a normal GetMap after the bad ones: %d %s %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if b := cat.lastBox(); b == nil || b[0] > -78.1 || b[2] < -77.8 {
		t.Errorf("the normal GetMap queried %v", b)
	}
}

// Boxes past the world's edge are maps, as web clients ask for them at
// low zooms: they are drawn, and the catalogue is asked about the part
// inside the world. A box wholly outside draws an empty map.
func TestBoxesPastTheWorldAreDrawn(t *testing.T) {
	base, cat := front(t)
	world := [4]float64{-180, -85.0511287798066, 180, 85.0511287798066}
	for _, c := range []struct {
		name   string
		target string
		query  *[4]float64 // nil: the catalogue is not asked
	}{
		{"EPSG:3857 slightly past ±20037508", kvp(getMap130, "BBOX", "-20100000,-20100000,20100000,20100000"), &world},
		{"EPSG:3857 50 worlds wide", kvp(getMap130, "BBOX", "-1e9,-1e9,1e9,1e9"), &world},
		{"CRS:84 past ±180", kvp(getMap130, "CRS", "CRS:84", "BBOX", "-540,-90,540,90"), &[4]float64{-180, -90, 180, 90}},
		{"EPSG:4326 1.3.0 past ±180", kvp(getMap130, "CRS", "EPSG:4326", "BBOX", "-90,-200,90,200"), &[4]float64{-180, -90, 180, 90}},
		{"EPSG:4326 1.1.1 east of the antimeridian", kvp(getMap111, "SRS", "EPSG:4326", "BBOX", "170,-10,190,10"), &[4]float64{170, -10, 180, 10}},
		{"EPSG:3857 wholly outside", kvp(getMap130, "BBOX", "3e7,3e7,4e7,4e7"), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cat.mu.Lock()
			cat.last = nil
			cat.mu.Unlock()
			resp, body := fetch(t, base+c.target)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
				t.Fatalf("%d %.300s", resp.StatusCode, body)
			}
			got := cat.lastBox()
			switch {
			case c.query == nil && got != nil:
				t.Errorf("the catalogue was asked about %v", *got)
			case c.query != nil && got == nil:
				t.Errorf("the catalogue was not asked")
			case c.query != nil:
				for i := range got {
					if math.Abs(got[i]-c.query[i]) > 1e-6 {
						t.Errorf("the catalogue was asked about %v, want %v", *got, *c.query)
						break
					}
				}
			}
		})
	}
}

func fetch(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second} // past the second allowed: a hang fails the test, not the run
	resp, err := client.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp, body
}
