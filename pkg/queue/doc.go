// Package queue implements the PVS Redis work-queue contract: LPUSH
// producers, right-side consumers, and the per-stage progress, success and
// failure sets. Consumption is at-least-once and every state change of an
// item is one Lua script timed by Redis's clock: an item is taken into the
// worker's own processing list with its attempt counted and a lease
// granted, its outcome is recorded (with the next stage's items) only by
// the lease holder, and the items of a worker silent for long, by Redis's
// clock, are returned to the queue. See docs/queues.md.
package queue
