package render

/*
#cgo pkg-config: gdal
#include <gdal.h>
*/
import "C"

// gdalCacheMax is the budget of GDAL's block cache, in bytes.
func gdalCacheMax() int64 { return int64(C.GDALGetCacheMax64()) }

// setGDALCacheMax sets it.
func setGDALCacheMax(n int64) { C.GDALSetCacheMax64(C.GIntBig(n)) }
