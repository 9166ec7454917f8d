package preprocess

import (
	"path"
	"slices"
	"strings"

	"github.com/pvs/pvs/pkg/config"
)

// rasterDrivers read one file each, and every product type may use them:
// GeoTIFF (COGs included) and JPEG2000, whatever a file's extension says.
var rasterDrivers = []string{"GTiff", "JP2OpenJPEG"}

// InputDrivers returns the GDAL drivers allowed to open a product type's
// rasters: the plain raster drivers, plus the product-header drivers that
// its data_globs name:
//
//	*.dim, DIM_*.xml     DIMAP (SPOT, Pleiades)
//	MTD_MSIL*.xml        SENTINEL2 (the SAFE product header)
//
// A package's files are named by whoever made it; GDAL goes by their
// content. Header drivers open the files a header names, so only the types
// built on them get them; VRT, WMS, WMTS and the other drivers that read
// what a file names rather than the file are never allowed (see
// cog.NeverDrivers).
func InputDrivers(pt config.ProductType) []string {
	out := slices.Clone(rasterDrivers)
	for _, g := range slices.Concat(pt.DataGlobs, pt.BandFiles) {
		if d := headerDriver(g); d != "" && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

func headerDriver(glob string) string {
	name := strings.ToLower(path.Base(glob))
	ext := path.Ext(name)
	switch {
	case ext == ".dim" || (strings.HasPrefix(name, "dim_") && ext == ".xml"):
		return "DIMAP"
	case strings.HasPrefix(name, "mtd_msil") && ext == ".xml":
		return "SENTINEL2"
	}
	return ""
}
