package wms

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/layer"
)

type fakeBackend struct {
	mu    sync.Mutex
	last  MapRequest
	err   error
	point [2]float64
	count int
}

func (f *fakeBackend) ProductLayer(ctx context.Context, name string) (Layer, bool, error) {
	if name != "P1" {
		return Layer{}, false, nil
	}
	return Layer{Name: "P1", Collection: "VHR_IMAGE_2018", Identifier: "P1", Browse: testCollection.Browses[0]}, true, nil
}

func (f *fakeBackend) FeatureInfo(ctx context.Context, req MapRequest, pt [2]float64, count int) ([]Feature, error) {
	f.last, f.point, f.count = req, pt, count
	return []Feature{{Identifier: "P1 <&>", Collection: req.Layer.Collection, ProductType: "VHR_OPTICAL",
		BeginTime: time.Date(2018, 6, 15, 10, 0, 0, 0, time.UTC), EndTime: time.Date(2018, 6, 15, 10, 1, 0, 0, time.UTC),
		Properties: map[string]string{"platform": "PHR1A", "cloudCover": "12.5"},
		Footprint:  []byte(`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}`)}}, nil
}

func (f *fakeBackend) Layers(ctx context.Context) ([]Layer, error) {
	return layer.Catalog{Extents: fakeExtent{}, Collections: []config.Collection{testCollection}}.Layers(ctx)
}

// testCollection has the browses of config/vhr18.yaml: RGB with and
// without a stretch, one grey band, and a band expression.
var testCollection = config.Collection{Name: "VHR_IMAGE_2018", Title: "VHR", Browses: []config.Browse{
	{Name: "TRUE_COLOR", Bands: []int{1, 2, 3}},
	{Name: "GREY", Bands: []int{1}},
	{Name: "FALSE_COLOR", Bands: []int{4, 1, 2}, Range: []float64{0, 4000}},
	{Name: "NDVI", Expression: "(B4-B1)/(B4+B1)", Range: []float64{-1, 1}},
}}

type fakeExtent struct{}

func (fakeExtent) CollectionExtent(ctx context.Context, collection string) (layer.Extent, error) {
	bb := [4]float64{-79, 23.5, -76.5, 25.6}
	start, end := time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2018, 12, 31, 0, 0, 0, 0, time.UTC)
	return layer.Extent{BBox: &bb, Start: &start, End: &end}, nil
}

func (f *fakeBackend) Render(ctx context.Context, req MapRequest) (*image.NRGBA, error) {
	f.mu.Lock()
	f.last = req
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	img := image.NewNRGBA(image.Rect(0, 0, req.Width, req.Height))
	img.SetNRGBA(0, 0, color.NRGBA{10, 20, 30, 255})
	return img, nil
}

func newHandler() (*Handler, *fakeBackend) {
	b := &fakeBackend{}
	return &Handler{Backend: b, Log: slog.New(slog.DiscardHandler), Service: Service{Title: "t", MaxSize: 4096, PublicURL: "http://example.org/ows"}}, b
}

func get(h http.Handler, query string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ows?"+query, nil))
	return rec
}

const okMap = "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=VHR_IMAGE_2018&STYLES=&CRS=EPSG:3857&BBOX=0,0,1000,1000&WIDTH=256&HEIGHT=256&FORMAT=image/png"

func with(q string, kv ...string) string {
	v, _ := url.ParseQuery(q)
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "<del>" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v.Encode()
}

type report struct {
	Version    string `xml:"version,attr"`
	Exceptions []struct {
		Code    string `xml:"code,attr"`
		Locator string `xml:"locator,attr"`
		Text    string `xml:",chardata"`
	} `xml:"ServiceException"`
}

