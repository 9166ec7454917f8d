// Package cog converts rasters to Cloud-Optimized GeoTIFFs with GDAL (through
// godal) and describes rasters: size, bands, CRS, geotransform and the
// footprint in EPSG:4326. Inputs are untrusted: an InputPolicy decides which
// GDAL drivers may open them, which files they may make GDAL read and how
// large they may be, before a pixel is read; a Subprocess converts in a child
// process with no network and no credentials.
package cog
