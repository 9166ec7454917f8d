package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"
)

// Options are the server's timeouts. A zero field takes its default.
type Options struct {
	// ReadHeaderTimeout bounds reading a request's headers, so that a
	// client sending them a byte at a time cannot hold a connection.
	// Default 5s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included (the OGC
	// requests served are GETs). Default 30s.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of a request's headers to
	// the end of its response: it must let the largest WCS GetCoverage
	// reach a slow client. Default 10m.
	WriteTimeout time.Duration
	// IdleTimeout bounds how long a kept-alive connection waits for its
	// next request. Default 2m.
	IdleTimeout time.Duration
	// ShutdownGrace is how long requests in flight get to finish once the
	// context is done; then their connections are closed. Default 30s.
	ShutdownGrace time.Duration
}

func (o Options) withDefaults() (Options, error) {
	for _, f := range []struct {
		v    *time.Duration
		name string
		def  time.Duration
	}{
		{&o.ReadHeaderTimeout, "ReadHeaderTimeout", 5 * time.Second},
		{&o.ReadTimeout, "ReadTimeout", 30 * time.Second},
		{&o.WriteTimeout, "WriteTimeout", 10 * time.Minute},
		{&o.IdleTimeout, "IdleTimeout", 2 * time.Minute},
		{&o.ShutdownGrace, "ShutdownGrace", 30 * time.Second},
	} {
		switch {
		case *f.v < 0:
			// net/http reads a negative timeout as none at all.
			return o, fmt.Errorf("httpserver: %s is %s; it must be positive, or zero for the default %s", f.name, *f.v, f.def)
		case *f.v == 0:
			*f.v = f.def
		}
	}
	return o, nil
}

// Serve listens on addr and serves handler until ctx is done, then shuts
// down gracefully (see ServeListener).
func Serve(ctx context.Context, log *slog.Logger, addr string, handler http.Handler, o Options) error {
	if _, err := o.withDefaults(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ServeListener(ctx, log, ln, handler, o)
}

// ServeListener serves handler on ln until ctx is done. Then it stops
// accepting connections, lets requests in flight finish for
// o.ShutdownGrace, closes the connections of those that did not, and
// returns. Requests run under contexts of their own, not ctx: a signal
// does not cut a GetMap or a download in half.
func ServeListener(ctx context.Context, log *slog.Logger, ln net.Listener, handler http.Handler, o Options) error {
	o, err := o.withDefaults()
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Handlers stuck past the grace (in a cgo call, say) cannot be
	// stopped; closing their connections cancels their contexts and frees
	// the clients.
	return run(ctx, log, ln, o.ShutdownGrace, srv.Serve, srv.Shutdown, func() { srv.Close() })
}

// run serves ln until ctx is done, then shuts down with grace to finish
// the requests in flight and calls cutOff on those that did not.
func run(ctx context.Context, log *slog.Logger, ln net.Listener, grace time.Duration,
	serve func(net.Listener) error, shutdown func(context.Context) error, cutOff func()) error {
	addr := ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- serve(ln) }()
	log.Info("listening", "addr", addr)
	select {
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", addr, err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "addr", addr, "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := shutdown(sctx)
	<-served // the server's "closed", now that the shutdown has begun
	if err != nil {
		cutOff()
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("shut down %s: requests still in flight after %s were cut off", addr, grace)
		}
		return fmt.Errorf("shut down %s: %w", addr, err)
	}
	return nil
}

// corkConn holds back the partial segments of c until the returned
// function is called (TCP_CORK): a response's header and the start of its
// body, written by separate calls (a header, then sendfile), leave in the
// same packets, as nginx's tcp_nopush does. On a nil connection, or when
// the option cannot be set, it does nothing.
func corkConn(c *net.TCPConn) (uncork func()) {
	if c == nil {
		return func() {}
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return func() {}
	}
	set := func(v int) (err error) {
		if cerr := rc.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, v) }); cerr != nil {
			return cerr
		}
		return err
	}
	if set(1) != nil {
		return func() {}
	}
	return func() { set(0) }
}
