// Package ops holds the operator's verbs on a running pipeline: enqueue,
// status, retry, deregister, seed and truncate. The pvs command line and
// the management API (pkg/admin) both call it, so that a verb does the
// same thing whichever way it is asked for; each only presents the result.
package ops
