package render

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/crs"
	"github.com/pvs/pvs/pkg/metadata"
	"github.com/pvs/pvs/pkg/register"
	"github.com/pvs/pvs/pkg/registry"
	"github.com/pvs/pvs/pkg/store/file"
)

func TestAutoRange(t *testing.T) {
	t.Parallel()
	u16 := func(p2, p98 float64) catalog.Band {
		return catalog.Band{DataType: "UInt16", Stats: &catalog.BandStats{P2: p2, P98: p98}}
	}
	cov := catalog.Coverage{Bands: []catalog.Band{u16(100, 3000), u16(200, 2500), u16(50, 2800), u16(10, 4000)}}
	typed := catalog.Record{TypeRanges: []catalog.BandRange{{Band: 1, Low: 80, High: 3500}, {Band: 2, Low: 90, High: 3300}, {Band: 3, Low: 40, High: 3100}}}
	rgb := config.Browse{Bands: []int{1, 2, 3}}
	cases := []struct {
		name   string
		browse config.Browse
		rec    catalog.Record
		cov    catalog.Coverage
		want   []float64 // nil: drawn as today
	}{
		{"product's own statistics: envelope of the bands drawn", rgb, catalog.Record{}, cov, []float64{50, 3000}},
		{"the type's ranges win over the product's", rgb, typed, cov, []float64{40, 3500}},
		{"a band the type lacks: the product's", config.Browse{Bands: []int{4, 1, 2}}, typed, cov, []float64{10, 4000}},
		{"an explicit range wins", config.Browse{Bands: []int{1, 2, 3}, Range: []float64{0, 4000}}, typed, cov, nil},
		{"Byte keeps the identity", rgb, catalog.Record{}, catalog.Coverage{Bands: []catalog.Band{
			{DataType: "Byte", Stats: &catalog.BandStats{P2: 10, P98: 90}}}}, nil},
		{"no statistics: as today", rgb, catalog.Record{}, catalog.Coverage{Bands: []catalog.Band{{DataType: "UInt16"}}}, nil},
		{"a flat band is not stretched", config.Browse{Bands: []int{1}}, catalog.Record{}, catalog.Coverage{Bands: []catalog.Band{u16(7, 7)}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := autoRange(c.browse, nil, c.rec, c.cov)
			if ok != (c.want != nil) || (ok && (got[0] != c.want[0] || got[1] != c.want[1])) {
				t.Errorf("autoRange = %v, %v; want %v", got, ok, c.want)
			}
		})
	}
}

// writeScene12 writes a 4-band UInt16 COG of 12-bit values (1–4095, nodata
// 0) over bbox: smooth gradients plus noise, redder (warm) or bluer.
func writeScene12(t *testing.T, path string, bbox [4]float64, warm bool, seed uint64) {
	t.Helper()
	const w, h = 600, 600
	mem, err := godal.Create(godal.Memory, "", 4, godal.UInt16, w, h)
	testenv.Must(t, err, "create")
	defer mem.Close()
	sr, _ := godal.NewSpatialRefFromEPSG(4326)
	defer sr.Close()
	testenv.Must(t, mem.SetSpatialRef(sr), "CRS")
	testenv.Must(t, mem.SetGeoTransform([6]float64{bbox[0], (bbox[2] - bbox[0]) / w, 0, bbox[3], 0, -(bbox[3] - bbox[1]) / h}), "geotransform")
	rnd := rand.New(rand.NewPCG(seed, 1))
	base := [4]float64{2600, 1600, 700, 3000} // R, G, B, NIR
	if !warm {
		base = [4]float64{700, 1600, 2600, 2000}
	}
	buf := make([]uint16, w*h)
	for i, b := range mem.Bands() {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := base[i] + 900*math.Sin(float64(x)/60)*math.Cos(float64(y)/45) + rnd.NormFloat64()*150
				buf[y*w+x] = uint16(max(1, min(4095, v)))
			}
		}
		testenv.Must(t, b.SetNoData(0), "nodata")
		testenv.Must(t, b.Write(0, 0, buf, w, h), "write")
	}
	ds, err := mem.Translate(path, []string{"-of", "COG", "-co", "BLOCKSIZE=256"})
	testenv.Must(t, err, "COG")
	testenv.Must(t, ds.Close(), "close")
}

