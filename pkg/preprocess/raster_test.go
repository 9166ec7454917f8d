package preprocess

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/queue"
)

func TestNamedRasterGoesByContent(t *testing.T) {
	t.Parallel()
	r := "../../testdata/rasters/"
	plain := config.ProductType{Name: "RASTER", DataGlobs: []string{"*.tif", "*.jp2"}}
	dimap := config.ProductType{Name: "SPOT_DIMAP", DataGlobs: []string{"METADATA.DIM"}}
	cogGlob := config.ProductType{Name: "COG", DataGlobs: []string{"*.cog"}}
	for _, c := range []struct {
		name   string
		src    string // the item's path
		files  map[string]string
		types  []config.ProductType
		pt     config.ProductType
		wanted string // the file taken, "" for none
	}{
		{"GeoTIFF named *.cog", "in/scene.cog", map[string]string{"scene.cog": r + "byte.tif"}, []config.ProductType{plain}, plain, "scene.cog"},
		{"JPEG2000 with no extension", "in/scene", map[string]string{"scene": r + "byte.jp2"}, []config.ProductType{plain}, plain, "scene"},
		{"TIFF named *.dat", "in/x.dat", map[string]string{"x.dat": r + "RGB.byte.tif"}, []config.ProductType{plain}, plain, "x.dat"},
		{"not a raster", "in/notes.cog", map[string]string{"notes.cog": sampleMeta}, []config.ProductType{plain}, plain, ""},
		{"a directory package is left to the globs", "in/dir", map[string]string{"scene.cog": r + "byte.tif"}, []config.ProductType{plain}, plain, ""},
		{"header types go by their header", "in/scene.cog", map[string]string{"scene.cog": r + "byte.tif"}, []config.ProductType{dimap}, dimap, ""},
		{"a type claiming the name wins", "in/scene.cog", map[string]string{"scene.cog": r + "byte.tif"}, []config.ProductType{plain, cogGlob}, plain, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			var files []string
			for name, from := range c.files {
				b, err := os.ReadFile(from)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, filepath.Join(dir, name))
			}
			want := ""
			if c.wanted != "" {
				want = filepath.Join(dir, c.wanted)
			}
			got := namedRaster(config.Collection{Name: "C", ProductTypes: c.types}, c.pt, c.src, files)
			if got != want {
				t.Errorf("namedRaster = %q, want %q", got, want)
			}
		})
	}
}

// A preprocess-md_queue item naming a GeoTIFF called *.cog becomes a
// product, although no data glob matches the name.
func TestMDQueueItemNamingACOGFile(t *testing.T) {
	cog.Init()
	p, src, out, _ := setup(t)
	ctx := context.Background()
	b, _ := os.ReadFile("../../testdata/rasters/RGB.byte.tif")
	src.Put(ctx, "in/scene.cog", bytes.NewReader(b))
	item := `{"path":"in/scene.cog","identifier":"SCENE_COG","begin_time":"2020-01-01T00:00:00Z","end_time":"2020-01-01T00:01:00Z"}`
	res, err := p.Handle(ctx, queue.Item{Queue: "preprocess-md_queue", Value: item})
	if err != nil || res != "VHR_IMAGE_2018/SCENE_COG" {
		t.Fatalf("result %q, err %v", res, err)
	}
	if _, err := out.Stat(ctx, res+"/SCENE_COG.tif"); err != nil {
		t.Errorf("no COG written: %v", err)
	}
}
