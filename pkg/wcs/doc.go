// Package wcs serves OGC WCS 2.0.1 (KVP over HTTP GET) over registered
// products: GetCapabilities, DescribeCoverage and GetCoverage with trim
// and slice subsets in the native CRS or another EPSG CRS, scaling, range
// subsetting, interpolation and output CRS, as GeoTIFF.
package wcs
