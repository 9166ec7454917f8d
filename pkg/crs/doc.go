// Package crs names the coordinate reference systems pvs serves and parses
// the ways OGC requests spell them. It is pure Go: transformations live with
// GDAL in the render package.
package crs
