// Package layer names what the OGC interfaces offer: for each collection a
// default layer <COLL> and one layer <COLL>__<BROWSE> per browse type, with
// extents taken from the collection's summary in the registry.
package layer
