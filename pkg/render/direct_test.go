package render

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/crs"
)

func newPool(max int) *Pool {
	return &Pool{Max: max, Open: func(path string) (*godal.Dataset, error) { return godal.Open(path, godal.RasterOnly()) }}
}

// toCOG converts a test raster to a COG with overviews, as the
// preprocessor writes them.
func toCOG(t testing.TB, dir, name string, options ...string) string {
	t.Helper()
	src, err := godal.Open(filepath.Join("..", "..", "testdata", "rasters", name))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := filepath.Join(dir, name)
	if len(options) > 0 {
		out = filepath.Join(dir, "converted-"+name)
	}
	ds, err := src.Translate(out, append([]string{"-of", "COG", "-co", "BLOCKSIZE=256", "-co", "OVERVIEW_RESAMPLING=AVERAGE", "-co", "OVERVIEWS=IGNORE_EXISTING"}, options...))
	if err != nil {
		t.Fatal(err)
	}
	ds.Close()
	return filepath.Base(out)
}

// reference draws what a request must show, pixel by pixel, from the
// full-resolution source with exactly transformed pixel centres. clear is
// false where a centre falls within 0.2 pixel of a source pixel's edge
// (either neighbour is right there).
func reference(t *testing.T, path string, req Request) (want []color.NRGBA, clear []bool) {
	t.Helper()
	ds, err := godal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	st := ds.Structure()
	gt, _ := ds.GeoTransform()
	bands := ds.Bands()
	read := func(b godal.Band) []float64 {
		buf := make([]float64, st.SizeX*st.SizeY)
		if err := b.Read(0, 0, buf, st.SizeX, st.SizeY); err != nil {
			t.Fatal(err)
		}
		return buf
	}
	var data [][]float64
	var nds []*float64
	for _, b := range req.Browse.Bands {
		data = append(data, read(bands[b-1]))
		if v, ok := bands[b-1].NoData(); ok {
			nds = append(nds, &v)
		} else {
			nds = append(nds, nil)
		}
	}
	// Alpha at 255 and above is opaque whatever the data type (GDAL's
	// mask band would scale a UInt16 alpha from 65535).
	var valid []float64
	if last := bands[len(bands)-1]; len(bands) > 1 && last.ColorInterp() == godal.CIAlpha {
		valid = read(last)
	} else if flags := bands[0].MaskFlags(); flags&gmfPerDataset != 0 {
		valid = read(bands[0].MaskBand())
	}
	src, _ := godal.NewSpatialRefFromEPSG(req.CRS.Code)
	defer src.Close()
	dst := ds.SpatialRef()
	defer dst.Close()
	tr, err := godal.NewTransform(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	w, h := req.Width, req.Height
	xs, ys := make([]float64, w*h), make([]float64, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			xs[y*w+x] = req.BBox[0] + (float64(x)+0.5)*(req.BBox[2]-req.BBox[0])/float64(w)
			ys[y*w+x] = req.BBox[3] - (float64(y)+0.5)*(req.BBox[3]-req.BBox[1])/float64(h)
		}
	}
	ok := make([]bool, w*h)
	tr.TransformEx(xs, ys, nil, ok)
	lo, hi := 0.0, 255.0
	if len(req.Browse.Range) == 2 {
		lo, hi = req.Browse.Range[0], req.Browse.Range[1]
	}
	stretch := func(v float64) uint8 {
		s := (v - lo) * 255 / (hi - lo)
		return uint8(math.Max(0, math.Min(255, math.Floor(s+0.5))))
	}
	want, clear = make([]color.NRGBA, w*h), make([]bool, w*h)
	for i := range want {
		if !ok[i] {
			continue
		}
		sx, sy := (xs[i]-gt[0])/gt[1], (ys[i]-gt[3])/gt[5]
		fx, fy := sx-math.Floor(sx), sy-math.Floor(sy)
		inside := sx >= 0 && sy >= 0 && sx < float64(st.SizeX) && sy < float64(st.SizeY)
		clear[i] = fx > 0.2 && fx < 0.8 && fy > 0.2 && fy < 0.8
		if !inside {
			continue
		}
		o := int(sy)*st.SizeX + int(sx)
		a := uint8(255)
		if valid != nil {
			a = uint8(math.Min(255, valid[o]))
		} else {
			all := true
			for k := range data {
				if v := data[k][o]; !(math.IsNaN(v) || (nds[k] != nil && v == *nds[k])) {
					all = false
				}
			}
			if all {
				a = 0
			}
		}
		if a == 0 {
			continue
		}
		v := make([]uint8, len(data))
		for k := range data {
			if len(req.Browse.Range) == 2 {
				v[k] = stretch(data[k][o])
			} else {
				v[k] = uint8(data[k][o])
			}
		}
		if len(v) == 1 {
			want[i] = color.NRGBA{v[0], v[0], v[0], a}
		} else {
			want[i] = color.NRGBA{v[0], v[1], v[2], a}
		}
	}
	return want, clear
}