func TestExceptions(t *testing.T) {
	h, _ := newHandler()
	for _, c := range []struct {
		name, query, code string
	}{
		{"no request", "SERVICE=WMS", CodeMissingParameterValue},
		{"unknown request", "SERVICE=WMS&REQUEST=GetSomething", CodeOperationNotSupported},
		{"wrong service", "SERVICE=WFS&REQUEST=GetMap", CodeInvalidParameterValue},
		{"unknown layer", with(okMap, "LAYERS", "NOPE"), CodeLayerNotDefined},
		{"two layers", with(okMap, "LAYERS", "VHR_IMAGE_2018,VHR_IMAGE_2018"), CodeInvalidParameterValue},
		{"unknown style", with(okMap, "STYLES", "fancy"), CodeStyleNotDefined},
		{"missing styles 1.3.0", with(okMap, "STYLES", "<del>"), CodeMissingParameterValue},
		{"unknown crs", with(okMap, "CRS", "EPSG:999999"), CodeInvalidCRS},
		{"garbage crs", with(okMap, "CRS", "' OR 1=1 --"), CodeInvalidCRS},
		{"missing crs", with(okMap, "CRS", "<del>"), CodeMissingParameterValue},
		{"missing bbox", with(okMap, "BBOX", "<del>"), CodeMissingParameterValue},
		{"inverted bbox", with(okMap, "BBOX", "10,10,0,0"), CodeInvalidParameterValue},
		{"nan bbox", with(okMap, "BBOX", "NaN,0,1,1"), CodeInvalidParameterValue},
		{"inf bbox", with(okMap, "BBOX", "0,0,Inf,1"), CodeInvalidParameterValue},
		{"three bbox values", with(okMap, "BBOX", "0,0,1"), CodeInvalidParameterValue},
		{"1e300 bbox", with(okMap, "BBOX", "-1e300,-1e300,1e300,1e300"), CodeInvalidParameterValue},
		{"1e20 bbox in UTM", with(okMap, "CRS", "EPSG:32631", "BBOX", "0,0,1e20,1e20"), CodeInvalidParameterValue},
		{"1e5 degrees", with(okMap, "CRS", "CRS:84", "BBOX", "-1e5,-90,180,90"), CodeInvalidParameterValue},
		{"time list too long", with(okMap, "TIME", strings.TrimSuffix(strings.Repeat("2018-06-15,", 101), ",")), CodeInvalidParameterValue},
		{"huge width", with(okMap, "WIDTH", "100000"), CodeInvalidParameterValue},
		{"zero height", with(okMap, "HEIGHT", "0"), CodeInvalidParameterValue},
		{"text width", with(okMap, "WIDTH", "wide"), CodeInvalidParameterValue},
		{"unknown format", with(okMap, "FORMAT", "image/gif"), CodeInvalidFormat},
		{"bad time", with(okMap, "TIME", "yesterday"), CodeInvalidDimensionValue},
		{"sql time", with(okMap, "TIME", "2018'; DROP TABLE products; --"), CodeInvalidDimensionValue},
		{"bad transparent", with(okMap, "TRANSPARENT", "maybe"), CodeInvalidParameterValue},
		{"bad bgcolor", with(okMap, "BGCOLOR", "red"), CodeInvalidParameterValue},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := get(h, c.query)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", rec.Code)
			}
			var r report
			if err := xml.Unmarshal(rec.Body.Bytes(), &r); err != nil {
				t.Fatalf("not an exception report: %v\n%s", err, rec.Body)
			}
			if len(r.Exceptions) != 1 || r.Exceptions[0].Code != c.code || r.Exceptions[0].Text == "" {
				t.Errorf("got %+v, want code %s", r, c.code)
			}
			if r.Version != "1.3.0" {
				t.Errorf("report version %q", r.Version)
			}
		})
	}
}

func TestWMS111UsesSRSAndItsCodes(t *testing.T) {
	h, _ := newHandler()
	q := with(okMap, "VERSION", "1.1.1", "CRS", "<del>", "SRS", "EPSG:1")
	rec := get(h, q)
	var r report
	xml.Unmarshal(rec.Body.Bytes(), &r)
	if r.Version != "1.1.1" || len(r.Exceptions) != 1 || r.Exceptions[0].Code != CodeInvalidSRS {
		t.Errorf("1.1.1 bad SRS: %s", rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/vnd.ogc.se_xml" {
		t.Errorf("1.1.1 exception content type %q", ct)
	}
}

// EPSG:4326 is lat/lon in 1.3.0 and lon/lat in 1.1.1; CRS:84 is lon/lat.
func TestAxisOrder(t *testing.T) {
	h, b := newHandler()
	want := [4]float64{-78, 24, -77, 25}
	for _, q := range []string{
		with(okMap, "CRS", "EPSG:4326", "BBOX", "24,-78,25,-77"),
		with(okMap, "CRS", "CRS:84", "BBOX", "-78,24,-77,25"),
		with(okMap, "VERSION", "1.1.1", "CRS", "<del>", "SRS", "EPSG:4326", "BBOX", "-78,24,-77,25"),
	} {
		rec := get(h, q)
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", q, rec.Code, rec.Body)
		}
		if b.last.BBox != want || b.last.CRS.Code != 4326 {
			t.Errorf("%s: renderer got bbox %v crs %v, want %v", q, b.last.BBox, b.last.CRS, want)
		}
	}
}

