// Package tilecache keeps rendered tiles and fills misses: a Cache stores
// tiles (over any store.Store, so on disk or in S3), a Source draws missing
// tiles (the renderer's WMS), and a Tiler joins the two with single-flight so
// that concurrent misses of one tile render it once.
package tilecache
