// Package store is the object-storage abstraction shared by every daemon:
// product packages are read from it, COGs and metadata written to it, and
// tiles cached in it. Backends live in subpackages named like their URL
// scheme (file, s3); all of them pass the storetest conformance suite.
package store
