package browser

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/layer"
	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/tile"
	"github.com/pvs/pvs/pkg/wms"
	"github.com/pvs/pvs/pkg/wmts"
)

// product is a rectangle of one colour over a lon/lat box and a time.
type product struct {
	bbox [4]float64
	when period.Period
	c    color.NRGBA
}

var (
	red  = color.NRGBA{220, 40, 40, 255}
	blue = color.NRGBA{40, 40, 220, 255}
	// Two products of a collection, two days apart and overlapping.
	products = []product{
		{[4]float64{-78, 24, -77, 25}, period.Period{Start: at(2018, 6, 15), End: at(2018, 6, 15).Add(time.Minute)}, red},
		{[4]float64{-77.5, 24.5, -76.5, 25.5}, period.Period{Start: at(2018, 6, 17), End: at(2018, 6, 17).Add(time.Minute)}, blue},
	}
	demoExtent = [4]float64{-78, 24, -76.5, 25.5}
)

func at(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 0, 0, 0, time.UTC) }

// demo is the renderer and the tile cache of the real handlers, drawing
// the products as flat rectangles: the browser sees the protocols as the
// daemons serve them, without the services behind them.
type demo struct{}

func (demo) Layers(ctx context.Context) ([]layer.Layer, error) {
	bb := demoExtent
	return []layer.Layer{{Name: "DEMO", Title: "Demo", Collection: "DEMO", BBox: &bb,
		Browse: config.Browse{Name: "TRUE_COLOR", Bands: []int{1, 2, 3}},
		Start:  products[0].when.Start, End: products[1].when.End}}, nil
}

// Render draws the products whose time meets the request's, oldest first.
func (demo) Render(ctx context.Context, req wms.MapRequest) (*image.NRGBA, error) {
	img := image.NewNRGBA(image.Rect(0, 0, req.Width, req.Height))
	var g tile.Grid
	switch req.CRS.Code {
	case 3857:
		g = tile.GoogleMapsCompatible
	case 4326:
		g = tile.WorldCRS84Quad
	default:
		return nil, fmt.Errorf("the demo draws EPSG:3857 and EPSG:4326, not %v", req.CRS)
	}
	sx := float64(req.Width) / (req.BBox[2] - req.BBox[0])
	sy := float64(req.Height) / (req.BBox[3] - req.BBox[1])
	for _, p := range products {
		if !matches(p.when, req.Times) {
			continue
		}
		b := g.FromWGS84(p.bbox)
		r := image.Rect(int(math.Round((b[0]-req.BBox[0])*sx)), int(math.Round((req.BBox[3]-b[3])*sy)),
			int(math.Round((b[2]-req.BBox[0])*sx)), int(math.Round((req.BBox[3]-b[1])*sy)))
		fillRect(img, r.Intersect(img.Bounds()), p.c)
	}
	return img, nil
}

func fillRect(img *image.NRGBA, r image.Rectangle, c color.NRGBA) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetNRGBA(x, y, c)
		}
	}
}

func matches(p period.Period, times []period.Period) bool {
	if len(times) == 0 {
		return true
	}
	for _, t := range times {
		if t.Intersects(p) {
			return true
		}
	}
	return false
}

// Open draws a tile as the cache would have the renderer draw it.
func (d demo) Open(ctx context.Context, k tile.Key) (tile.Content, error) {
	g, _ := tile.Lookup(k.Grid)
	req := wms.MapRequest{BBox: g.BBox(k.Z, k.Row, k.Col), Width: g.TileSize, Height: g.TileSize}
	req.CRS.Code = g.EPSG
	if k.Time != tile.DefaultTime {
		p, err := period.ParseKey(k.Time)
		if err != nil {
			return tile.Content{}, err
		}
		req.Times = []period.Period{p}
	}
	img, err := d.Render(ctx, req)
	if err != nil {
		return tile.Content{}, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return tile.Content{}, err
	}
	return tile.Content{Body: io.NopCloser(&buf), Size: int64(buf.Len()), Version: k.Path()}, nil
}

func demoHandlers() http.Handler {
	log := slog.New(slog.DiscardHandler)
	w := &wms.Handler{Backend: demo{}, Log: log, Service: wms.Service{Title: "demo", MaxSize: 4096}}
	t := &wmts.Handler{Tiles: demo{}, Layers: demo{}, Fallback: w, Prefix: "/wmts", MaxAge: 60, Log: log}
	mux := http.NewServeMux()
	mux.Handle("/ows", w)
	mux.Handle("/wmts", t)
	mux.Handle("/wmts/", t)
	return mux
}

// near reports whether a screenshot pixel is within a few levels of c.
func near(px interface{ RGBA() (r, g, b, a uint32) }, c color.NRGBA) bool {
	r, g, b, _ := px.RGBA()
	d := func(a uint32, b uint8) bool { return math.Abs(float64(a>>8)-float64(b)) <= 8 }
	return d(r, c.R) && d(g, c.G) && d(b, c.B)
}

func countNear(img image.Image, c color.NRGBA) int {
	n := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			if near(img.At(x, y), c) {
				n++
			}
		}
	}
	return n
}

// OpenLayers builds the WMTS layer from the capabilities in both matrix
// sets: the tile grid's extent is the layer's box in the set's CRS, the
// view fits it, and both products are painted. Paging the WMS TIME values
// shows the older product alone, the newer alone, then both.
func TestOpenLayersAgainstTheHandlers(t *testing.T) {
	b := newBrowser(t)
	srv := site(t, bundle(t), demoHandlers())
	for _, c := range []struct {
		matrixSet, projection string
		extent                [4]float64 // as OpenLayers holds it: x/y order
	}{
		{"GoogleMapsCompatible", "EPSG:3857", tile.GoogleMapsCompatible.FromWGS84(demoExtent)},
		{"WorldCRS84Quad", "EPSG:4326", demoExtent},
	} {
		t.Run(c.matrixSet, func(t *testing.T) {
			r, shot := wmtsPage(t, b, srv.URL, "DEMO", c.matrixSet)
			if r.Projection != c.projection {
				t.Errorf("projection %s, want %s", r.Projection, c.projection)
			}
			for i := range r.Extent {
				if math.Abs(r.Extent[i]-c.extent[i]) > 1e-6*math.Max(1, math.Abs(c.extent[i])) {
					t.Fatalf("tile grid extent %v, want the layer's %v", r.Extent, c.extent)
				}
			}
			if nr, nb := countNear(shot, red), countNear(shot, blue); nr < 5000 || nb < 5000 {
				t.Errorf("screenshot: %d red and %d blue pixels, want both products", nr, nb)
			}
		})
	}
	t.Run("WMS TIME", func(t *testing.T) {
		r := timePage(t, b, srv.URL, "DEMO")
		// The extent start/end: the older product alone, the newer alone,
		// then both.
		want := []string{"red", "blue", "both"}
		for i, f := range r.Frames {
			m := f.Canvas.Mean
			var got string
			switch {
			case m[0] > 200 && m[2] < 60:
				got = "red"
			case m[2] > 200 && m[0] < 60:
				got = "blue"
			case m[0] > 80 && m[2] > 80:
				got = "both"
			}
			if i < len(want) && got != want[i] {
				t.Errorf("TIME=%s: mean colour %v, want %s", f.Time, m, want[i])
			}
		}
	})
}
