package render

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/crs"
)

// BenchmarkRender draws 256x256 GetMaps in EPSG:3857 over a UTM COG with
// the pool, from GOMAXPROCS goroutines at once, as the renderer does under
// load: the boxes are a fixed random set over the scene at four zooms.
// "outlined" adds the footprint, whose vertices go through the lon/lat to
// request CRS transform.
func BenchmarkRender(b *testing.B) {
	cog.Init()
	dir := b.TempDir()
	name := toCOG(b, dir, "RGB.byte.tif")
	r := rec("P", name)
	r.FootprintGeoJSON = `{"type":"Polygon","coordinates":[[[-78.9,23.7],[-76.6,23.7],[-76.6,25.5],[-78.9,25.5],[-78.9,23.7]]]}`
	rd := &Renderer{Objects: dirLocator(dir), MaxProducts: 10, Products: fixedFinder{r}, Pool: newPool(8)}
	rng := rand.New(rand.NewPCG(1, 2))
	var boxes [][4]float64
	for i := 0; i < 64; i++ {
		w := 256 * 150 * float64(int(1)<<rng.IntN(4)) // 150 to 1200 m per pixel
		cx, cy := -8680000+100000*(rng.Float64()-0.5), 2870000+100000*(rng.Float64()-0.5)
		boxes = append(boxes, [4]float64{cx - w/2, cy - w/2, cx + w/2, cy + w/2})
	}
	for _, outlined := range []bool{false, true} {
		name := "browse"
		if outlined {
			name = "outlined"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					req := Request{Browse: config.Browse{Name: "TRUE_COLOR", Bands: []int{1, 2, 3}, Resampling: "nearest"},
						CRS: crs.CRS{Code: 3857}, BBox: boxes[i%int64(len(boxes))], Width: 256, Height: 256, Outlines: outlined}
					if _, _, err := rd.Render(context.Background(), req); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
