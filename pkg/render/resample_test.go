package render

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/crs"
)

// Bilinear, cubic and average browses drawn from the pooled datasets'
// windows come out as GDAL's warper draws them: the same pixels drawn,
// and colours within a few levels on average. Four times smaller than
// the source, the overview read and the kernel widths differ more from
// the warper's.
func TestDirectResamplingMatchesWarper(t *testing.T) {
	cog.Init()
	dir := t.TempDir()
	files := []struct {
		name   string
		browse config.Browse
		opts   []string
	}{
		{"RGB.byte.tif", config.Browse{Bands: []int{1, 2, 3}}, nil},
		{"RGB.byte.tif", config.Browse{Bands: []int{1, 2, 3}, Range: []float64{0, 3000}}, []string{"-ot", "UInt16", "-scale", "0", "255", "0", "4080"}},
	}
	for _, f := range files {
		name := toCOG(t, dir, f.name, f.opts...)
		info, err := cog.Describe(filepath.Join(dir, name), nil)
		if err != nil {
			t.Fatal(err)
		}
		lon := [2]float64{math.Inf(1), math.Inf(-1)}
		lat := [2]float64{math.Inf(1), math.Inf(-1)}
		for _, p := range info.Footprint {
			lon = [2]float64{math.Min(lon[0], p[0]), math.Max(lon[1], p[0])}
			lat = [2]float64{math.Min(lat[0], p[1]), math.Max(lat[1], p[1])}
		}
		cx, cy := (lon[0]+lon[1])/2, (lat[0]+lat[1])/2
		dx, dy := (lon[1]-lon[0])/4, (lat[1]-lat[0])/4
		m, err := crs.TransformBBox(4326, 3857, [4]float64{cx - dx, cy - dy, cx + dx, cy + dy})
		if err != nil {
			t.Fatal(err)
		}
		for _, rs := range []string{"bilinear", "cubic", "average"} {
			for _, size := range []int{600, 256, 97} { // finer than the source, about 1.5x, about 4x coarser
				tolerance := 3.5
				if size < 100 {
					tolerance = 8
				}
				b := f.browse
				b.Name, b.Resampling = "B", rs
				req := Request{Browse: b, CRS: crs.CRS{Code: 3857}, BBox: m, Width: size, Height: size}
				warp := &Renderer{Objects: dirLocator(dir), MaxProducts: 10, Products: fixedFinder{rec("P", name)}}
				direct := &Renderer{Objects: dirLocator(dir), MaxProducts: 10, Products: fixedFinder{rec("P", name)}, Pool: newPool(4)}
				a, _, err := warp.Render(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				d, _, err := direct.Render(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				both, onlyOne := 0, 0
				var diff float64
				for i := 0; i < len(a.Pix); i += 4 {
					oa, od := a.Pix[i+3] > 0, d.Pix[i+3] > 0
					switch {
					case oa && od:
						both++
						for k := 0; k < 3; k++ {
							diff += math.Abs(float64(a.Pix[i+k]) - float64(d.Pix[i+k]))
						}
					case oa != od:
						onlyOne++
					}
				}
				n := size * size
				if both < n/4 {
					t.Fatalf("%s %s %d: %d pixels drawn by both", name, rs, size, both)
				}
				mean := diff / float64(3*both)
				if onlyOne > n/50 || mean > tolerance {
					t.Errorf("%s %s %dx%d: %d pixels drawn by one only, mean difference %.2f levels", name, rs, size, size, onlyOne, mean)
				}
			}
		}
	}
}
