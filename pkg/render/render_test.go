package render

import (
	"context"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/crs"
	"github.com/pvs/pvs/pkg/imgenc"
)

// fixedFinder answers every query with its records, newest first, paged
// by the query's Offset and Limit.
type fixedFinder []catalog.Record

func (f fixedFinder) Find(ctx context.Context, q catalog.Query) ([]catalog.Record, error) {
	recs := f[min(q.Offset, len(f)):]
	if q.Limit > 0 && len(recs) > q.Limit {
		recs = recs[:q.Limit]
	}
	return recs, nil
}

type dirLocator string

func (d dirLocator) GDALPath(key string) string { return filepath.Join(string(d), key) }

// writeFlat writes a 3-band Byte raster in EPSG:4326 over bbox filled with
// rgb, except its left half, which is nodata (0).
func writeFlat(t *testing.T, path string, bbox [4]float64, rgb [3]byte) {
	t.Helper()
	const w, h = 100, 100
	ds, err := godal.Create(godal.GTiff, path, 3, godal.Byte, w, h)
	if err != nil {
		t.Fatal(err)
	}
	sr, _ := godal.NewSpatialRefFromEPSG(4326)
	defer sr.Close()
	ds.SetSpatialRef(sr)
	ds.SetGeoTransform([6]float64{bbox[0], (bbox[2] - bbox[0]) / w, 0, bbox[3], 0, -(bbox[3] - bbox[1]) / h})
	for i, b := range ds.Bands() {
		buf := make([]byte, w*h)
		for y := 0; y < h; y++ {
			for x := w / 2; x < w; x++ {
				buf[y*w+x] = rgb[i]
			}
		}
		b.SetNoData(0)
		if err := b.Write(0, 0, buf, w, h); err != nil {
			t.Fatal(err)
		}
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
}

func rec(id string, key string) catalog.Record {
	return catalog.Record{Identifier: id, Coverages: []catalog.Coverage{{Name: id, Location: key}}}
}

func TestStackingNewestOnTopWithNodataShowingThrough(t *testing.T) {
	cog.Init()
	dir := t.TempDir()

	writeFlat(t, filepath.Join(dir, "old.tif"), [4]float64{10, 40, 12, 41}, [3]byte{200, 10, 10})    // data over lon 11..12
	writeFlat(t, filepath.Join(dir, "new.tif"), [4]float64{9.5, 40, 10.5, 41}, [3]byte{10, 200, 10}) // data over lon 10..10.5
	r := &Renderer{Objects: dirLocator(dir), MaxProducts: 10,
		Products: fixedFinder{rec("NEW", "new.tif"), rec("OLD", "old.tif")}} // newest first, as the registry returns them
	req := Request{Collection: "C", Browse: config.Browse{Name: "TRUE_COLOR", Bands: []int{1, 2, 3}, Resampling: "nearest"},
		CRS: crs.CRS{Code: 4326}, BBox: [4]float64{9.5, 40, 12, 41}, Width: 250, Height: 100}
	img, n, err := r.Render(context.Background(), req)
	if err != nil || n != 2 {
		t.Fatalf("render: %d products, %v", n, err)
	}
	at := func(lon float64) [4]uint8 {
		x := int((lon - req.BBox[0]) / (req.BBox[2] - req.BBox[0]) * 250)
		c := img.NRGBAAt(x, 50)
		return [4]uint8{c.R, c.G, c.B, c.A}
	}
	for lon, want := range map[float64][4]uint8{
		9.7:   {0, 0, 0, 0},       // new's nodata, old absent: transparent
		10.2:  {10, 200, 10, 255}, // new's data
		10.7:  {0, 0, 0, 0},       // both nodata
		11.5:  {200, 10, 10, 255}, // old's data
		10.45: {10, 200, 10, 255}, // new's data on top of old's nodata
	} {
		if got := at(lon); got != want {
			t.Errorf("lon %.2f: %v, want %v", lon, got, want)
		}
	}
	// Overlap: where both have data the newest wins.
	writeFlat(t, filepath.Join(dir, "over.tif"), [4]float64{10, 40, 12, 41}, [3]byte{1, 2, 250}) // data over lon 11..12
	r.Products = fixedFinder{rec("OVER", "over.tif"), rec("OLD", "old.tif")}
	img, _, _ = r.Render(context.Background(), req)
	if got := at(11.5); got != [4]uint8{1, 2, 250, 255} {
		t.Errorf("overlap: %v, want the newest product", got)
	}
	// MaxProducts bounds what is drawn, not whether: the newest only.
	r.MaxProducts = 1
	r.Products = fixedFinder{rec("NEW", "new.tif"), rec("OLD", "old.tif")}
	img, n, err = r.Render(context.Background(), req)
	if err != nil || n != 1 {
		t.Fatalf("past max_products: %d products, %v", n, err)
	}
	if got := at(10.2); got != [4]uint8{10, 200, 10, 255} {
		t.Errorf("past max_products: the newest is %v", got)
	}
	if got := at(11.5); got != [4]uint8{0, 0, 0, 0} {
		t.Errorf("past max_products: an older product was drawn: %v", got)
	}
}

func TestGreyBrowseAndStretch(t *testing.T) {
	cog.Init()
	dir := t.TempDir()
	writeFlat(t, filepath.Join(dir, "p.tif"), [4]float64{0, 0, 1, 1}, [3]byte{100, 50, 25})
	r := &Renderer{Objects: dirLocator(dir), MaxProducts: 10, Products: fixedFinder{rec("P", "p.tif")}}
	req := Request{Browse: config.Browse{Name: "GREY", Bands: []int{2}, Range: []float64{0, 100}, Resampling: "nearest"},
		CRS: crs.CRS{Code: 4326}, BBox: [4]float64{0, 0, 1, 1}, Width: 10, Height: 10}
	img, _, err := r.Render(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	// Band 2 holds 50; stretched from 0..100 to 0..255 gives 128.
	if c := img.NRGBAAt(8, 5); c.R != 128 || c.G != 128 || c.B != 128 || c.A != 255 {
		t.Errorf("grey pixel = %v", c)
	}
	// A browse is drawn where the bands allow: not on a product without
	// band 4.
	req.Browse.Bands = []int{4}
	img, _, err = r.Render(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !isEmpty(img) {
		t.Error("a browse naming a missing band drew something")
	}
}

func isEmpty(img *image.NRGBA) bool {
	for i := 3; i < len(img.Pix); i += 4 {
		if img.Pix[i] != 0 {
			return false
		}
	}
	return true
}

// An NDVI browse computes (B4-B3)/(B4+B3) per pixel and stretches it, in
// both drawing paths; pixels where a band is nodata are left empty.
func TestExpressionBrowse(t *testing.T) {
	cog.Init()
	dir := t.TempDir()
	const w, h = 40, 20
	ds, err := godal.Create(godal.GTiff, filepath.Join(dir, "nir.tif"), 4, godal.UInt16, w, h)
	if err != nil {
		t.Fatal(err)
	}
	sr, _ := godal.NewSpatialRefFromEPSG(4326)
	defer sr.Close()
	ds.SetSpatialRef(sr)
	ds.SetGeoTransform([6]float64{10, 0.05, 0, 41, 0, -0.05})
	for i, v := range []uint16{5, 7, 10, 30} { // B, G, R, NIR: NDVI 0.5
		buf := make([]uint16, w*h)
		for k := range buf {
			buf[k] = v
			if k%w < w/4 {
				buf[k] = 0 // nodata in the left quarter
			}
		}
		ds.Bands()[i].SetNoData(0)
		if err := ds.Bands()[i].Write(0, 0, buf, w, h); err != nil {
			t.Fatal(err)
		}
	}
	ds.Close()
	for _, c := range []struct {
		pool       *Pool
		resampling string
	}{{nil, "nearest"}, {newPool(2), "nearest"}, {newPool(2), "bilinear"}} {
		r := &Renderer{Objects: dirLocator(dir), MaxProducts: 10, Products: fixedFinder{rec("P", "nir.tif")}, Pool: c.pool}
		req := Request{Browse: config.Browse{Name: "NDVI", Expression: "(B4-B3)/(B4+B3)", Range: []float64{-1, 1}, Resampling: c.resampling},
			CRS: crs.CRS{Code: 4326}, BBox: [4]float64{10, 40, 12, 41}, Width: 80, Height: 40}
		img, _, err := r.Render(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		// (0.5+1)*255/2 = 191.25
		if got := img.NRGBAAt(60, 20); got != (color.NRGBA{191, 191, 191, 255}) {
			t.Errorf("pool %v %s: NDVI pixel %v, want grey 191", c.pool != nil, c.resampling, got)
		}
		if got := img.NRGBAAt(5, 20); got.A != 0 {
			t.Errorf("pool %v %s: nodata pixel drawn %v", c.pool != nil, c.resampling, got)
		}
	}
	// A product without band 4 shows nothing of the layer.
	r := &Renderer{Objects: dirLocator(dir), MaxProducts: 10, Products: fixedFinder{rec("P", "nir.tif")}}
	writeFlat(t, filepath.Join(dir, "rgb.tif"), [4]float64{10, 40, 12, 41}, [3]byte{1, 2, 3})
	r.Products = fixedFinder{rec("Q", "rgb.tif")}
	img, _, err := r.Render(context.Background(), Request{Browse: config.Browse{Name: "NDVI", Expression: "(B4-B3)/(B4+B3)", Range: []float64{-1, 1}, Resampling: "nearest"},
		CRS: crs.CRS{Code: 4326}, BBox: [4]float64{10, 40, 12, 41}, Width: 80, Height: 40})
	if err != nil || !isEmpty(img) {
		t.Errorf("NDVI on an RGB product: %v, empty %v", err, isEmpty(img))
	}
}

func TestToWGS84(t *testing.T) {
	b, err := ToWGS84(crs.CRS{Code: 3857}, [4]float64{0, 0, 20037508.342789244, 20037508.342789244})
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 0 || b[1] != 0 || b[2] < 179.999 || b[3] < 85.05 || b[3] > 85.06 {
		t.Errorf("bbox = %v", b)
	}
}

// recordingFinder remembers the box it was asked about.
type recordingFinder struct{ box *[4]float64 }

func (f *recordingFinder) Find(ctx context.Context, q catalog.Query) ([]catalog.Record, error) {
	f.box = q.BBox
	return nil, nil
}

// An absurd box is an error before PROJ sees it; a box past the world's
// edge is drawn, the catalogue asked about the part inside the world; a
// box wholly outside is an empty map, the catalogue not asked at all.
func TestRenderBoxes(t *testing.T) {
	cog.Init()
	world := [4]float64{-180, -85.0511287798066, 180, 85.0511287798066}
	for _, c := range []struct {
		name    string
		crs     int
		box     [4]float64
		wantErr bool
		query   *[4]float64
	}{
		{"the hang: 1e300 in EPSG:3857", 3857, [4]float64{-1e300, -1e300, 1e300, 1e300}, true, nil},
		{"1e20 in UTM", 32631, [4]float64{0, 0, 1e20, 1e20}, true, nil},
		{"NaN", 4326, [4]float64{math.NaN(), 0, 1, 1}, true, nil},
		{"inverted", 3857, [4]float64{1, 1, 0, 0}, true, nil},
		{"no area", 3857, [4]float64{0, 0, 0, 1}, true, nil},
		{"past the Web Mercator world", 3857, [4]float64{-2.1e7, -2.1e7, 2.1e7, 2.1e7}, false, &world},
		{"past ±180", 4326, [4]float64{-540, -90, 540, 90}, false, &[4]float64{-180, -90, 180, 90}},
		{"wholly outside", 3857, [4]float64{3e7, 3e7, 4e7, 4e7}, false, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &recordingFinder{}
			r := &Renderer{Products: f, MaxProducts: 10}
			img, _, err := r.Render(context.Background(), Request{Browse: config.Browse{Bands: []int{1, 2, 3}},
				CRS: crs.CRS{Code: c.crs}, BBox: c.box, Width: 16, Height: 16})
			if c.wantErr {
				if err == nil {
					t.Error("drawn")
				}
				return
			}
			if err != nil || img == nil {
				t.Fatalf("%v", err)
			}
			switch {
			case c.query == nil && f.box != nil:
				t.Errorf("the catalogue was asked about %v", *f.box)
			case c.query != nil && (f.box == nil || math.Abs(f.box[0]-c.query[0]) > 1e-6 || math.Abs(f.box[1]-c.query[1]) > 1e-6 ||
				math.Abs(f.box[2]-c.query[2]) > 1e-6 || math.Abs(f.box[3]-c.query[3]) > 1e-6):
				t.Errorf("the catalogue was asked about %v, want %v", f.box, *c.query)
			}
		})
	}
}

func TestOutlines(t *testing.T) {
	cog.Init()
	dir := t.TempDir()
	writeFlat(t, filepath.Join(dir, "p.tif"), [4]float64{10, 40, 12, 41}, [3]byte{0, 0, 200})
	r := rec("P", "p.tif")
	r.FootprintGeoJSON = `{"type":"Polygon","coordinates":[[[10.5,40.2],[11.5,40.2],[11.5,40.8],[10.5,40.8],[10.5,40.2]]]}`
	rd := &Renderer{Objects: dirLocator(dir), MaxProducts: 10, Products: fixedFinder{r}}
	req := Request{Browse: config.Browse{Name: "TRUE_COLOR", Bands: []int{1, 2, 3}, Resampling: "nearest"},
		CRS: crs.CRS{Code: 4326}, BBox: [4]float64{10, 40, 12, 41}, Width: 200, Height: 100, OutlinesOnly: true}
	img, _, err := rd.Render(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	// The footprint's west edge is at x = 50, its north edge at y = 20.
	if c := img.NRGBAAt(50, 50); c != OutlineColor {
		t.Errorf("west edge pixel = %v", c)
	}
	if c := img.NRGBAAt(100, 20); c != OutlineColor {
		t.Errorf("north edge pixel = %v", c)
	}
	if c := img.NRGBAAt(120, 50); c.A != 0 {
		t.Errorf("outlines only: the inside is drawn %v", c)
	}
	req.OutlinesOnly, req.Outlines = false, true
	img, _, _ = rd.Render(context.Background(), req)
	if c := img.NRGBAAt(120, 50); c != (color.NRGBA{0, 0, 200, 255}) {
		t.Errorf("outlined: the image under the outline is %v", c)
	}
	if c := img.NRGBAAt(50, 50); c != OutlineColor {
		t.Errorf("outlined: the outline is not on top: %v", c)
	}
}

// With a background the image comes out opaque and equal to the
// transparent drawing flattened over it.
func TestBackgroundFlattensAsItDraws(t *testing.T) {
	cog.Init()
	dir := t.TempDir()
	name := toCOG(t, dir, "cog_rgba.tif") // alpha with soft edges
	info, err := cog.Describe(filepath.Join(dir, name), nil)
	if err != nil {
		t.Fatal(err)
	}
	gt := info.GeoTransform
	native, _ := crs.Parse(info.CRS)
	b := [4]float64{gt[0], gt[3] + gt[5]*float64(info.Height), gt[0] + gt[1]*float64(info.Width), gt[3]}
	for _, pool := range []*Pool{nil, newPool(2)} {
		r := &Renderer{Objects: dirLocator(dir), MaxProducts: 10, Products: fixedFinder{rec("P", name)}, Pool: pool}
		req := Request{Browse: config.Browse{Name: "B", Bands: []int{1, 2, 3}, Resampling: "nearest"}, CRS: native, BBox: b, Width: 200, Height: 120}
		clear, _, err := r.Render(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		bg := color.NRGBA{10, 20, 30, 255}
		req.Background = &bg
		flat, _, err := r.Render(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if !flat.Opaque() {
			t.Fatal("the image on a background is not opaque")
		}
		want := imgenc.Flatten(clear, bg)
		transparent := 0
		for i := 0; i < 200*120; i++ {
			if clear.Pix[i*4+3] == 0 {
				transparent++
			}
			for k := 0; k < 3; k++ {
				if d := int(flat.Pix[i*4+k]) - int(want[i*3+k]); d > 1 || d < -1 {
					t.Fatalf("pool %v: pixel %d channel %d: %d, flattened %d", pool != nil, i, k, flat.Pix[i*4+k], want[i*3+k])
				}
			}
		}
		if transparent == 0 {
			t.Fatal("the test image has no transparent pixels")
		}
	}
}

// TestRecycledCanvasesComeBackEmpty draws over every canvas it gets and
// hands it back, asking for canvases of the same, smaller and larger sizes,
// with and without a background (filled whatever the number of pixels): no
// pixel of an earlier drawing shows through.
func TestRecycledCanvasesComeBackEmpty(t *testing.T) {
	bg := &color.NRGBA{1, 2, 3, 255}
	for _, r := range []Request{{Width: 1024, Height: 512}, {Width: 700, Height: 400}, {Width: 1024, Height: 512, Background: bg},
		{Width: 1, Height: 1, Background: bg}, {Width: 7, Height: 3, Background: bg}, {Width: 701, Height: 300, Background: bg},
		{Width: 256, Height: 256}, {Width: 256, Height: 256, Background: bg}, {Width: 256, Height: 256}, {Width: 200, Height: 256},
		{Width: 256, Height: 256, Background: bg}, {Width: 7, Height: 3}} {
		c := newCanvas(r)
		if c.Rect.Dx() != r.Width || c.Rect.Dy() != r.Height || len(c.Pix) != 4*r.Width*r.Height || c.Stride != 4*r.Width {
			t.Fatalf("%dx%d: canvas %v, %d bytes, stride %d", r.Width, r.Height, c.Rect, len(c.Pix), c.Stride)
		}
		want := [4]byte{}
		if r.Background != nil {
			want = [4]byte{1, 2, 3, 255}
		}
		for i := 0; i < len(c.Pix); i += 4 {
			if [4]byte(c.Pix[i:i+4]) != want {
				t.Fatalf("%dx%d: pixel %d is %v, want %v", r.Width, r.Height, i/4, c.Pix[i:i+4], want)
			}
		}
		for i := range c.Pix {
			c.Pix[i] = 0xAB
		}
		Recycle(c)
	}
	// An image not made as a canvas (60 bytes) is left alone, as are
	// empty ones.
	Recycle(image.NewNRGBA(image.Rect(0, 0, 3, 5)))
	Recycle(&image.NRGBA{})
	Recycle(nil)
	if b := canvases[canvasClass(60)].Get(); b != nil {
		t.Errorf("a 60-byte image was pooled as a canvas: %d bytes", cap(*b.(*[]byte)))
	}
}
