package preprocess

import (
	"bytes"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/pvs/pvs/pkg/config"
)

// rasterSignatures are the first bytes by which GDAL's plain raster drivers
// (rasterDrivers) know their files: classic and BigTIFF in both byte
// orders, the JP2 box signature and a raw J2K codestream. The file is not
// opened with GDAL here: a package is untrusted, and GDAL reads it only in
// the converter, under the input policy.
var rasterSignatures = [][]byte{
	[]byte("II*\x00"), []byte("MM\x00*"), []byte("II+\x00"), []byte("MM\x00+"),
	[]byte("\x00\x00\x00\x0cjP  \r\n\x87\n"), []byte("\xff\x4f\xff\x51"),
}

// isRaster tells whether the file starts like a GeoTIFF or JPEG2000 file.
func isRaster(file string) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 12)
	n, _ := io.ReadFull(f, head)
	for _, sig := range rasterSignatures {
		if bytes.HasPrefix(head[:n], sig) {
			return true
		}
	}
	return false
}

// namedRaster returns the package's one file when the item names that file
// itself and it is a raster by its content: whoever made it chose its
// extension (*.cog, *.tiff.part, none), and GDAL goes by the content, so
// the data globs, which go by names, do not decide. It is taken only by a
// product type of plain rasters (no header or band files), and only when no
// product type of the collection claims the file by its name.
func namedRaster(c config.Collection, pt config.ProductType, src string, files []string) string {
	if len(files) != 1 || filepath.Base(files[0]) != path.Base(src) || len(pt.BandFiles) > 0 {
		return ""
	}
	for _, g := range pt.DataGlobs {
		if headerDriver(g) != "" {
			return ""
		}
	}
	for _, other := range c.ProductTypes {
		if firstMatch(files, other.DataGlobs) != "" || firstMatch(files, other.BandFiles) != "" {
			return ""
		}
	}
	if !isRaster(files[0]) {
		return ""
	}
	return files[0]
}
