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

// BlockStats reports a block cache's bytes held, its budget, and its hits
// and misses so far (render.BlockCache.Stats).
type BlockStats func() (used, max, hits, misses int64)

// WatchBlocks adds the renderer's shared block cache: the decoded blocks
// of the open COGs, held once for every handle of a file.
func (m *Metrics) WatchBlocks(stats BlockStats) {
	get := func(i int) func() float64 {
		return func() float64 {
			u, mx, h, ms := stats()
			return float64([4]int64{u, mx, h, ms}[i])
		}
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pvs_render_block_cache_used_bytes",
			Help: "Bytes of decoded COG blocks held in the renderer's shared block cache."}, get(0)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pvs_render_block_cache_max_bytes",
			Help: "Budget of the renderer's shared block cache (most of GDAL_CACHEMAX)."}, get(1)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pvs_render_block_cache_hits_total",
			Help: "Blocks found in the renderer's shared block cache."}, get(2)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pvs_render_block_cache_misses_total",
			Help: "Blocks decoded into the renderer's shared block cache."}, get(3)),
	)
}
