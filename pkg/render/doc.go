// Package render draws map images from registered products: it asks the
// registry for the products intersecting a bbox and time interval, warps each
// product's COG with GDAL into the requested grid, maps its bands to RGB by
// the browse definition, and stacks them newest on top, honouring nodata and
// alpha so that lower products show through.
package render
