// Package render draws map images from registered products: it asks the
// registry, page by page and newest first, for the products intersecting a
// bbox and time interval until their footprints cover the map, warps each
// product's COG with GDAL into the requested grid, maps its bands to RGB by
// the browse definition, and stacks them newest on top, honouring nodata and
// alpha so that lower products show through.
package render
