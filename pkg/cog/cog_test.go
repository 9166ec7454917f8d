package cog

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"
)

var opts = Options{Compress: "DEFLATE", BlockSize: 256, OverviewResampling: "AVERAGE", Threads: "2"}

func readAll(t *testing.T, path string) ([]byte, godal.DatasetStructure) {
	t.Helper()
	ds, err := godal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	st := ds.Structure()
	buf := make([]byte, st.SizeX*st.SizeY*st.NBands)
	if err := ds.Read(0, 0, buf, st.SizeX, st.SizeY); err != nil {
		t.Fatal(err)
	}
	return buf, st
}

func TestTranslateMakesAValidCOGWithTheSamePixels(t *testing.T) {
	Init()
	src := "../../testdata/rasters/RGB.byte.tif"
	dst := filepath.Join(t.TempDir(), "out.tif")
	if err := Translate(src, dst, opts, nil); err != nil {
		t.Fatal(err)
	}
	info, err := Describe(dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Layout != "COG" {
		t.Errorf("layout %q, want COG", info.Layout)
	}
	if info.Overviews < 1 {
		t.Error("no overviews")
	}
	if info.Width != 791 || info.Height != 718 || len(info.Bands) != 3 || info.CRS != "EPSG:32618" {
		t.Errorf("info = %+v", info)
	}
	if nd := info.Bands[0].NoData; nd == nil || *nd != 0 {
		t.Errorf("nodata not kept: %v", nd)
	}
	a, _ := readAll(t, src)
	b, st := readAll(t, dst)
	if st.BlockSizeX != 256 || st.BlockSizeY != 256 {
		t.Errorf("block size %dx%d, want tiled 256", st.BlockSizeX, st.BlockSizeY)
	}
	if string(a) != string(b) {
		t.Error("COG pixels differ from the source")
	}
	// Footprint: a closed ring around the scene, in lon/lat.
	fp := info.Footprint
	if len(fp) < 5 || fp[0] != fp[len(fp)-1] {
		t.Fatalf("footprint ring: %v", fp)
	}
	for _, p := range fp {
		if p[0] < -79.1 || p[0] > -76.4 || p[1] < 23.4 || p[1] > 25.7 {
			t.Errorf("footprint point %v outside the scene", p)
		}
	}
}

func TestTranslateTruncatedFails(t *testing.T) {
	Init()
	err := Translate("../../testdata/rasters/byte_truncated.tif", filepath.Join(t.TempDir(), "x.tif"), opts, nil)
	if err == nil || !strings.Contains(err.Error(), "Read error") {
		t.Errorf("err = %v", err)
	}
}

func TestSwitchesMatchGDALTranslate(t *testing.T) {
	got := strings.Join(opts.Switches(), " ")
	for _, want := range []string{"-of COG", "COMPRESS=DEFLATE", "BLOCKSIZE=256", "OVERVIEW_RESAMPLING=AVERAGE", "NUM_THREADS=2", "BIGTIFF=IF_NEEDED", "PREDICTOR=YES"} {
		if !strings.Contains(got, want) {
			t.Errorf("switches %q lack %q", got, want)
		}
	}
}

func TestValidFootprintFollowsTheData(t *testing.T) {
	Init()
	dst := filepath.Join(t.TempDir(), "rgb.tif")
	if err := Translate("../../testdata/rasters/RGB.byte.tif", dst, opts, nil); err != nil {
		t.Fatal(err)
	}
	fp, err := ValidFootprint(dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := Describe(dst, nil)
	// RGB.byte.tif is a tilted Landsat scene in a nodata frame: its valid
	// outline is much smaller than the raster's bounding outline.
	valid, bounds := area(fp), area([][][][2]float64{{info.Footprint}})
	if valid <= 0 || valid > 0.8*bounds || valid < 0.4*bounds {
		t.Errorf("valid area %.4f, bounding area %.4f: the outline does not follow the data", valid, bounds)
	}
	for _, poly := range fp {
		for _, ring := range poly {
			if ring[0] != ring[len(ring)-1] {
				t.Error("ring not closed")
			}
			for _, p := range ring {
				if p[0] < -79.1 || p[0] > -76.4 || p[1] < 23.4 || p[1] > 25.7 {
					t.Errorf("point %v outside the scene", p)
				}
			}
		}
	}
	// A raster with no nodata is valid everywhere: the edge outline.
	dst2 := filepath.Join(t.TempDir(), "world.tif")
	Translate("../../testdata/rasters/world.rgb.tif", dst2, opts, nil)
	fp2, err := ValidFootprint(dst2, nil)
	if err != nil || len(fp2) != 1 || len(fp2[0][0]) < 5 {
		t.Errorf("all-valid footprint = %v, %v", fp2, err)
	}
}

// area is the planar area of polygons in degrees² (outer rings minus holes).
func area(polys [][][][2]float64) float64 {
	total := 0.0
	for _, poly := range polys {
		for i, ring := range poly {
			a := 0.0
			for k := 0; k+1 < len(ring); k++ {
				a += ring[k][0]*ring[k+1][1] - ring[k+1][0]*ring[k][1]
			}
			if a < 0 {
				a = -a
			}
			if i == 0 {
				total += a / 2
			} else {
				total -= a / 2
			}
		}
	}
	return total
}
