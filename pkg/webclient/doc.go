// Package webclient serves the web client of a collection: a page, its
// bundled script and stylesheet (OpenLayers and the client, built from
// web/client by `make client` and embedded here), and the JSON document
// that tells the page where the collection's WMS, WMTS, WCS and OpenSearch
// are.
package webclient
