// Package period parses and formats the time values of the OGC interfaces
// and of seed_queue items: an ISO 8601 instant or a start/end interval.
package period
