// Package telemetry is what the daemons tell their operators: Prometheus
// metrics (queues, items, HTTP requests, tile cache, seeding, GDAL's block
// cache) on a registry of their own, the /healthz and /readyz probes, and
// the client side of a probe for container health checks.
package telemetry