// The pooled, direct drawing shows the right pixels, for every kind of
// validity (nodata, per-dataset mask, alpha, NaN) and data type, in the
// source's CRS, Web Mercator and WGS 84, as GDAL's warper does; zoomed
// out, both draw the same area from overviews.
func TestDirectDrawingIsExact(t *testing.T) {
	cog.Init()
	dir := t.TempDir()
	cases := []struct {
		file    string
		browse  config.Browse
		options []string
	}{
		{"RGB.byte.tif", config.Browse{Bands: []int{1, 2, 3}}, nil},
		// The same pixels as UInt16 (x16), nodata 0, stretched back.
		{"RGB.byte.tif", config.Browse{Bands: []int{1, 2, 3}, Range: []float64{0, 3000}}, []string{"-ot", "UInt16", "-scale", "0", "255", "0", "4080"}},
		{"cog_rgb_mask.tif", config.Browse{Bands: []int{1, 2, 3}}, nil},
		{"cog_rgba.tif", config.Browse{Bands: []int{1, 2, 3}}, nil},
		{"RGBA.uint16.tif", config.Browse{Bands: []int{3, 2, 1}, Range: []float64{0, 12000}}, nil},
		{"cog_nodata_nan.tif", config.Browse{Bands: []int{1}, Range: []float64{0, 3000}}, nil},
		{"cog_int16.tif", config.Browse{Bands: []int{1}, Range: []float64{-100, 1500}}, nil},
	}
	for _, c := range cases {
		name := toCOG(t, dir, c.file, c.options...)
		path := filepath.Join(dir, name)
		info, err := cog.Describe(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		native, err := crs.Parse(info.CRS)
		nativeOK := err == nil
		lon := [2]float64{math.Inf(1), math.Inf(-1)}
		lat := [2]float64{math.Inf(1), math.Inf(-1)}
		for _, p := range info.Footprint {
			lon = [2]float64{math.Min(lon[0], p[0]), math.Max(lon[1], p[0])}
			lat = [2]float64{math.Min(lat[0], p[1]), math.Max(lat[1], p[1])}
		}
		type reqCase struct {
			what string
			crs  crs.CRS
			bbox [4]float64
			w, h int
			full bool // full resolution: every clear pixel is checked
		}
		// A window around the middle, at about the source's resolution or
		// finer; and the whole scene at 128 pixels.
		cx, cy := (lon[0]+lon[1])/2, (lat[0]+lat[1])/2
		dx, dy := (lon[1]-lon[0])/4, (lat[1]-lat[0])/4
		px := float64(info.Width) / 2
		reqs := []reqCase{
			{"4326 middle", crs.CRS{Code: 4326}, [4]float64{cx - dx, cy - dy, cx + dx, cy + dy}, int(px * 1.3), int(px * 1.3 * dy / dx), true},
			{"4326 whole", crs.CRS{Code: 4326}, [4]float64{lon[0], lat[0], lon[1], lat[1]}, 128, 128, false},
		}
		m, err := crs.TransformBBox(4326, 3857, [4]float64{cx - dx, cy - dy, cx + dx, cy + dy})
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, reqCase{"3857 middle", crs.CRS{Code: 3857}, m, int(px * 1.2), int(px * 1.2 * (m[3] - m[1]) / (m[2] - m[0])), true})
		if nativeOK && native.Code != 4326 && native.Code != 3857 {
			gt := info.GeoTransform
			fx, fy := float64(info.Width), float64(info.Height)
			b := [4]float64{gt[0] + gt[1]*(fx/4+0.37), gt[3] + gt[5]*(fy*3/4+0.21), gt[0] + gt[1]*(fx*3/4+0.37), gt[3] + gt[5]*(fy/4+0.21)}
			reqs = append(reqs, reqCase{"native half", native, b, info.Width / 2, info.Height / 2, true})
		}
		for _, rq := range reqs {
			t.Run(fmt.Sprintf("%s/%s", name, rq.what), func(t *testing.T) {
				c.browse.Name, c.browse.Resampling = "B", "nearest"
				req := Request{Browse: c.browse, CRS: rq.crs, BBox: rq.bbox, Width: rq.w, Height: rq.h}
				warp := &Renderer{Objects: dirLocator(dir), MaxProducts: 10, Products: fixedFinder{rec("P", name)}}
				direct := &Renderer{Objects: dirLocator(dir), MaxProducts: 10, Products: fixedFinder{rec("P", name)}, Pool: newPool(4)}
				a, _, err := warp.Render(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				b, _, err := direct.Render(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				n := rq.w * rq.h
				drawn := func(img *image.NRGBA) int {
					k := 0
					for i := 3; i < len(img.Pix); i += 4 {
						if img.Pix[i] > 0 {
							k++
						}
					}
					return k
				}
				da, db := drawn(a), drawn(b)
				if db < n/10 {
					t.Fatalf("drew %d of %d pixels: the request misses the scene", db, n)
				}
				if math.Abs(float64(da-db)) > 0.03*float64(n) {
					t.Errorf("direct drew %d pixels, GDAL's warp %d", db, da)
				}
				if !rq.full {
					return
				}
				want, clear := reference(t, filepath.Join(dir, name), req)
				checked, wrongDirect, wrongWarp := 0, 0, 0
				for i := range want {
					if !clear[i] {
						continue
					}
					checked++
					if b.NRGBAAt(i%rq.w, i/rq.w) != want[i] {
						if wrongDirect < 3 {
							t.Errorf("pixel %d,%d: %v, want %v", i%rq.w, i/rq.w, b.NRGBAAt(i%rq.w, i/rq.w), want[i])
						}
						wrongDirect++
					}
					if a.NRGBAAt(i%rq.w, i/rq.w) != want[i] {
						wrongWarp++
					}
				}
				if wrongDirect > 0 || checked < n/4 {
					t.Errorf("%d of %d clear pixels wrong (GDAL's warp: %d)", wrongDirect, checked, wrongWarp)
				}
			})
		}
	}
}

func TestPoolReusesAndBoundsHandles(t *testing.T) {
	cog.Init()
	dir := t.TempDir()
	name := toCOG(t, dir, "RGB.byte.tif")
	opens := 0
	p := &Pool{Max: 2, Open: func(path string) (*godal.Dataset, error) { opens++; return godal.Open(path) }}
	path := filepath.Join(dir, name)
	a, err := p.Get(path, "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Get(path, "a") // in use: a second handle
	if err != nil {
		t.Fatal(err)
	}
	if a == b || opens != 2 {
		t.Fatalf("two concurrent users share a handle (opens %d)", opens)
	}
	p.Put(a, false)
	p.Put(b, false)
	c, _ := p.Get(path, "a")
	if opens != 2 || (c != a && c != b) {
		t.Errorf("an idle handle was not reused (opens %d)", opens)
	}
	p.Put(c, false)
	// Another version of the file is another key; the pool stays at Max.
	d, _ := p.Get(path, "b")
	p.Put(d, false)
	if open, idle := p.Stats(); open != 2 || idle != 2 {
		t.Errorf("open %d idle %d, want 2 and 2", open, idle)
	}
	e, _ := p.Get(path, "b")
	if e != d {
		t.Error("the newest handle was evicted instead of the oldest")
	}
	p.Put(e, true) // broken: closed
	if open, _ := p.Stats(); open != 1 {
		t.Errorf("open %d after closing a broken handle, want 1", open)
	}
	p.Close()
	if open, idle := p.Stats(); open != 0 || idle != 0 {
		t.Errorf("after Close: open %d idle %d", open, idle)
	}
}
