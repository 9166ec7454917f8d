// Package opensearch serves OpenSearch 1.1 with the Geo, Time and EO
// extensions over a collection's products: a description document, and
// results as Atom and GeoJSON whose links point to each product's WMS and
// WCS.
package opensearch
