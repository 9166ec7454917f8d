// Package wms serves OGC WMS 1.1.1 and 1.3.0 (GetCapabilities, GetMap,
// GetFeatureInfo, and the SLD GetLegendGraphic) over a Backend that lists
// layers and draws images. Every client error is answered with an OGC
// exception in the requested EXCEPTIONS format.
package wms