// Web clients ask for boxes past the world's edge at low zooms: they are
// drawn, and the backend gets the box as asked (the map's geometry);
// clamping is the transformation's business.
func TestBoxesPastTheWorldAreDrawn(t *testing.T) {
	h, b := newHandler()
	for _, c := range []struct{ crs, bbox string }{
		{"EPSG:3857", "-20100000,-20100000,20100000,20100000"},
		{"EPSG:3857", "-1e9,-1e9,1e9,1e9"},
		{"CRS:84", "-540,-90,540,90"},
		{"EPSG:4326", "-95,-200,95,200"},
		{"EPSG:32631", "-5e6,-1e7,5e6,1e7"},
	} {
		rec := get(h, with(okMap, "CRS", c.crs, "BBOX", c.bbox))
		if rec.Code != 200 {
			t.Errorf("%s %s: %d %s", c.crs, c.bbox, rec.Code, rec.Body)
			continue
		}
		if b.last.BBox[2]-b.last.BBox[0] <= 0 {
			t.Errorf("%s %s: the backend got %v", c.crs, c.bbox, b.last.BBox)
		}
	}
}

func TestGetMapImageAndOptions(t *testing.T) {
	h, b := newHandler()
	rec := get(h, with(okMap, "TIME", "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z", "BGCOLOR", "0x336699"))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	img, err := png.Decode(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	// Not transparent: the background colour fills empty pixels.
	if r, g, bl, a := img.At(5, 5).RGBA(); r>>8 != 0x33 || g>>8 != 0x66 || bl>>8 != 0x99 || a>>8 != 255 {
		t.Errorf("background pixel = %d,%d,%d,%d", r>>8, g>>8, bl>>8, a>>8)
	}
	if len(b.last.Times) != 1 || !b.last.Times[0].Start.Equal(time.Date(2018, 6, 15, 0, 0, 0, 0, time.UTC)) ||
		!b.last.Times[0].End.Equal(time.Date(2018, 6, 16, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("time passed to the renderer: %v", b.last.Times)
	}
	rec = get(h, with(okMap, "TRANSPARENT", "TRUE"))
	img, _ = png.Decode(rec.Body)
	if _, _, _, a := img.At(5, 5).RGBA(); a != 0 {
		t.Error("TRANSPARENT=TRUE left an opaque background")
	}
	rec = get(h, with(okMap, "FORMAT", "image/jpeg"))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/jpeg" || !bytes.HasPrefix(rec.Body.Bytes(), []byte{0xff, 0xd8}) {
		t.Errorf("jpeg: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	// 8-bit PNG: paletted, transparent where nothing is drawn.
	for _, f := range []string{"image/png; mode=8bit", "image/png8"} {
		rec = get(h, with(with(okMap, "FORMAT", f), "TRANSPARENT", "TRUE"))
		img, err := png.Decode(rec.Body)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != f || err != nil {
			t.Fatalf("%s: %d %s %v", f, rec.Code, rec.Header().Get("Content-Type"), err)
		}
		pal, ok := img.(*image.Paletted)
		if !ok || len(pal.Palette) > 256 {
			t.Fatalf("%s: decoded as %T", f, img)
		}
		if _, _, _, a := img.At(5, 5).RGBA(); a != 0 {
			t.Errorf("%s: TRANSPARENT=TRUE left an opaque background", f)
		}
	}
}

func TestTimeValues(t *testing.T) {
	h, b := newHandler()
	// The fake layer's extent is 2018-01-01/2018-12-31.
	for q, n := range map[string]int{
		with(okMap, "TIME", "2018-06-15T10:00:00Z"):                       1,
		with(okMap, "TIME", "2018-03-01/2018-03-02,2018-07-01T00:00:00Z"): 2,
		with(okMap, "TIME", "2017-12-01/2018-01-15"):                      1, // overlaps the start
		with(okMap, "TIME", "current"):                                    0,
		okMap:                                                             0,
	} {
		if rec := get(h, q); rec.Code != 200 {
			t.Errorf("%s: %d %s", q, rec.Code, rec.Body)
			continue
		}
		if len(b.last.Times) != n {
			t.Errorf("%s: %d time values reached the renderer, want %d", q, len(b.last.Times), n)
		}
	}
	for _, bad := range []string{"2019-06-15", "2018-06-15,2020-01-01", "2016-01-01/2017-01-01"} {
		rec := get(h, with(okMap, "TIME", bad))
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), CodeInvalidDimensionValue) || !strings.Contains(rec.Body.String(), "outside the layer") {
			t.Errorf("TIME=%s: %d %s", bad, rec.Code, rec.Body)
		}
	}
}

func TestRawFormatForTheCache(t *testing.T) {
	h, _ := newHandler()
	rec := get(h, with(okMap, "FORMAT", RawFormat, "WIDTH", "8", "HEIGHT", "4"))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != RawFormat || rec.Body.Len() != 8*4*4 {
		t.Fatalf("%d %s %d bytes", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
	}
	if px := rec.Body.Bytes()[:4]; px[0] != 10 || px[1] != 20 || px[2] != 30 || px[3] != 255 {
		t.Errorf("first pixel %v", px)
	}
	if strings.Contains(get(h, "SERVICE=WMS&REQUEST=GetCapabilities").Body.String(), RawFormat) {
		t.Error("the internal format is advertised")
	}
}

func TestInImageAndBlankExceptions(t *testing.T) {
	h, _ := newHandler()
	for _, ex := range []string{"INIMAGE", "XML_INIMAGE", "application/vnd.ogc.se_inimage", "BLANK"} {
		rec := get(h, with(okMap, "LAYERS", "NOPE", "EXCEPTIONS", ex))
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/png" {
			t.Fatalf("%s: %d %s", ex, rec.Code, rec.Header().Get("Content-Type"))
		}
		img, err := png.Decode(rec.Body)
		if err != nil || img.Bounds().Dx() != 256 {
			t.Fatalf("%s: %v", ex, err)
		}
		marked := 0
		for y := 0; y < 40; y++ {
			for x := 0; x < 256; x++ {
				if r, _, _, _ := img.At(x, y).RGBA(); r>>8 == 200 {
					marked++
				}
			}
		}
		if inimage := strings.HasSuffix(ex, "inimage") || strings.HasSuffix(ex, "INIMAGE"); inimage != (marked > 0) {
			t.Errorf("%s: %d message pixels", ex, marked)
		}
	}
}

func TestRenderFailureIsAnExceptionNotACrash(t *testing.T) {
	h, b := newHandler()
	b.err = errors.New("gdal exploded")
	rec := get(h, okMap)
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), CodeNoApplicableCode) {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "exploded") {
		t.Error("internal error text leaked to the client")
	}
	b.err = fmt.Errorf("%w: 51 products", ErrLimit)
	if rec := get(h, okMap); rec.Code != http.StatusBadRequest {
		t.Errorf("too many products: %d", rec.Code)
	}
}

