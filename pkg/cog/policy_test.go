package cog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"
)

// hostile writes the files the policy tests feed to Check.
func hostile(t *testing.T) map[string]string {
	t.Helper()
	Init()
	dir := t.TempDir()
	abs, _ := filepath.Abs("../../testdata/rasters/byte.tif")
	files := map[string]string{
		"vrt-raw.tif": `<VRTDataset rasterXSize="20" rasterYSize="20"><VRTRasterBand dataType="Byte" band="1" subClass="VRTRawRasterBand">
			<SourceFilename relativeToVRT="0">/etc/passwd</SourceFilename><ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset><LineOffset>20</LineOffset>
			</VRTRasterBand></VRTDataset>`,
		"vrt-abs.tif": `<VRTDataset rasterXSize="20" rasterYSize="20"><VRTRasterBand dataType="Byte" band="1"><SimpleSource>
			<SourceFilename relativeToVRT="0">` + abs + `</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>`,
		"wms.tif": `<GDAL_WMS><Service name="WMS"><ServerUrl>http://127.0.0.1:9/wms?</ServerUrl><Layers>x</Layers></Service>
			<DataWindow><UpperLeftX>-180</UpperLeftX><UpperLeftY>90</UpperLeftY><LowerRightX>180</LowerRightX><LowerRightY>-90</LowerRightY>
			<SizeX>1000</SizeX><SizeY>500</SizeY></DataWindow></GDAL_WMS>`,
		"dimap-out/METADATA.DIM": `<Dimap_Document><Data_Access><Data_File><DATA_FILE_PATH href="` + abs + `"/></Data_File></Data_Access></Dimap_Document>`,
		"dimap-up/METADATA.DIM":  `<Dimap_Document><Data_Access><Data_File><DATA_FILE_PATH href="../../x.tif"/></Data_File></Data_Access></Dimap_Document>`,
	}
	out := map[string]string{}
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		out[name] = p
	}
	// A DIMAP product whose image is a link to a raster elsewhere: only
	// the file list GDAL reports after opening shows it.
	link := filepath.Join(dir, "dimap-link")
	os.MkdirAll(link, 0o755)
	b, err := os.ReadFile("../../testdata/products/spot_dimap_v1/METADATA.DIM")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(link, "METADATA.DIM"), b, 0o644)
	img, _ := filepath.Abs("../../testdata/products/spot_dimap_v1/IMAGERY.TIF")
	if err := os.Symlink(img, filepath.Join(link, "IMAGERY.TIF")); err != nil {
		t.Fatal(err)
	}
	out["dimap-link/METADATA.DIM"] = filepath.Join(link, "METADATA.DIM")
	huge := filepath.Join(dir, "huge.tif")
	ds, err := godal.Create(godal.GTiff, huge, 1, godal.Byte, 1000000, 1000000,
		godal.CreationOption("SPARSE_OK=TRUE", "BLOCKYSIZE=1000000", "COMPRESS=DEFLATE"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	out["huge.tif"] = huge
	return out
}

func TestInputPolicyCheck(t *testing.T) {
	files := hostile(t)
	r := "../../testdata/rasters/"
	dimap := "../../testdata/products/spot_dimap_v1/METADATA.DIM"
	for _, c := range []struct {
		name   string
		path   string
		policy InputPolicy
		want   string // in the reason; empty: accepted
	}{
		{name: "tif", path: r + "byte.tif"},
		{name: "cog", path: r + "cog_rgba.tif"},
		{name: "jp2 by default", path: r + "byte.jp2"},
		{name: "jp2 where only GTiff is allowed", path: r + "byte.jp2", policy: InputPolicy{Drivers: []string{"GTiff"}},
			want: "byte.jp2 is read by GDAL driver JP2OpenJPEG, which is not allowed for this product type (allowed: GTiff)"},
		{name: "dimap", path: dimap, policy: InputPolicy{Drivers: []string{"DIMAP"}, Root: filepath.Dir(dimap)}},
		{name: "VRT reading /etc/passwd", path: files["vrt-raw.tif"], want: "vrt-raw.tif is a VRT dataset (GDAL driver VRT)"},
		{name: "VRT reading an absolute path", path: files["vrt-abs.tif"], want: "vrt-abs.tif is a VRT dataset"},
		{name: "VRT even when listed", path: files["vrt-abs.tif"], policy: InputPolicy{Drivers: []string{"VRT", "GTiff"}}, want: "is a VRT dataset"},
		{name: "WMS", path: files["wms.tif"], want: "wms.tif is a WMS dataset (GDAL driver WMS)"},
		{name: "DIMAP naming an absolute path", path: files["dimap-out/METADATA.DIM"], policy: InputPolicy{Drivers: []string{"DIMAP"}},
			want: "outside the package"},
		{name: "DIMAP climbing out", path: files["dimap-up/METADATA.DIM"], policy: InputPolicy{Drivers: []string{"DIMAP"}},
			want: `names "../../x.tif", outside the package`},
		{name: "DIMAP image outside the root", path: files["dimap-link/METADATA.DIM"], policy: InputPolicy{Drivers: []string{"DIMAP"}, Root: filepath.Dir(files["dimap-link/METADATA.DIM"])},
			want: "METADATA.DIM makes GDAL read"},
		{name: "huge header", path: files["huge.tif"], policy: InputPolicy{MaxSide: 100000},
			want: "huge.tif is 1000000 x 1000000 pixels; the largest side allowed is 100000 (preprocessor.limits.raster_side)"},
		{name: "too many samples", path: r + "RGB.byte.tif", policy: InputPolicy{MaxSamples: 791 * 718 * 2},
			want: "RGB.byte.tif is 791 x 718 pixels x 3 bands = 1703814 samples; at most 1135876 are allowed (preprocessor.limits.raster_samples)"},
		{name: "not a raster", path: "../../testdata/MANIFEST.md", want: "open MANIFEST.md:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.policy.Check(c.path)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if errors.Is(err, ErrRefused) == strings.HasPrefix(c.want, "open ") {
				t.Errorf("ErrRefused wrapped: %v, want %v", errors.Is(err, ErrRefused), !strings.HasPrefix(c.want, "open "))
			}
		})
	}
}

