package preprocess

import (
	"context"
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

// pleiadesDIM is a Pleiades MS ortho DIM_*.XML cut to what GDAL's DIMAP
// driver needs to open the product (format version, raster dimensions,
// the tile it is made of) and what the preprocessor reads.
const pleiadesDIM = `<?xml version="1.0" encoding="UTF-8"?>
<Dimap_Document>
 <Metadata_Identification>
  <METADATA_FORMAT version="2.0">DIMAP</METADATA_FORMAT>
  <METADATA_PROFILE>PHR_ORTHO</METADATA_PROFILE>
  <METADATA_SUBPROFILE>PRODUCT</METADATA_SUBPROFILE>
 </Metadata_Identification>
 <Dataset_Identification>
  <DATASET_NAME version="1.0">DS_PHR1A_201203161005426_FR1_PX_E007N43_0911_01307</DATASET_NAME>
 </Dataset_Identification>
 <Dataset_Content>
  <CLOUD_COVERAGE unit="percent">0</CLOUD_COVERAGE>
  <Dataset_Extent>
   <Vertex><LON>7.0</LON><LAT>43.2</LAT></Vertex>
   <Vertex><LON>7.2</LON><LAT>43.2</LAT></Vertex>
   <Vertex><LON>7.2</LON><LAT>43.0</LAT></Vertex>
   <Vertex><LON>7.0</LON><LAT>43.0</LAT></Vertex>
  </Dataset_Extent>
 </Dataset_Content>
 <Coordinate_Reference_System>
  <Projected_CRS><PROJECTED_CRS_CODE>urn:ogc:def:crs:EPSG::4326</PROJECTED_CRS_CODE></Projected_CRS>
 </Coordinate_Reference_System>
 <Processing_Information><Product_Settings>
  <PROCESSING_LEVEL>ORTHO</PROCESSING_LEVEL><SPECTRAL_PROCESSING>MS</SPECTRAL_PROCESSING>
 </Product_Settings></Processing_Information>
 <Raster_Data>
  <Data_Access>
   <DATA_FILE_ORGANISATION>BAND_COMPOSITE</DATA_FILE_ORGANISATION>
   <DATA_FILE_FORMAT>image/tiff</DATA_FILE_FORMAT>
   <DATA_FILE_TILES>true</DATA_FILE_TILES>
   <Data_Files>
    <Data_File tile_R="1" tile_C="1"><DATA_FILE_PATH href="IMG_PHR1A_MS_201203161005426_ORT_1_R1C1.TIF"/></Data_File>
   </Data_Files>
  </Data_Access>
  <Raster_Dimensions>
   <NROWS>20</NROWS><NCOLS>20</NCOLS><NBANDS>4</NBANDS>
   <Tile_Set><NTILES>1</NTILES><Regular_Tiling>
    <NTILES_SIZE nrows="20" ncols="20"/><NTILES_COUNT ntiles_R="1" ntiles_C="1"/>
   </Regular_Tiling></Tile_Set>
  </Raster_Dimensions>
  <Raster_Encoding><DATA_TYPE>INTEGER</DATA_TYPE><NBITS>12</NBITS><SIGN>UNSIGNED</SIGN></Raster_Encoding>
 </Raster_Data>
 <Dataset_Sources><Source_Identification>
  <SOURCE_ID>DS_PHR1A_201203161005426_FR1_PX</SOURCE_ID>
  <Strip_Source>
   <MISSION>PHR</MISSION><MISSION_INDEX>1A</MISSION_INDEX><INSTRUMENT>PHR</INSTRUMENT><INSTRUMENT_INDEX>1A</INSTRUMENT_INDEX>
   <IMAGING_DATE>2012-03-16</IMAGING_DATE><IMAGING_TIME>10:05:42.6</IMAGING_TIME><BAND_MODE>MS</BAND_MODE>
  </Strip_Source>
 </Source_Identification></Dataset_Sources>
</Dimap_Document>
`

// pleiadesPackage writes a Pleiades delivery into dir: the product folder
// with its DIM_ header, an RPC_ file (also a Dimap_Document, but not the
// product's header) and one 20x20 4-band 12-bit tile in EPSG:4326, and a
// VOL_ file beside it, as the DVD layout has them.
func pleiadesPackage(t *testing.T, dir string) {
	t.Helper()
	prod := filepath.Join(dir, "IMG_PHR1A_MS_001")
	if err := os.MkdirAll(prod, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		filepath.Join(prod, "DIM_PHR1A_MS_201203161005426_ORT_1.XML"): pleiadesDIM,
		filepath.Join(prod, "RPC_PHR1A_MS_201203161005426_ORT_1.XML"): `<Dimap_Document><Metadata_Identification><METADATA_FORMAT version="2.0">DIMAP</METADATA_FORMAT></Metadata_Identification><Rational_Function_Model/></Dimap_Document>`,
		filepath.Join(dir, "VOL_PHR.XML"):                             `<Dimap_Document><Metadata_Identification><METADATA_FORMAT version="2.0">DIMAP</METADATA_FORMAT></Metadata_Identification></Dimap_Document>`,
	}
	for name, doc := range files {
		if err := os.WriteFile(name, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := godal.Create(godal.GTiff, filepath.Join(prod, "IMG_PHR1A_MS_201203161005426_ORT_1_R1C1.TIF"), 4, godal.UInt16, 20, 20)
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
	if err := ds.SetGeoTransform([6]float64{7.0, 0.01, 0, 43.2, 0, -0.01}); err != nil {
		t.Fatal(err)
	}
	px := make([]uint16, 20*20*4)
	for i := range px {
		px[i] = uint16(100 + i%4000)
	}
	if err := ds.Write(0, 0, px, 20, 20); err != nil {
		t.Fatal(err)
	}
}

// vhrTypes are config/vhr18.yaml's first types: the catch-all that comes
// first, and the Pleiades MS type, whose header GDAL opens.
var vhrTypes = []config.ProductType{
	{Name: "VHR_OPTICAL", MetadataGlobs: []string{"*.xml", "*.XML"}, DataGlobs: []string{"*.tif", "*.TIF", "*.tiff", "*.jp2"}},
	{Name: "PHR_MS___2A", MetadataGlobs: []string{"DIM_*.XML", "*.xml", "*.XML"}, DataGlobs: []string{"DIM_*.XML", "*.tif", "*.TIF", "*.tiff", "*.jp2"}},
}

func TestPleiadesDIMAPv2Package(t *testing.T) {
	cog.Init()
	p, src, out, rec := setup(t)
	p.Collection = config.Collection{Name: "VHR_IMAGE_2018", ProductTypes: vhrTypes}
	pleiadesPackage(t, filepath.Join(src.Root(), "in", "PHR_delivery"))
	ctx := context.Background()

	prefix, err := p.Handle(ctx, queue.Item{Queue: "preprocess_queue", Value: "in/PHR_delivery"})
	if err != nil {
		t.Fatal(err)
	}
	const id = "DS_PHR1A_201203161005426_FR1_PX_E007N43_0911_01307"
	if prefix != "VHR_IMAGE_2018/"+id {
		t.Fatalf("product %s, want VHR_IMAGE_2018/%s", prefix, id)
	}
	info, err := cog.Describe(out.GDALPath(prefix+"/"+id+".tif"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Layout != "COG" || len(info.Bands) != 4 || info.Width != 20 || info.CRS != "EPSG:4326" {
		t.Errorf("COG %s %dx%d, %d bands, %s; want a 20x20 4-band COG in EPSG:4326", info.Layout, info.Width, info.Height, len(info.Bands), info.CRS)
	}
	rc, err := out.Get(ctx, prefix+"/"+id+".xml")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	md, err := metadata.ParseXML(rc)
	if err != nil {
		t.Fatal(err)
	}
	if md.ProductType != "PHR_MS___2A" || md.BeginTime.Format("2006-01-02T15:04:05.0") != "2012-03-16T10:05:42.6" {
		t.Errorf("normalised metadata: type %q, begin %s", md.ProductType, md.BeginTime)
	}
	if len(md.Footprint) != 1 || md.Footprint[0][0][0] != [2]float64{7.0, 43.2} {
		t.Errorf("footprint %v, want Dataset_Extent's", md.Footprint)
	}
	if _, err := out.Get(ctx, prefix+"/source/DIM_PHR1A_MS_201203161005426_ORT_1.XML"); err != nil {
		t.Errorf("source header not kept: %v", err)
	}
	if len(rec.items) != 1 {
		t.Errorf("handed to the registrar: %v", rec.items)
	}
}

// A SAFE folder is a Sentinel-2 product whatever the archive is called.
func TestSAFERecognisedByContent(t *testing.T) {
	if testing.Short() {
		t.Skip("the 10980x10980 Sentinel-2 stack takes ~10 s")
	}
	cog.Init()
	safe := "../../testdata/products/sentinel2_l1c/S2B_MSIL1C_20230823T095559_N0509_R122_T34UCF_20230823T120234.SAFE"
	files := map[string]string{}
	err := filepath.WalkDir(safe, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(filepath.Dir(safe), path)
			files[rel] = path
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	p, src, out, _ := setup(t)
	p.Collection = samples
	ctx := context.Background()
	src.Put(ctx, "in/S2B_L1C.tar", strings.NewReader(string(tarFiles(t, files))))
	prefix, err := p.Handle(ctx, queue.Item{Queue: "preprocess_queue", Value: "in/S2B_L1C.tar"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Emergency/S2B_MSIL1C_20230823T095559_N0509_R122_T34UCF_20230823T120234"; prefix != want {
		t.Fatalf("product %s, want %s", prefix, want)
	}
	rc, err := out.Get(ctx, prefix+"/"+filepath.Base(prefix)+".xml")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if md, err := metadata.ParseXML(rc); err != nil || md.ProductType != "S2MSI1C" {
		t.Errorf("product type %q (%v), want S2MSI1C", md.ProductType, err)
	}
}
