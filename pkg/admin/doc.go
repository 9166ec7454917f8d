// Package admin is the management API of a pvs deployment (REST, JSON,
// behind a bearer token) with its OpenAPI document and the operations
// console, a page on that API. Every verb is pkg/ops's, as on the command
// line.
package admin