func TestCapabilities(t *testing.T) {
	h, _ := newHandler()
	rec := get(h, "SERVICE=WMS&REQUEST=GetCapabilities")
	body := rec.Body.String()
	for _, want := range []string{`version="1.3.0"`, "<Name>VHR_IMAGE_2018</Name>", `<CRS>EPSG:3857</CRS>`, `<CRS>EPSG:32618</CRS>`,
		`<Dimension name="time" units="ISO8601" default="2018-12-31T00:00:00Z"`, `xlink:href="http://example.org/ows?"`,
		`<BoundingBox CRS="EPSG:4326" minx="23.5" miny="-79" maxx="25.6" maxy="-76.5"/>`} {
		if !strings.Contains(body, want) {
			t.Errorf("1.3.0 capabilities lack %s", want)
		}
	}
	if rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Error("no CORS header")
	}
	var v struct{ XMLName xml.Name }
	if err := xml.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Errorf("1.3.0 capabilities are not XML: %v", err)
	}
	rec = get(h, "SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.1.1")
	if !strings.Contains(rec.Body.String(), "<SRS>EPSG:4326</SRS>") || !strings.Contains(rec.Body.String(), `WMT_MS_Capabilities version="1.1.1"`) {
		t.Error("1.1.1 capabilities")
	}
	// Version negotiation: an unknown lower version gets 1.1.1, a higher one 1.3.0.
	if rec := get(h, "SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.0.0"); !strings.Contains(rec.Body.String(), `version="1.1.1"`) {
		t.Error("VERSION=1.0.0 not answered with 1.1.1")
	}
	if rec := get(h, "SERVICE=WMS&REQUEST=GetCapabilities&VERSION=2.0.0"); !strings.Contains(rec.Body.String(), `version="1.3.0"`) {
		t.Error("VERSION=2.0.0 not answered with 1.3.0")
	}
}

