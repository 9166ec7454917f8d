package telemetry

/*
#cgo pkg-config: gdal
#include <gdal.h>
*/
import "C"

import "github.com/prometheus/client_golang/prometheus"

// WatchGDAL adds the use and size of GDAL's block cache, which godal does
// not expose: a renderer whose cache stays full evicts the blocks of the
// COGs it keeps open, and reads them again.
func (m *Metrics) WatchGDAL() {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "pvs_gdal_block_cache_used_bytes",
			Help: "Bytes held in GDAL's raster block cache (GDALGetCacheUsed64).",
		}, func() float64 { return float64(C.GDALGetCacheUsed64()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "pvs_gdal_block_cache_max_bytes",
			Help: "Size of GDAL's raster block cache (GDALGetCacheMax64, from GDAL_CACHEMAX).",
		}, func() float64 { return float64(C.GDALGetCacheMax64()) }),
	)
}
