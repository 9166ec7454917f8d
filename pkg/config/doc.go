// Package config is the typed configuration tree of a pvs deployment: one
// YAML file per collection, with ${VAR} and ${VAR:-default} expansion, then
// environment overrides for connection settings. Every struct has
// SetDefaults and Validate; Validate names the offending field.
package config
