// Package registry is the PostGIS product catalogue: embedded, versioned
// migrations, idempotent registration and deregistration of products with
// their coverages, collection summaries, and the spatio-temporal queries the
// renderer, cache and seeder run.
package registry
