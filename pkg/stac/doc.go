// Package stac serves the product catalogue as a STAC API 1.0: a landing
// page, the collections and their items, and an item search by area,
// time and identifier, beside OpenSearch. Each product is an Item whose
// assets are its COG and metadata and whose links open it in WMS and WMTS
// clients. The catalogue is read through the small Catalogue interface in
// terms of pkg/catalog, so no database driver is reached from here.
package stac