// ingestScene stores a scene as the preprocessor leaves it (COG, its
// description with statistics, GSC metadata) and registers it through the
// registrar.
func ingestScene(t *testing.T, out *file.Store, reg *registry.Registry, coll config.Collection, id string, bbox [4]float64, at time.Time, warm bool) {
	t.Helper()
	ctx := context.Background()
	prefix := coll.Name + "/" + id
	cogPath := filepath.Join(out.Root(), prefix, id+".tif")
	testenv.Must(t, out.Put(ctx, prefix+"/"+id+".tif", bytes.NewReader(nil)), "make dir")
	writeScene12(t, cogPath, bbox, warm, uint64(at.Unix()))
	info, err := cog.Describe(cogPath, nil)
	testenv.Must(t, err, "describe")
	stats, err := cog.Statistics(cogPath, nil)
	testenv.Must(t, err, "statistics")
	desc, _ := json.Marshal(cog.Description{Info: info, Stats: stats})
	testenv.Must(t, out.Put(ctx, prefix+"/"+id+".json", bytes.NewReader(desc)), "description")
	var gsc bytes.Buffer
	testenv.Must(t, metadata.WriteGSC(&gsc, metadata.Product{Identifier: id, Collection: coll.Name, ParentIdentifier: coll.Name,
		ProductType: "PHR_MS___2A", BeginTime: at, EndTime: at.Add(10 * time.Second),
		Footprint:  [][][][2]float64{{rectRing(bbox)}},
		Properties: map[string]string{"platform": "PHR", "platformSerialIdentifier": "1A"}}), "GSC")
	testenv.Must(t, out.Put(ctx, prefix+"/"+id+".xml", &gsc), "metadata")
	p, err := (&register.Registrar{Output: out, Collection: coll}).Prepare(ctx, prefix)
	testenv.Must(t, err, "prepare %s", id)
	_, err = reg.Register(ctx, p, true)
	testenv.Must(t, err, "register %s", id)
}

// brightness is the mean and standard deviation of the grey level of the
// drawn (not transparent) pixels of img, and how many there are.
func brightness(img *image.NRGBA) (mean, stddev float64, n int) {
	var sum, sq float64
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i+3] == 0 {
			continue
		}
		g := (float64(img.Pix[i]) + float64(img.Pix[i+1]) + float64(img.Pix[i+2])) / 3
		sum += g
		sq += g * g
		n++
	}
	if n == 0 {
		return 0, 0, 0
	}
	mean = sum / float64(n)
	return mean, math.Sqrt(max(0, sq/float64(n)-mean*mean)), n
}

