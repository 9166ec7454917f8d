package preprocess

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/metadata"
	"github.com/pvs/pvs/pkg/queue"
)

// The collection used for the sample matrix: Sentinel-2 stacking, DIMAP
// through its header, and any single raster described by its own metadata
// file or by the preprocess-md_queue item.
var samples = config.Collection{Name: "Emergency", ProductTypes: []config.ProductType{
	{Name: "S2MSI1C", Match: ".SAFE", MetadataGlobs: []string{"MTD_MSIL1C.xml"},
		TypeExtractor: &config.Extractor{Path: "Product_Info/PRODUCT_TYPE", Pattern: "^S2MSI1C$"},
		BandFiles:     []string{"*_B04.jp2", "*_B03.jp2", "*_B02.jp2"}, NoData: ptr(0)},
	{Name: "SPOT_DIMAP", MetadataGlobs: []string{"METADATA.DIM"}, DataGlobs: []string{"METADATA.DIM"}},
	{Name: "RASTER", MetadataGlobs: []string{"*.xml"}, DataGlobs: []string{"*.tif", "*.jp2"}},
	// The MERIS sample's metadata names its type.
	{Name: "MER_FRS_1P", MetadataGlobs: []string{"*.xml"}, DataGlobs: []string{"*.tif"}},
}}

func ptr(f float64) *float64 { return &f }

type sample struct {
	name   string
	files  map[string]string // package file -> testdata path (a directory copies the tree)
	md     bool              // describe by a preprocess-md_queue item
	warped bool              // georeferenced by warping: pixels are resampled
	bands  int
	crs    string
}

