package preprocess

import (
	"slices"
	"testing"

	"github.com/pvs/pvs/pkg/config"
)

func TestInputDrivers(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		pt   config.ProductType
		want []string
	}{
		{"default globs", config.ProductType{DataGlobs: []string{"*.tif", "*.TIF", "*.tiff", "*.jp2"}}, []string{"GTiff", "JP2OpenJPEG"}},
		{"Sentinel-2 band files", config.ProductType{BandFiles: []string{"*_B04.jp2", "*_B03.jp2"}}, []string{"GTiff", "JP2OpenJPEG"}},
		{"SPOT DIMAP v1", config.ProductType{DataGlobs: []string{"METADATA.DIM"}}, []string{"GTiff", "JP2OpenJPEG", "DIMAP"}},
		{"Pleiades DIMAP v2", config.ProductType{DataGlobs: []string{"METADATA.DIM", "DIM_*.XML"}}, []string{"GTiff", "JP2OpenJPEG", "DIMAP"}},
		{"SAFE header", config.ProductType{DataGlobs: []string{"MTD_MSIL1C.xml"}}, []string{"GTiff", "JP2OpenJPEG", "SENTINEL2"}},
		{"a VRT glob gets no VRT", config.ProductType{DataGlobs: []string{"*.vrt", "*.xml"}}, []string{"GTiff", "JP2OpenJPEG"}},
	} {
		if got := InputDrivers(c.pt); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
