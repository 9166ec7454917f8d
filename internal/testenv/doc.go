// Package testenv gives integration tests isolated access to the real
// services that `make test` starts: a Redis key prefix, a fresh PostGIS
// database and an S3 bucket per test. A test that must kill or restart a
// service starts a private instance instead (StartRedis, StartPostgres),
// never touching the shared ones. Without PVS_INTEGRATION=1 the
// integration tests are skipped; with it, an unreachable service fails them.
package testenv
