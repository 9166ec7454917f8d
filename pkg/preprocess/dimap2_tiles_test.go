package preprocess

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/queue"
)

// A Pleiades delivery of 2×2 image tiles (IMG_*_R<r>C<c>.TIF) is converted
// as one product, the tiles mosaicked in place as GDAL's DIMAP driver
// reads the header: each quarter of the COG holds its tile's pixels.
func TestPleiadesDIMAPv2TiledPackage(t *testing.T) {
	cog.Init()
	p, src, out, _ := setup(t)
	p.Collection = config.Collection{Name: "VHR_IMAGE_2018", ProductTypes: vhrTypes}
	dir := filepath.Join(src.Root(), "in", "PHR_tiled")
	const tile = 20
	pleiadesPackage(t, dir) // the header, RPC and VOL files, tile R1C1
	prod := filepath.Join(dir, "IMG_PHR1A_MS_001")
	header := filepath.Join(prod, "DIM_PHR1A_MS_201203161005426_ORT_1.XML")
	var files strings.Builder
	for r := 1; r <= 2; r++ {
		for c := 1; c <= 2; c++ {
			name := fmt.Sprintf("IMG_PHR1A_MS_201203161005426_ORT_1_R%dC%d.TIF", r, c)
			fmt.Fprintf(&files, `<Data_File tile_R="%d" tile_C="%d"><DATA_FILE_PATH href="%s"/></Data_File>`, r, c, name)
			writeTile(t, filepath.Join(prod, name), 7.0+float64(c-1)*tile*0.01, 43.2-float64(r-1)*tile*0.01, tile, uint16(1000*r+100*c))
		}
	}
	doc := strings.NewReplacer(
		`<Data_File tile_R="1" tile_C="1"><DATA_FILE_PATH href="IMG_PHR1A_MS_201203161005426_ORT_1_R1C1.TIF"/></Data_File>`, files.String(),
		"<NROWS>20</NROWS><NCOLS>20</NCOLS>", "<NROWS>40</NROWS><NCOLS>40</NCOLS>",
		"<NTILES>1</NTILES>", "<NTILES>4</NTILES>",
		`<NTILES_COUNT ntiles_R="1" ntiles_C="1"/>`, `<NTILES_COUNT ntiles_R="2" ntiles_C="2"/>`,
	).Replace(pleiadesDIM)
	if err := os.WriteFile(header, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}

	prefix, err := p.Handle(context.Background(), queue.Item{Queue: "preprocess_queue", Value: "in/PHR_tiled"})
	if err != nil {
		t.Fatal(err)
	}
	const id = "DS_PHR1A_201203161005426_FR1_PX_E007N43_0911_01307"
	ds, err := godal.Open(out.GDALPath(prefix + "/" + id + ".tif"))
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if s := ds.Structure(); s.SizeX != 2*tile || s.SizeY != 2*tile || s.NBands != 4 {
		t.Fatalf("COG %dx%d, %d bands; want the 40x40 4-band mosaic", s.SizeX, s.SizeY, s.NBands)
	}
	px := make([]uint16, 2*tile*2*tile)
	if err := ds.Bands()[0].Read(0, 0, px, 2*tile, 2*tile); err != nil {
		t.Fatal(err)
	}
	for r := 1; r <= 2; r++ {
		for c := 1; c <= 2; c++ {
			x, y := (c-1)*tile+tile/2, (r-1)*tile+tile/2
			if got, want := px[y*2*tile+x], uint16(1000*r+100*c); got != want {
				t.Errorf("tile R%dC%d: pixel %d, want %d", r, c, got, want)
			}
		}
	}
}

// writeTile writes a size×size 4-band UInt16 tile of value v at (west,
// north) in EPSG:4326, 0.01° pixels.
func writeTile(t *testing.T, path string, west, north float64, size int, v uint16) {
	t.Helper()
	ds, err := godal.Create(godal.GTiff, path, 4, godal.UInt16, size, size)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	sr, err := godal.NewSpatialRefFromEPSG(4326)
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	if err := ds.SetSpatialRef(sr); err != nil {
		t.Fatal(err)
	}
	if err := ds.SetGeoTransform([6]float64{west, 0.01, 0, north, 0, -0.01}); err != nil {
		t.Fatal(err)
	}
	px := make([]uint16, size*size*4)
	for i := range px {
		px[i] = v
	}
	if err := ds.Write(0, 0, px, size, size); err != nil {
		t.Fatal(err)
	}
}
