package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/registry"
	"github.com/pvs/pvs/pkg/telemetry"
)

// depthTimeout bounds the Redis reads of one scrape: a scrape that waits
// on a hung Redis would itself time out and lose every other metric.
const depthTimeout = 2 * time.Second

func redisCheck(rdb redis.UniversalClient) telemetry.Check {
	return telemetry.Check{Name: "redis", Run: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }}
}

// pinger is a database pool (registry.Registry.Pool).
type pinger interface {
	Ping(ctx context.Context) error
}

func postgisCheck(db pinger) telemetry.Check {
	return telemetry.Check{Name: "postgis", Run: db.Ping}
}

// workerMetrics are the metrics of a worker daemon: every stage's backlog,
// so that any one worker's /metrics shows the whole pipeline.
func workerMetrics(e *env, daemon string) *telemetry.Metrics {
	m := telemetry.New(daemon, version)
	m.WatchQueues(e.q, depthTimeout)
	return m
}

// workerHealth is alive while every consumer's loop turns, and ready while
// Redis and, when the worker uses it (reg not nil), PostGIS answer.
func workerHealth(e *env, reg *registry.Registry, consumers ...*queue.Consumer) *telemetry.Health {
	h := &telemetry.Health{Ready: []telemetry.Check{redisCheck(e.rdb)}}
	if reg != nil {
		h.Ready = append(h.Ready, postgisCheck(reg.Pool()))
	}
	for _, c := range consumers {
		h.Live = append(h.Live, telemetry.Check{Name: c.Stage().Name + " consumer",
			Run: func(context.Context) error { return c.Alive() }})
	}
	return h
}

// runWorker runs the consumers, with the probes and metrics on addr when
// it is set. The listener opens before the work starts, so that a taken
// port fails the daemon at once, and it closes only when run has returned:
// the probes keep answering through the shutdown grace, and no goroutine
// outlives the daemon.
func runWorker(ctx context.Context, log *slog.Logger, addr string, h *telemetry.Health, m *telemetry.Metrics, run func(context.Context) error) error {
	if addr == "" {
		return run(ctx)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--health-listen %s: %w", addr, err)
	}
	return runWorkerOn(ctx, log, ln, h, m, run)
}

// runWorkerOn is runWorker on a listener already open, which it closes.
func runWorkerOn(ctx context.Context, log *slog.Logger, ln net.Listener, h *telemetry.Health, m *telemetry.Metrics, run func(context.Context) error) error {
	mux := http.NewServeMux()
	h.Mount(mux, m.Handler())
	srvCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	served := make(chan error, 1)
	go func() { served <- serveOn(srvCtx, log, ln, mux) }()
	err := run(ctx)
	stop()
	if serr := <-served; serr != nil {
		err = errors.Join(err, fmt.Errorf("health listener: %w", serr))
	}
	return err
}

// serviceMux puts the service's routes behind the request metrics, and the
// probes and metrics beside them: probes every few seconds would drown the
// requests of the clients.
func serviceMux(service string, app http.Handler, h *telemetry.Health, m *telemetry.Metrics) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/", m.HTTP(service, app))
	h.Mount(mux, m.Handler())
	return mux
}
