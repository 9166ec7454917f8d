// Package ingest feeds the preprocessor without an operator: an HTTP
// endpoint, watchers on prefixes of the source store and harvesters of
// STAC catalogues, all pushing through one ledger that leaves alone a
// package already queued, in progress or registered. The bulk feeds of
// `pvs enqueue --from-list` and `--prefix` use the same ledger.
package ingest