// Two overlapping 12-bit scenes of one product type, registered as the
// pipeline registers them, show with visible content in the collection's
// layer, its outlined layer and a tile, newest on top; an explicit range
// still wins.
func TestTwelveBitScenesAreStretchedAutomatically(t *testing.T) {
	reg := testRegistry(t)
	cog.Init()
	ctx := context.Background()
	out, err := file.New(t.TempDir())
	testenv.Must(t, err, "store")
	coll := config.Collection{Name: "VHR_IMAGE_2018", ProductTypes: []config.ProductType{{Name: "PHR_MS___2A"}}}
	testenv.Must(t, reg.EnsureCollection(ctx, coll.Name, "", coll.ProductTypeNames(), []string{"TRUE_COLOR"}), "collection")
	older, newer := [4]float64{10, 40, 11, 41}, [4]float64{10.5, 40.3, 11.5, 41.3}
	day := time.Date(2018, 6, 1, 10, 0, 0, 0, time.UTC)
	ingestScene(t, out, reg, coll, "PHR_OLDER_WARM", older, day, true)
	ingestScene(t, out, reg, coll, "PHR_NEWER_COOL", newer, day.AddDate(0, 0, 1), false)

	recs, err := reg.Find(ctx, catalog.Query{Collection: coll.Name})
	testenv.Must(t, err, "find")
	if len(recs) != 2 || len(recs[0].TypeRanges) != 4 || recs[0].Coverages[0].Bands[0].Stats == nil {
		t.Fatalf("registry lacks the statistics: %+v", recs)
	}
	t.Logf("type ranges %+v; newest band 1 statistics %+v", recs[0].TypeRanges, *recs[0].Coverages[0].Bands[0].Stats)

	trueColor := config.Browse{Name: "TRUE_COLOR", Bands: []int{1, 2, 3}, Resampling: "nearest"}
	tile, err := crs.TransformBBox(4326, 3857, [4]float64{10.4, 40.2, 10.9, 40.7})
	testenv.Must(t, err, "tile box")
	all := [4]float64{9.9, 39.9, 11.6, 41.4}
	cases := []struct {
		name     string
		req      Request
		darkOnly bool // an explicit range far above the data: dark, as configured
	}{
		{"main layer", Request{Browse: trueColor, CRS: crs.CRS{Code: 4326}, BBox: all, Width: 340, Height: 300}, false},
		{"outlined layer", Request{Browse: trueColor, CRS: crs.CRS{Code: 4326}, BBox: all, Width: 340, Height: 300, Outlines: true}, false},
		{"tile-sized GetMap in EPSG:3857", Request{Browse: trueColor, CRS: crs.CRS{Code: 3857}, BBox: tile, Width: 256, Height: 256}, false},
		{"bilinear browse (GDAL's warper)", Request{Browse: config.Browse{Name: "B", Bands: []int{1, 2, 3}, Resampling: "bilinear"},
			CRS: crs.CRS{Code: 4326}, BBox: all, Width: 340, Height: 300}, false},
		{"explicit range wins", Request{Browse: config.Browse{Name: "WIDE", Bands: []int{1, 2, 3}, Range: []float64{0, 65535}, Resampling: "nearest"},
			CRS: crs.CRS{Code: 4326}, BBox: all, Width: 340, Height: 300}, true},
	}
	for _, pooled := range []bool{true, false} {
		r := &Renderer{Products: reg, Objects: out, MaxProducts: 10}
		if pooled {
			r.Pool = &Pool{Max: 8, Open: func(path string) (*godal.Dataset, error) { return godal.Open(path, godal.RasterOnly()) }}
		}
		for _, c := range cases {
			name := c.name
			if !pooled {
				name += " without pool"
			}
			t.Run(name, func(t *testing.T) {
				c.req.Collection = coll.Name
				img, n, err := r.Render(ctx, c.req)
				testenv.Must(t, err, "render")
				if n != 2 {
					t.Errorf("%d products drawn, want 2", n)
				}
				mean, sd, px := brightness(img)
				t.Logf("%d pixels drawn: mean brightness %.1f, stddev %.1f", px, mean, sd)
				if c.darkOnly {
					if mean >= 30 {
						t.Errorf("mean brightness %.1f with range [0, 65535], want the explicit range's dark image (< 30)", mean)
					}
					return
				}
				if mean < 30 || mean > 220 || sd <= 5 {
					t.Errorf("mean brightness %.1f, stddev %.1f; want 30..220 and > 5", mean, sd)
				}
				if c.req.CRS.Code != 4326 {
					return
				}
				// Lon 10.75, lat 40.65 lies under both: the newer, bluer
				// scene is on top. Lon 10.2, lat 40.1 only the older,
				// redder one covers.
				at := func(lon, lat float64) (r, b int) {
					x := int((lon - c.req.BBox[0]) / (c.req.BBox[2] - c.req.BBox[0]) * float64(c.req.Width))
					y := int((c.req.BBox[3] - lat) / (c.req.BBox[3] - c.req.BBox[1]) * float64(c.req.Height))
					var sr, sb int
					for dy := -3; dy <= 3; dy++ {
						for dx := -3; dx <= 3; dx++ {
							p := img.NRGBAAt(x+dx, y+dy)
							sr, sb = sr+int(p.R), sb+int(p.B)
						}
					}
					return sr / 49, sb / 49
				}
				if r, b := at(10.75, 40.65); b <= r+40 {
					t.Errorf("overlap red %d, blue %d: want the newer, bluer scene on top", r, b)
				}
				if r, b := at(10.2, 40.1); r <= b+40 {
					t.Errorf("older scene alone red %d, blue %d: want it redder", r, b)
				}
			})
		}
	}
}