func TestConfined(t *testing.T) {
	t.Parallel()
	p := InputPolicy{Root: "/work/pkg"}
	for _, c := range []struct {
		files []string
		ok    bool
	}{
		{[]string{"/work/pkg/a.tif", "/work/pkg/d/b.tif"}, true},
		{[]string{"/work/pkg/a.tif", "/etc/passwd"}, false},
		{[]string{"/work/pkg/../x.tif"}, false},
		{[]string{"/work/pkgx/a.tif"}, false},
		{[]string{"/vsicurl/http://example.com/x.tif"}, false},
		{[]string{"/vsis3/bucket/x.tif"}, false},
	} {
		err := p.confined("x", c.files)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrRefused)) {
			t.Errorf("%v: err = %v, want ok=%v", c.files, err, c.ok)
		}
	}
}

func TestConvertRefusesBeforeWriting(t *testing.T) {
	files := hostile(t)
	dst := filepath.Join(t.TempDir(), "out.tif")
	err := Convert([]string{files["vrt-raw.tif"]}, dst, Steps{}, opts, InputPolicy{}, nil)
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("err = %v, want a refusal", err)
	}
	// A warp that would blow a small raster up past the caps is refused
	// before the COG is written.
	err = Convert([]string{"../../testdata/rasters/byte.tif"}, dst, Steps{TargetCRS: "EPSG:4326"}, opts, InputPolicy{MaxSamples: 20 * 20}, nil)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "the COG is") {
		t.Fatalf("err = %v, want the COG refused", err)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused conversion wrote %s: %v", dst, err)
	}
}
