// Package crs names the coordinate reference systems pvs serves, parses
// the ways OGC requests spell them, tells a box a map may ask for from an
// absurd one, and transforms boxes and points between CRSs with PROJ
// (through GDAL), clamping boxes to where each CRS is valid first.
package crs