func FuzzGetMap(f *testing.F) {
	f.Add(okMap)
	f.Add(with(okMap, "CRS", "EPSG:4326", "BBOX", "1,2,3,4", "EXCEPTIONS", "INIMAGE"))
	f.Add("REQUEST=GetMap&WIDTH=-1&HEIGHT=99999999999999999999")
	f.Add("request=getcapabilities&version=1.1")
	f.Add("REQUEST=GetLegendGraphic&LAYER=VHR_IMAGE_2018__NDVI&TRANSPARENT=TRUE&BGCOLOR=0x00ff00")
	h, _ := newHandler()
	f.Fuzz(func(t *testing.T, q string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/ows", nil)
		req.URL.RawQuery = q
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%q: status %d", q, rec.Code)
		}
	})
}

const okInfo = "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=VHR_IMAGE_2018&QUERY_LAYERS=VHR_IMAGE_2018&STYLES=&CRS=EPSG:3857&BBOX=0,0,1000,1000&WIDTH=100&HEIGHT=100&I=10&J=20&INFO_FORMAT=application/json"

func TestGetFeatureInfo(t *testing.T) {
	h, b := newHandler()
	rec := get(h, okInfo)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("%d %s %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	// Pixel (10, 20) of a 100x100 map over 0..1000: its centre.
	if b.point != [2]float64{105, 795} || b.count != 1 {
		t.Errorf("point %v count %d", b.point, b.count)
	}
	var fc struct {
		Type     string
		Features []struct {
			ID         string
			Geometry   map[string]any
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &fc); err != nil || fc.Type != "FeatureCollection" || len(fc.Features) != 1 ||
		fc.Features[0].ID != "P1 <&>" || fc.Features[0].Properties["platform"] != "PHR1A" || fc.Features[0].Geometry["type"] != "Polygon" {
		t.Errorf("JSON: %s (%v)", rec.Body, err)
	}
	// 1.1.1 uses X/Y and SRS; EPSG:4326 stays lon/lat there.
	get(h, with(okInfo, "VERSION", "1.1.1", "CRS", "<del>", "SRS", "EPSG:4326", "BBOX", "0,0,10,10", "I", "<del>", "J", "<del>", "X", "0", "Y", "99", "FEATURE_COUNT", "5"))
	if math.Abs(b.point[0]-0.05) > 1e-9 || math.Abs(b.point[1]-0.05) > 1e-9 || b.count != 5 {
		t.Errorf("1.1.1 point %v count %d", b.point, b.count)
	}
	html := get(h, with(okInfo, "INFO_FORMAT", "text/html")).Body.String()
	if !strings.Contains(html, "P1 &lt;&amp;&gt;") || !strings.Contains(html, "<th>cloudCover</th><td>12.5</td>") {
		t.Errorf("HTML not escaped or incomplete: %s", html)
	}
	x := get(h, with(okInfo, "INFO_FORMAT", "text/xml"))
	var doc struct {
		Features []struct {
			Identifier string `xml:"identifier"`
		} `xml:"Feature"`
	}
	if err := xml.Unmarshal(x.Body.Bytes(), &doc); err != nil || len(doc.Features) != 1 || doc.Features[0].Identifier != "P1 <&>" {
		t.Errorf("XML: %s (%v)", x.Body, err)
	}
	for q, code := range map[string]string{
		with(okInfo, "QUERY_LAYERS", "<del>"):          CodeMissingParameterValue,
		with(okInfo, "QUERY_LAYERS", "OTHER"):          CodeLayerNotQueryable,
		with(okInfo, "I", "100"):                       CodeInvalidPoint,
		with(okInfo, "J", "-1"):                        CodeInvalidPoint,
		with(okInfo, "I", "<del>"):                     CodeMissingParameterValue,
		with(okInfo, "INFO_FORMAT", "application/pdf"): CodeInvalidFormat,
		with(okInfo, "FEATURE_COUNT", "0"):             CodeInvalidParameterValue,
		with(okInfo, "TIME", "2030-01-01"):             CodeInvalidDimensionValue,
	} {
		rec := get(h, q)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `code="`+code+`"`) {
			t.Errorf("%s: %d %s, want %s", q, rec.Code, rec.Body, code)
		}
	}
}

func TestProductLayers(t *testing.T) {
	h, b := newHandler()
	if rec := get(h, with(okMap, "LAYERS", "P1")); rec.Code != 200 || b.last.Layer.Identifier != "P1" {
		t.Errorf("product layer: %d, renderer asked for %+v", rec.Code, b.last.Layer)
	}
	if rec := get(h, with(okMap, "LAYERS", "P2")); rec.Code != 400 || !strings.Contains(rec.Body.String(), CodeLayerNotDefined) {
		t.Errorf("unknown product: %d %s", rec.Code, rec.Body)
	}
	if strings.Contains(get(h, "SERVICE=WMS&REQUEST=GetCapabilities").Body.String(), "<Name>P1</Name>") {
		t.Error("products are listed in capabilities")
	}
}

// FuzzGetFeatureInfo: whatever the parameters, a GetFeatureInfo is answered
// with a 200 whose point lies inside the map's box and whose JSON parses, or
// with a 4xx exception; never a 5xx.
func FuzzGetFeatureInfo(f *testing.F) {
	f.Add(okInfo)
	f.Add(with(okInfo, "I", "-1", "J", "100"))
	f.Add(with(okInfo, "I", "99999999999999999999", "FEATURE_COUNT", "-5"))
	f.Add(with(okInfo, "VERSION", "1.1.1", "SRS", "EPSG:4326", "CRS", "<del>", "I", "<del>", "X", "5", "Y", "5", "BBOX", "-180,-90,180,90"))
	f.Add(with(okInfo, "INFO_FORMAT", "text/html", "FEATURE_COUNT", "1000000", "TIME", "2018-06-15/2018-06-16"))
	f.Add(with(okInfo, "BBOX", "-1e300,-1e300,1e300,1e300", "INFO_FORMAT", "text/plain"))
	f.Add(with(okInfo, "QUERY_LAYERS", "P1", "LAYERS", "P1", "WIDTH", "0"))
	f.Add(with(okInfo, "BBOX", "NaN,0,1,1", "I", "0.5"))
	h, b := newHandler()
	f.Fuzz(func(t *testing.T, q string) {
		b.point = [2]float64{math.NaN(), math.NaN()}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/ows", nil)
		req.URL.RawQuery = q
		h.ServeHTTP(rec, req)
		switch {
		case rec.Code >= 500:
			t.Fatalf("%q: status %d: %s", q, rec.Code, rec.Body)
		case rec.Code >= 400:
			if !strings.Contains(rec.Body.String(), "ServiceException") {
				t.Fatalf("%q: %d without a service exception: %s", q, rec.Code, rec.Body)
			}
		case rec.Code == 200 && !math.IsNaN(b.point[0]):
			bb := b.last.BBox
			if b.point[0] < math.Min(bb[0], bb[2]) || b.point[0] > math.Max(bb[0], bb[2]) ||
				b.point[1] < math.Min(bb[1], bb[3]) || b.point[1] > math.Max(bb[1], bb[3]) {
				t.Fatalf("%q: point %v outside the map's box %v", q, b.point, bb)
			}
			if b.count < 1 {
				t.Fatalf("%q: feature count %d", q, b.count)
			}
			if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") && !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%q: invalid JSON: %s", q, rec.Body)
			}
		}
	})
}

