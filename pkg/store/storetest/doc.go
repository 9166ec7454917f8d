// Package storetest is the conformance suite every store.Store backend must
// pass, so that the local and S3 stores behave identically.
package storetest
