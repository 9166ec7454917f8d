// Package httpserver runs the daemons' HTTP servers: timeouts so that no
// slow or stalled client holds a connection for long, a shutdown that lets
// requests in flight finish, and a limit on the requests in flight, beyond
// which clients are told at once to come back a second later.
package httpserver
