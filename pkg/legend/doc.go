// Package legend draws what a layer's colours mean: the grey ramp with its
// value range for single-band and band-expression browses, the band each
// colour channel shows for RGB browses, and the footprint line. WMS
// GetLegendGraphic serves the image; capabilities advertise its size.
package legend