// recyclingBackend records the images handed back to it.
type recyclingBackend struct {
	*fakeBackend
	recycled []*image.NRGBA
}

func (r *recyclingBackend) Recycle(img *image.NRGBA) { r.recycled = append(r.recycled, img) }

func TestDrawnImagesAreHandedBackOnceSent(t *testing.T) {
	h, fb := newHandler()
	rb := &recyclingBackend{fakeBackend: fb}
	h.Backend = rb
	for _, f := range []string{"image/png", "image/jpeg", RawFormat} {
		rec := get(h, with(okMap, "FORMAT", f))
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != f {
			t.Fatalf("%s: %d %s", f, rec.Code, rec.Body.String())
		}
		if f == RawFormat && (rec.Body.Len() != 256*256*4 || rec.Body.Bytes()[0] != 10) {
			t.Fatalf("raw body of %d bytes starting %v", rec.Body.Len(), rec.Body.Bytes()[:4])
		}
	}
	if len(rb.recycled) != 3 {
		t.Fatalf("%d images handed back, want 3", len(rb.recycled))
	}
	// A failed drawing hands nothing back.
	fb.err = errors.New("broken")
	get(h, okMap)
	if len(rb.recycled) != 3 {
		t.Fatalf("%d images handed back after a failure", len(rb.recycled))
	}
}
