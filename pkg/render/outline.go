package render

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/crs"
	"github.com/pvs/pvs/pkg/metadata"
)

// OutlineColor is the colour footprints are drawn in.
var OutlineColor = color.NRGBA{255, 102, 0, 255}

// project transforms lon/lat points to the request's CRS (x/y order).
func project(c CRS, xs, ys []float64) ([]bool, error) {
	cog.Init()
	return crs.Transform(4326, c.Code, xs, ys)
}

// drawOutlines draws the footprints of recs as lines two pixels wide.
func drawOutlines(canvas *image.NRGBA, req Request, recs []catalog.Record) error {
	W, H := float64(req.Width), float64(req.Height)
	sx := W / (req.BBox[2] - req.BBox[0])
	sy := H / (req.BBox[3] - req.BBox[1])
	for _, rec := range recs {
		polys, err := metadata.ParseGeoJSONPolygons([]byte(rec.FootprintGeoJSON))
		if err != nil {
			return fmt.Errorf("footprint of %s: %w", rec.Identifier, err)
		}
		for _, poly := range polys {
			for _, ring := range poly {
				// Densified, so that edges bend as the projection bends them.
				var xs, ys []float64
				for i := 0; i+1 < len(ring); i++ {
					a, b := ring[i], ring[i+1]
					n := max(1, int(math.Ceil(math.Max(math.Abs(b[0]-a[0]), math.Abs(b[1]-a[1]))/0.05)))
					for k := 0; k < n; k++ {
						t := float64(k) / float64(n)
						xs = append(xs, a[0]+(b[0]-a[0])*t)
						ys = append(ys, a[1]+(b[1]-a[1])*t)
					}
				}
				if len(ring) > 0 {
					xs = append(xs, ring[len(ring)-1][0])
					ys = append(ys, ring[len(ring)-1][1])
				}
				ok, err := project(req.CRS, xs, ys)
				if err != nil {
					return err
				}
				for i := 0; i+1 < len(xs); i++ {
					if !ok[i] || !ok[i+1] {
						continue
					}
					line(canvas, (xs[i]-req.BBox[0])*sx, (req.BBox[3]-ys[i])*sy,
						(xs[i+1]-req.BBox[0])*sx, (req.BBox[3]-ys[i+1])*sy, OutlineColor)
				}
			}
		}
	}
	return nil
}

// line draws a segment two pixels wide, clipped to the canvas.
func line(img *image.NRGBA, x0, y0, x1, y1 float64, c color.NRGBA) {
	b := img.Bounds()
	// Far outside the canvas: skip rather than walk millions of steps.
	if math.Max(x0, x1) < -2 || math.Min(x0, x1) > float64(b.Dx())+2 || math.Max(y0, y1) < -2 || math.Min(y0, y1) > float64(b.Dy())+2 {
		return
	}
	steps := int(math.Ceil(math.Max(math.Abs(x1-x0), math.Abs(y1-y0))))
	if steps > 4*(b.Dx()+b.Dy()) {
		steps = 4 * (b.Dx() + b.Dy())
	}
	for s := 0; s <= steps; s++ {
		t := 0.0
		if steps > 0 {
			t = float64(s) / float64(steps)
		}
		x, y := int(math.Floor(x0+(x1-x0)*t)), int(math.Floor(y0+(y1-y0)*t))
		for _, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
			p := image.Pt(x+d[0], y+d[1])
			if p.In(b) {
				img.SetNRGBA(p.X, p.Y, c)
			}
		}
	}
}
