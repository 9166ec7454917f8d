// Package queue implements the PVS Redis work-queue contract: LPUSH
// producers, right-side consumers, and the per-stage progress, success and
// failure sets. Consumption is at-least-once: an item is moved atomically
// into the worker's own processing list, a heartbeat marks the worker alive,
// and the items of a worker whose heartbeat lapsed are returned to the queue.
package queue