func TestEverySampleBecomesAValidCOG(t *testing.T) {
	cog.Init()
	r := "../../testdata/rasters/"
	cases := []sample{
		{name: "byte", files: map[string]string{"byte.tif": r + "byte.tif"}, md: true, bands: 1, crs: "EPSG:26711"},
		{name: "byte-nodata", files: map[string]string{"x.tif": r + "gdal_nodata_byte.tif"}, md: true, bands: 1, crs: "EPSG:26711"},
		{name: "rgb", files: map[string]string{"x.tif": r + "RGB.byte.tif"}, md: true, bands: 3, crs: "EPSG:32618"},
		{name: "rgba-alpha-jpeg", files: map[string]string{"x.tif": r + "alpha.tif"}, md: true, bands: 4, crs: "EPSG:3857"},
		{name: "rgba", files: map[string]string{"x.tif": r + "cog_rgba.tif"}, md: true, bands: 4, crs: "EPSG:26913"},
		{name: "rgb-mask", files: map[string]string{"x.tif": r + "cog_rgb_mask.tif"}, md: true, bands: 3, crs: "EPSG:26913"},
		{name: "uint16-4band", files: map[string]string{"x.tif": r + "RGBA.uint16.tif"}, md: true, bands: 4, crs: "EPSG:32612"},
		{name: "uint16-striped", files: map[string]string{"x.tif": r + "lowres.tif"}, md: true, bands: 1, crs: "EPSG:32617"},
		{name: "int16", files: map[string]string{"x.tif": r + "cog_int16.tif"}, md: true, bands: 1, crs: "EPSG:32621"},
		{name: "int16-scale-offset", files: map[string]string{"x.tif": r + "cog_scale_epsg4326.tif"}, md: true, bands: 2, crs: "EPSG:4326"},
		{name: "float32-nan", files: map[string]string{"x.tif": r + "cog_nodata_nan.tif"}, md: true, bands: 1, crs: "EPSG:32610"},
		{name: "float32-custom-crs", files: map[string]string{"x.tif": r + "float_raster_with_nodata.tif"}, md: true, bands: 1},
		{name: "nad27-utm", files: map[string]string{"x.tif": r + "utmsmall.tif"}, md: true, bands: 1, crs: "EPSG:26711"},
		{name: "paletted-utm", files: map[string]string{"x.tif": r + "utm.tif"}, md: true, bands: 1, crs: "EPSG:32617"},
		{name: "wgs84", files: map[string]string{"x.tif": r + "world.rgb.tif"}, md: true, bands: 3, crs: "EPSG:4326"},
		{name: "web-mercator", files: map[string]string{"x.tif": r + "shade.tif"}, md: true, bands: 1, crs: "EPSG:3857"},
		{name: "gcp-only-2-points", files: map[string]string{"x.tif": r + "byte_gcp.tif"}, md: true, bands: 1, crs: "EPSG:4326"},
		{name: "jp2", files: map[string]string{"x.jp2": r + "byte.jp2"}, md: true, bands: 1, crs: "EPSG:26711"},
		{name: "jp2-uint16", files: map[string]string{"x.jp2": r + "gtsmall_10_uint16.jp2"}, md: true, bands: 1, crs: "EPSG:4326"},
		{name: "meris-eop", files: map[string]string{"meris.tif": "../../testdata/products/meris/mosaic_ENVISAT-MER_FRS_1PNPDE20060816_090929_000001972050_00222_23322_0058_RGB_reduced.tif",
			"meris.xml": "../../testdata/products/meris/mosaic_ENVISAT-MER_FRS_1PNPDE20060816_090929_000001972050_00222_23322_0058_RGB_reduced.xml"}, bands: 3, crs: "EPSG:4326"},
		{name: "spot-dimap", files: map[string]string{"": "../../testdata/products/spot_dimap_v1"}, warped: true, bands: 2, crs: "EPSG:4326"},
		{name: "sentinel2.SAFE", files: map[string]string{"": "../../testdata/products/sentinel2_l1c/S2B_MSIL1C_20230823T095559_N0509_R122_T34UCF_20230823T120234.SAFE"}, bands: 3, crs: "EPSG:32634"},
	}
	if testing.Short() {
		cases = cases[:len(cases)-1] // the 10980x10980 Sentinel-2 stack takes ~10 s
	}
	p, src, out, rec := setup(t)
	p.Collection = samples
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pkg := "in/" + c.name
			var inputs []string
			for name, path := range c.files {
				if name == "" {
					copyTree(t, src.Root(), pkg, path)
					continue
				}
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				src.Put(ctx, pkg+"/"+name, bytes.NewReader(b))
				if !strings.HasSuffix(name, ".xml") {
					inputs = append(inputs, path)
				}
			}
			item := queue.Item{Queue: "preprocess_queue", Value: pkg}
			if c.md {
				doc, _ := json.Marshal(MDItem{Path: pkg, Identifier: "ID_" + strings.ReplaceAll(c.name, ".", "_"),
					BeginTime: "2020-01-01T00:00:00Z", EndTime: "2020-01-01T00:00:10Z"})
				item = queue.Item{Queue: "preprocess-md_queue", Value: string(doc)}
			}
			prefix, err := p.Handle(ctx, item)
			if err != nil {
				t.Fatal(err)
			}
			id := prefix[strings.LastIndex(prefix, "/")+1:]
			cogPath := out.GDALPath(prefix + "/" + id + ".tif")
			info, err := cog.Describe(cogPath, nil)
			if err != nil {
				t.Fatalf("describe output: %v", err)
			}
			// GDAL's own COG layout check, tiling, overviews.
			if info.Layout != "COG" {
				t.Errorf("layout %q, want COG", info.Layout)
			}
			ds, err := godal.Open(cogPath)
			if err != nil {
				t.Fatal(err)
			}
			defer ds.Close()
			st := ds.Structure()
			if st.BlockSizeX != 256 || st.BlockSizeY != 256 {
				t.Errorf("blocks %dx%d, want 256x256 tiles", st.BlockSizeX, st.BlockSizeY)
			}
			if max(info.Width, info.Height) > 256 && info.Overviews == 0 {
				t.Errorf("%dx%d COG without overviews", info.Width, info.Height)
			}
			if len(info.Bands) != c.bands {
				t.Errorf("%d bands, want %d", len(info.Bands), c.bands)
			}
			if c.crs != "" && info.CRS != c.crs {
				t.Errorf("CRS %s, want %s", info.CRS, c.crs)
			}
			if len(info.Footprint) < 5 {
				t.Errorf("no footprint")
			}
			// Where nothing was resampled, the pixels are the input's.
			if !c.warped && len(inputs) == 1 {
				in, err := godal.Open(inputs[0])
				if err != nil {
					t.Fatal(err)
				}
				defer in.Close()
				if !samePixels(t, in, ds) {
					t.Error("COG pixels differ from the input's")
				}
				gt := info.GeoTransform
				if gi, err := in.GeoTransform(); err == nil && gi != gt {
					t.Errorf("geotransform %v, want the input's %v", gt, gi)
				}
				// Georeferenced from GCPs: each GCP lands where it says.
				for _, g := range in.GCPs() {
					x := gt[0] + g.DfGCPPixel*gt[1] + g.DfGCPLine*gt[2]
					y := gt[3] + g.DfGCPPixel*gt[4] + g.DfGCPLine*gt[5]
					if d := (x-g.DfGCPX)*(x-g.DfGCPX) + (y-g.DfGCPY)*(y-g.DfGCPY); d > 1e-12 {
						t.Errorf("GCP %s maps to %v,%v, want %v,%v", g.PszId, x, y, g.DfGCPX, g.DfGCPY)
					}
				}
			}
			rc, err := out.Get(ctx, prefix+"/"+id+".xml")
			if err != nil {
				t.Fatal(err)
			}
			md, err := metadata.ParseXML(rc)
			rc.Close()
			if err != nil || md.Validate() != nil || len(md.Footprint) == 0 {
				t.Errorf("normalised metadata: %+v, %v", md, err)
			}
		})
	}
	if len(rec.items) != len(cases) {
		t.Errorf("%d products handed to the registrar, want %d", len(rec.items), len(cases))
	}
	assertWorkDirEmpty(t, p)
}

func samePixels(t *testing.T, a, b *godal.Dataset) bool {
	sa, sb := a.Structure(), b.Structure()
	if sa.SizeX != sb.SizeX || sa.SizeY != sb.SizeY || sa.NBands != sb.NBands {
		t.Logf("sizes %dx%dx%d and %dx%dx%d", sa.SizeX, sa.SizeY, sa.NBands, sb.SizeX, sb.SizeY, sb.NBands)
		return false
	}
	n := sa.SizeX * sa.SizeY * sa.NBands
	ba, bb := make([]float64, n), make([]float64, n)
	if err := a.Read(0, 0, ba, sa.SizeX, sa.SizeY); err != nil {
		t.Fatal(err)
	}
	if err := b.Read(0, 0, bb, sb.SizeX, sb.SizeY); err != nil {
		t.Fatal(err)
	}
	for i := range ba {
		if ba[i] != bb[i] && !(ba[i] != ba[i] && bb[i] != bb[i]) { // NaN equals NaN here
			t.Logf("value %d: %v and %v", i, ba[i], bb[i])
			return false
		}
	}
	return true
}

func copyTree(t *testing.T, root, prefix, dir string) {
	t.Helper()
	base := filepath.Base(dir)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		dst := filepath.Join(root, prefix, base, rel)
		os.MkdirAll(filepath.Dir(dst), 0o755)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
