// Package testenv gives integration tests isolated access to the real
// services that `make test` starts: a Redis key prefix, a fresh PostGIS
// database and an S3 bucket per test. Without PVS_INTEGRATION=1 the
// integration tests are skipped; with it, an unreachable service fails them.
package testenv
