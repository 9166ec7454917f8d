// Package preprocess turns a product package from the source store into a
// preprocessed product in the output store: it unpacks the package safely in
// a private work directory, recognises the product type, reads the metadata,
// converts the raster to a COG and uploads COG and normalised metadata under
// <collection>/<identifier>/, which it then hands to the registrar.
package preprocess
