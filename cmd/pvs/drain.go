package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/pvs/pvs/pkg/telemetry"
)

// drain keeps an HTTP daemon answering for a while after the first signal,
// with /readyz failing, so that the proxy in front (Traefik's health check,
// the orchestrator's endpoint list) stops sending it requests before it
// closes its listener: a rolling update then drops no request.
type drain struct {
	delay    time.Duration
	stopping atomic.Bool
}

func (d *drain) add(cmd *cobra.Command) {
	def, _ := time.ParseDuration(os.Getenv("PVS_SHUTDOWN_DRAIN"))
	cmd.Flags().DurationVar(&d.delay, "drain", def, "keep serving this long after SIGTERM, unready, before closing (env PVS_SHUTDOWN_DRAIN)")
}

// check fails once draining has begun.
func (d *drain) check() telemetry.Check {
	return telemetry.Check{Name: "shutdown", Run: func(context.Context) error {
		if d.stopping.Load() {
			return errors.New("shutting down")
		}
		return nil
	}}
}

// context is ctx ended delay after ctx itself ends; stop releases it.
func (d *drain) context(ctx context.Context, log *slog.Logger) (context.Context, context.CancelFunc) {
	if d.delay <= 0 {
		return ctx, func() {}
	}
	out, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		select {
		case <-out.Done():
			return
		case <-ctx.Done():
		}
		d.stopping.Store(true)
		log.Info("draining before shutdown", "for", d.delay.String())
		select {
		case <-out.Done():
		case <-time.After(d.delay):
		}
		cancel()
	}()
	return out, cancel
}
