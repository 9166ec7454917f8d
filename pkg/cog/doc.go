// Package cog converts rasters to Cloud-Optimized GeoTIFFs with GDAL (through
// godal) and describes rasters: size, bands, CRS, geotransform and the
// footprint in EPSG:4326.
package cog
