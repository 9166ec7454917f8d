package render

import (
	"context"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/crs"
	"github.com/pvs/pvs/pkg/store/file"
)

// A product type's own band semantics replace the collection browse's for
// its products: the warm (red-heavy) scene, drawn with bands 3,2,1 for its
// type, comes out blue where it is alone.
func TestProductTypeBrowseReplacesTheBands(t *testing.T) {
	reg := testRegistry(t)
	cog.Init()
	ctx := context.Background()
	out, err := file.New(t.TempDir())
	testenv.Must(t, err, "store")
	coll := config.Collection{Name: "TYPE_BROWSES", ProductTypes: []config.ProductType{{Name: "PHR_MS___2A"}}}
	testenv.Must(t, reg.EnsureCollection(ctx, coll.Name, "", coll.ProductTypeNames(), []string{"TRUE_COLOR"}), "collection")
	bbox := [4]float64{20, 10, 21, 11}
	ingestScene(t, out, reg, coll, "PHR_TYPED_WARM", bbox, time.Date(2018, 7, 1, 10, 0, 0, 0, time.UTC), true)

	r := &Renderer{Products: reg, Objects: out, MaxProducts: 10,
		Pool: &Pool{Max: 4, Open: func(path string) (*godal.Dataset, error) { return godal.Open(path, godal.RasterOnly()) }}}
	trueColor := config.Browse{Name: "TRUE_COLOR", Bands: []int{1, 2, 3}, Resampling: "nearest"}
	redBlue := func(req Request) (int, int) {
		t.Helper()
		img, n, err := r.Render(ctx, req)
		testenv.Must(t, err, "render")
		if n != 1 {
			t.Fatalf("%d products drawn, want 1", n)
		}
		var sr, sb, k int
		for i := 0; i < len(img.Pix); i += 4 {
			if img.Pix[i+3] != 0 {
				sr, sb, k = sr+int(img.Pix[i]), sb+int(img.Pix[i+2]), k+1
			}
		}
		if k == 0 {
			t.Fatal("nothing drawn")
		}
		return sr / k, sb / k
	}
	for _, resampling := range []string{"nearest", "bilinear"} {
		browse := trueColor
		browse.Resampling = resampling
		req := Request{Collection: coll.Name, Browse: browse, CRS: crs.CRS{Code: 4326}, BBox: bbox, Width: 200, Height: 200}
		if r, b := redBlue(req); r <= b+40 {
			t.Errorf("%s, collection browse: red %d, blue %d; want the warm scene red", resampling, r, b)
		}
		typed := browse
		typed.Bands = []int{3, 2, 1}
		req.ByType = map[string]config.Browse{"PHR_MS___2A": typed, "OTHER": browse}
		if r, b := redBlue(req); b <= r+40 {
			t.Errorf("%s, type's browse 3,2,1: red %d, blue %d; want it blue", resampling, r, b)
		}
		req.ByType = map[string]config.Browse{"OTHER": typed}
		if r, b := redBlue(req); r <= b+40 {
			t.Errorf("%s, another type's browse: red %d, blue %d; want the collection's (red)", resampling, r, b)
		}
	}
}
