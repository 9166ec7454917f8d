package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/pvs/pvs/pkg/ingest"
	"github.com/pvs/pvs/pkg/telemetry"
)

func newIngestorCmd(g *globals) *cobra.Command {
	var listen, healthListen string
	var dr drain
	cmd := &cobra.Command{
		Use:   "ingestor",
		Short: "Queue packages posted over HTTP, appearing under watched prefixes or listed in STAC catalogues",
		Long: `Feed the preprocessor without an operator (configuration section ingestor):

  - POST /ingest takes a package path (text/plain) or a preprocess-md_queue
    document (application/json) with "Authorization: Bearer TOKEN"
    (ingestor.token, ingestor.token_file or PVS_INGESTOR_TOKEN[_FILE]);
  - watchers list prefixes of the source store and queue each complete
    new package once (their cursors are kept in Redis);
  - harvesters read static STAC catalogs or STAC API item searches and
    queue each item whose asset lies in the source store.

A package already queued, in progress or registered is left alone unless
forced (POST /ingest?force=true). See docs/ingest.md.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.connect("ingestor", true)
			if err != nil {
				return err
			}
			defer e.close()
			if listen != "" {
				e.cfg.Ingestor.Listen = listen
			}
			ic := e.cfg.Ingestor
			if ic.Listen == "" && len(ic.Watchers) == 0 && len(ic.Harvesters) == 0 {
				return errors.New("nothing to do: set ingestor.listen (or --listen), ingestor.watchers or ingestor.harvesters")
			}
			token, err := ic.ResolveToken()
			if err != nil {
				return err
			}
			if ic.Listen != "" && len(token) < 16 {
				return errors.New("ingestor.listen is set, so the endpoint needs a bearer token of at least 16 characters: set ingestor.token_file (a Docker secret), ingestor.token or PVS_INGESTOR_TOKEN")
			}
			src, err := openStore(e.cfg, e.cfg.Storage.Source)
			if err != nil {
				return err
			}
			m := workerMetrics(e, "ingestor")
			ledger := ingest.NewLedger(e.q)
			count := m.IngestCounter()
			ledger.Observe = func(origin string, o ingest.Outcome) { count(origin, o.Pushed) }
			host, _ := os.Hostname()
			in, err := ingest.New(e.cfg, ingest.Options{Ledger: ledger, Source: src, SourceLocation: e.cfg.Storage.Source,
				Owner: fmt.Sprintf("%s-%d", host, os.Getpid()), Client: ingestClient, Log: e.log})
			if err != nil {
				return err
			}
			health := &telemetry.Health{Ready: []telemetry.Check{redisCheck(e.rdb), dr.check()}}
			e.log.Info("ingestor started", "source", src.URL(), "listen", ic.Listen, "loops", in.String())

			// The loops stop at the first signal; the endpoint drains first.
			loopCtx, stopLoops := context.WithCancel(cmd.Context())
			defer stopLoops()
			loops := make(chan error, 1)
			go func() { loops <- in.Run(loopCtx) }()
			if ic.Listen == "" {
				err := runWorker(cmd.Context(), e.log, healthListen, health, m, func(context.Context) error { return <-loops })
				return err
			}
			h := &ingest.Handler{Token: token, Ledger: ledger, Source: src, Collection: e.cfg.Collection,
				CheckExists: *ic.CheckExists, MaxBytes: ic.MaxBodyBytes, Log: e.log}
			app := http.NewServeMux()
			app.Handle("/ingest", h)
			ctx, stop := dr.context(cmd.Context(), e.log)
			defer stop()
			err = serve(ctx, e.log, ic.Listen, serviceMux("ingestor", app, health, m))
			stopLoops()
			return errors.Join(err, <-loops)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", envOr("PVS_INGESTOR_LISTEN", ""), "address of the endpoint, with /healthz, /readyz and /metrics beside it (default ingestor.listen; env PVS_INGESTOR_LISTEN)")
	cmd.Flags().StringVar(&healthListen, "health-listen", envOr("PVS_HEALTH_LISTEN", ""),
		"without an endpoint: address of /healthz, /readyz and /metrics, e.g. :9100 (env PVS_HEALTH_LISTEN)")
	dr.add(cmd)
	return cmd
}

// ingestClient reads STAC catalogues and searches: bounded dials and
// waits, so that a catalogue that hangs costs a pass, not the harvester.
var ingestClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: time.Minute,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	},
	Timeout: 5 * time.Minute,
}
