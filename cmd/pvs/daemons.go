package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/airbusgeo/godal"
	"github.com/spf13/cobra"
	"github.com/valyala/fasthttp"

	"github.com/pvs/pvs/pkg/backend"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/httpserver"
	"github.com/pvs/pvs/pkg/invalidation"
	"github.com/pvs/pvs/pkg/layer"
	"github.com/pvs/pvs/pkg/preprocess"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/register"
	"github.com/pvs/pvs/pkg/registry"
	"github.com/pvs/pvs/pkg/render"
	"github.com/pvs/pvs/pkg/seed"
	"github.com/pvs/pvs/pkg/sysmem"
	"github.com/pvs/pvs/pkg/telemetry"
	"github.com/pvs/pvs/pkg/tile"
	"github.com/pvs/pvs/pkg/tilecache"
	"github.com/pvs/pvs/pkg/wmts"
)

type workerFlags struct {
	workerID     string
	concurrency  int
	heartbeat    time.Duration
	deadAfter    time.Duration
	grace        time.Duration
	healthListen string
	pressure     *telemetry.Pressure
}

func (w *workerFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&w.workerID, "worker-id", envOr("PVS_WORKER_ID", ""),
		"worker id, unique among live workers; a worker started again under its id returns its previous life's items at once (default host-pid-random; env PVS_WORKER_ID)")
	cmd.Flags().IntVar(&w.concurrency, "concurrency", 0, "items worked on at once (default from config, else 1)")
	cmd.Flags().DurationVar(&w.heartbeat, "heartbeat", 5*time.Second, "how often the worker says it is alive")
	cmd.Flags().DurationVar(&w.deadAfter, "dead-after", 30*time.Second, "a worker silent this long (by Redis's clock) is dead and its items are redelivered; at least 3 heartbeats")
	cmd.Flags().DurationVar(&w.grace, "shutdown-grace", 30*time.Second, "time in-flight items get to finish on shutdown")
	cmd.Flags().StringVar(&w.healthListen, "health-listen", envOr("PVS_HEALTH_LISTEN", ""),
		"address of the /healthz, /readyz and /metrics listener, e.g. :9100; empty: none (env PVS_HEALTH_LISTEN)")
}

func (w *workerFlags) options(log *slog.Logger, concurrency int, obs queue.Observer) queue.ConsumerOptions {
	if w.concurrency > 0 {
		concurrency = w.concurrency
	}
	if w.pressure == nil {
		w.pressure = &telemetry.Pressure{}
	}
	return queue.ConsumerOptions{WorkerID: w.workerID, Concurrency: concurrency, Heartbeat: w.heartbeat, DeadAfter: w.deadAfter,
		ShutdownGrace: w.grace, Logger: log, Observer: telemetry.Observers{obs, w.pressure}, Hold: w.pressure.Hold}
}

// watch adds the worker's failure pressure (a degraded worker takes no new
// items for a while) to its readiness and its metrics.
// The state is also recorded in Redis, where `pvs status` shows it.
func (w *workerFlags) watch(e *env, worker string, h *telemetry.Health, m *telemetry.Metrics) {
	h.Ready = append(h.Ready, telemetry.Check{Name: "failure pressure", Run: func(context.Context) error { return w.pressure.Hold() }})
	m.WatchPressure(w.pressure)
	w.pressure.OnDegraded = func(reason string, hold time.Duration) {
		e.log.Warn("degraded: taking no new items", "reason", reason, "for", hold.String())
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.q.MarkDegraded(ctx, worker, reason, hold); err != nil {
			e.log.Warn("record degraded state", "err", err)
		}
	}
}

func newPreprocessorCmd(g *globals) *cobra.Command {
	var wf workerFlags
	cmd := &cobra.Command{
		Use:   "preprocessor",
		Short: "Convert product packages from preprocess_queue and preprocess-md_queue to COGs",
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.connect("preprocessor", true)
			if err != nil {
				return err
			}
			defer e.close()
			initGDAL()
			src, err := openStore(e.cfg, e.cfg.Storage.Source)
			if err != nil {
				return err
			}
			out, err := openStore(e.cfg, e.cfg.Storage.Output)
			if err != nil {
				return err
			}
			p := &preprocess.Preprocessor{Source: src, Output: out, Next: e.q, Collection: e.cfg.Collection,
				Options: e.cfg.Preprocessor, Limits: preprocess.Limits{MaxBytes: e.cfg.Preprocessor.MaxPackageBytes, MaxEntries: 100000}, Log: e.log}
			if !e.cfg.Preprocessor.InProcess {
				self, err := os.Executable()
				if err != nil {
					return fmt.Errorf("find own binary for conversions: %w", err)
				}
				p.Converter = cog.Subprocess{Args: []string{self, "cog-convert"},
					Env: []string{fmt.Sprintf("GDAL_CACHEMAX=%d", e.cfg.Preprocessor.GDALCacheMB)}}
			}
			m := workerMetrics(e, "preprocessor")
			if e.cfg.Preprocessor.InProcess {
				m.WatchGDAL() // else GDAL's cache is the conversion processes'
			}
			c := e.q.NewConsumer(queue.Preprocess, wf.options(e.log, e.cfg.Preprocessor.Concurrency, m.QueueObserver(queue.Preprocess)))
			h := workerHealth(e, nil, c)
			wf.watch(e, c.WorkerID(), h, m)
			e.log.Info("preprocessor started", "worker", c.WorkerID(), "source", src.URL(), "output", out.URL())
			return runWorker(cmd.Context(), e.log, wf.healthListen, h, m, func(ctx context.Context) error {
				return c.Run(ctx, p.Handle)
			})
		},
	}
	wf.add(cmd)
	return cmd
}

func newRegistrar(ctx context.Context, e *env) (*register.Registrar, *registry.Registry, error) {
	initGDAL()
	out, err := openStore(e.cfg, e.cfg.Storage.Output)
	if err != nil {
		return nil, nil, err
	}
	reg, err := openRegistry(ctx, e.cfg, e.log)
	if err != nil {
		return nil, nil, err
	}
	r := &register.Registrar{Output: out, Catalogue: reg, Collection: e.cfg.Collection,
		Replace: *e.cfg.Registrar.Replace, DeleteObjects: *e.cfg.Registrar.DeleteObjects,
		Events:   invalidation.Publisher{RDB: e.rdb, Prefix: e.cfg.Redis.Prefix},
		MaxBatch: e.cfg.Registrar.Concurrency, BatchDelay: e.cfg.Registrar.BatchDelay, Log: e.log}
	if *e.cfg.Registrar.Seed {
		r.Seed = e.q
	}
	return r, reg, nil
}

func newRegistrarCmd(g *globals) *cobra.Command {
	var wf workerFlags
	cmd := &cobra.Command{
		Use:   "registrar",
		Short: "Register products from register_queue in PostGIS, deregister those from deregister_queue",
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.connect("registrar", true)
			if err != nil {
				return err
			}
			defer e.close()
			r, reg, err := newRegistrar(cmd.Context(), e)
			if err != nil {
				return err
			}
			defer reg.Close()
			m := workerMetrics(e, "registrar")
			m.WatchGDAL()
			obs := m.QueueObserver(queue.Register, queue.Deregister)
			opts := wf.options(e.log, e.cfg.Registrar.Concurrency, obs)
			c := e.q.NewConsumer(queue.Register, opts)
			d := e.q.NewConsumer(queue.Deregister, wf.options(e.log, 1, obs))
			h := workerHealth(e, reg, c, d)
			wf.watch(e, c.WorkerID(), h, m)
			e.log.Info("registrar started", "worker", c.WorkerID(), "output", r.Output.URL(), "concurrency", opts.Concurrency)
			return runWorker(cmd.Context(), e.log, wf.healthListen, h, m, func(ctx context.Context) error {
				errc := make(chan error, 2)
				go func() { errc <- c.Run(ctx, r.Handle) }()
				go func() { errc <- d.Run(ctx, r.HandleDeregister) }()
				return errors.Join(<-errc, <-errc)
			})
		},
	}
	wf.add(cmd)
	return cmd
}

// rendererTransport reaches the renderer from the cache and the seeder:
// bounded dials and waits, so that a renderer that hangs costs a request
// its timeout, not a connection forever.
var rendererTransport = &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	MaxIdleConnsPerHost:   64,
	IdleConnTimeout:       90 * time.Second,
	ResponseHeaderTimeout: 2 * time.Minute,
}

var rendererClient = &http.Client{Transport: rendererTransport, Timeout: 3 * time.Minute}

func newTiler(e *env) (*tilecache.Tiler, error) {
	cs, err := openStore(e.cfg, e.cfg.Storage.Cache)
	if err != nil {
		return nil, err
	}
	return &tilecache.Tiler{
		Cache:      tilecache.StoreCache{Store: cs},
		Source:     tilecache.WMSSource{URL: e.cfg.Cache.RendererURL, Client: rendererClient},
		Index:      &tilecache.RedisIndex{RDB: e.rdb, Prefix: e.cfg.Redis.Prefix},
		Generation: invalidation.Publisher{RDB: e.rdb, Prefix: e.cfg.Redis.Prefix}.Generation,
	}, nil
}

// layerNames lists the layers of the configured collection.
func layerNames(c config.Collection) func(string) []string {
	return func(collection string) []string {
		if collection != c.Name {
			return nil
		}
		names := []string{c.Name, c.Name + layer.Sep + layer.Outlines, c.Name + layer.Sep + layer.Outlined}
		for _, b := range c.Browses {
			names = append(names, c.Name+layer.Sep+b.Name)
		}
		return names
	}
}

func newSeeder(ctx context.Context, e *env) (*seed.Seeder, *registry.Registry, error) {
	reg, err := openRegistry(ctx, e.cfg, e.log)
	if err != nil {
		return nil, nil, err
	}
	tiler, err := newTiler(e)
	if err != nil {
		reg.Close()
		return nil, nil, err
	}
	grid, ok := tile.Lookup(e.cfg.Seeder.Grid)
	if !ok {
		reg.Close()
		return nil, nil, fmt.Errorf("config seeder.grid: unknown grid %q", e.cfg.Seeder.Grid)
	}
	return &seed.Seeder{Products: reg, Tiles: tiler, Progress: seed.RedisProgress{RDB: e.rdb, Prefix: e.cfg.Redis.Prefix},
		Collection: e.cfg.Collection.Name, Layers: e.cfg.Seeder.Layers, Grid: grid,
		MinZoom: e.cfg.Seeder.MinZoom, MaxZoom: e.cfg.Seeder.MaxZoom, Format: e.cfg.Cache.Format,
		MetaTile: e.cfg.Seeder.MetaTile, Concurrency: e.cfg.Seeder.Concurrency, Log: e.log}, reg, nil
}

func newSeederCmd(g *globals) *cobra.Command {
	var wf workerFlags
	cmd := &cobra.Command{
		Use:   "seeder",
		Short: "Seed the tile cache for intervals from seed_queue",
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.connect("seeder", true)
			if err != nil {
				return err
			}
			defer e.close()
			s, reg, err := newSeeder(cmd.Context(), e)
			if err != nil {
				return err
			}
			defer reg.Close()
			m := workerMetrics(e, "seeder")
			s.Observer = m
			c := e.q.NewConsumer(queue.Seed, wf.options(e.log, 1, m.QueueObserver(queue.Seed)))
			h := workerHealth(e, reg, c)
			wf.watch(e, c.WorkerID(), h, m)
			e.log.Info("seeder started", "worker", c.WorkerID(), "grid", s.Grid.Name,
				"zoom", fmt.Sprintf("%d-%d", s.MinZoom, s.MaxZoom), "metatile", s.MetaTile, "renderer", e.cfg.Cache.RendererURL)
			return runWorker(cmd.Context(), e.log, wf.healthListen, h, m, func(ctx context.Context) error {
				return c.Run(ctx, s.Handle)
			})
		},
	}
	wf.add(cmd)
	return cmd
}

func newRendererCmd(g *globals) *cobra.Command {
	var listen string
	var dr drain
	var stuckAfter time.Duration
	cmd := &cobra.Command{
		Use:   "renderer",
		Short: "Serve WMS, WCS and OpenSearch over the registered products",
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.connect("renderer", true)
			if err != nil {
				return err
			}
			defer e.close()
			// Bounded block cache: the pooled datasets keep their decoded
			// blocks in it between requests.
			// A quarter of the memory the process may use (its container's
			// limit, else the machine's): decoded blocks reused across
			// requests are what makes large scenes fast; GDAL_CACHEMAX wins.
			if os.Getenv("GDAL_CACHEMAX") == "" {
				mb := sysmem.Share(0.25, 192, 16384)
				os.Setenv("GDAL_CACHEMAX", strconv.FormatInt(mb, 10))
				limit, from := sysmem.Limit()
				e.log.Info("GDAL block cache sized from memory", "cache_mb", mb, "limit_mb", limit>>20, "from", from)
			}
			initGDAL()
			// Most of that budget goes to the decoded blocks every handle of
			// a file shares; GDAL keeps the rest.
			blocks := render.SharedBlocks()
			_, blockMax, _, _ := blocks.Stats()
			e.log.Info("shared block cache of the open COGs", "block_cache_mb", blockMax>>20)
			if listen != "" {
				e.cfg.Renderer.Listen = listen
			}
			out, err := openStore(e.cfg, e.cfg.Storage.Output)
			if err != nil {
				return err
			}
			reg, err := openRegistry(cmd.Context(), e.cfg, e.log)
			if err != nil {
				return err
			}
			defer reg.Close()
			b := backend.OGC{
				Catalog: layer.Catalog{Extents: backend.Extents{Products: reg}, Collections: []config.Collection{e.cfg.Collection}},
				Renderer: &render.Renderer{Products: reg, Objects: out, MaxProducts: e.cfg.Renderer.MaxProducts, Log: e.log,
					Pool: &render.Pool{Max: e.cfg.Renderer.OpenDatasets, Blocks: blocks, Open: func(path string) (*godal.Dataset, error) {
						return cog.Open(path, godal.RasterOnly(), godal.ErrLogger(cog.Errors(e.log)))
					}}},
				Products: reg,
			}
			app := backend.RendererApp(e.cfg, b, e.log)
			m := telemetry.New("renderer", version)
			m.WatchGDAL()
			m.WatchBlocks(blocks.Stats)
			// The renderer needs no Redis to draw: only the catalogue.
			// A draw stuck in GDAL or PROJ cannot be cancelled: past
			// stuckAfter the probes fail so that the orchestrator replaces
			// the process.
			wd := &httpserver.Watchdog{Stuck: stuckAfter}
			stuck := telemetry.Check{Name: "watchdog", Run: func(context.Context) error { return wd.Check() }}
			health := &telemetry.Health{Live: []telemetry.Check{stuck}, Ready: []telemetry.Check{postgisCheck(reg.Pool()), stuck, dr.check()}}
			ctx, stop := dr.context(cmd.Context(), e.log)
			defer stop()
			return serve(ctx, e.log, e.cfg.Renderer.Listen, serviceMux("renderer", httpserver.Limit(e.cfg.Renderer.MaxRequests, wd.Wrap(app)), health, m))
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (default renderer.listen)")
	cmd.Flags().DurationVar(&stuckAfter, "stuck-after", 2*time.Minute, "a request running longer fails /healthz and /readyz (a draw stuck in GDAL cannot be cancelled)")
	dr.add(cmd)
	return cmd
}

func newCacheCmd(g *globals) *cobra.Command {
	var listen string
	var dr drain
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Serve WMTS tiles from the tile cache, rendering misses through the renderer",
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.connect("cache", true)
			if err != nil {
				return err
			}
			defer e.close()
			if listen != "" {
				e.cfg.Cache.Listen = listen
			}
			reg, err := openRegistry(cmd.Context(), e.cfg, e.log)
			if err != nil {
				return err
			}
			defer reg.Close()
			tiler, err := newTiler(e)
			if err != nil {
				return err
			}
			tiler.Keep = tilecache.TimeKeys{Intervals: backend.Intervals{Products: reg}}.Keep
			if e.cfg.Cache.MemoryMB > 0 {
				tiler.Cache = &tilecache.Hot{Cache: tiler.Cache, MaxBytes: e.cfg.Cache.MemoryMB << 20}
			}
			h := &wmts.Handler{Tiles: tiler, Info: tilecache.WMSSource{URL: e.cfg.Cache.RendererURL, Client: rendererClient}, Prefix: "/wmts", PublicURL: e.cfg.Cache.PublicURL, MaxAge: 3600, Log: e.log,
				Layers: &layer.Cached{TTL: 5 * time.Second,
					Lister: layer.Catalog{Extents: backend.Extents{Products: reg}, Collections: []config.Collection{e.cfg.Collection}}}}
			// WMS requests that are not one cached tile go to the renderer.
			renderer, err := url.Parse(e.cfg.Cache.RendererURL)
			if err != nil {
				return fmt.Errorf("cache.renderer_url: %w", err)
			}
			h.Fallback = &httputil.ReverseProxy{Transport: rendererTransport, Rewrite: func(pr *httputil.ProxyRequest) {
				pr.Out.URL.Scheme, pr.Out.URL.Host, pr.Out.URL.Path = renderer.Scheme, renderer.Host, renderer.Path
				pr.Out.Host = renderer.Host
			}}
			// Catalogue changes drop exactly the tiles they touch.
			inv := &tilecache.Invalidator{Cache: tiler.Cache, Index: tiler.Index, LayersOf: layerNames(e.cfg.Collection), Log: e.log}
			host, _ := os.Hostname()
			followCtx, stopFollow := context.WithCancel(cmd.Context())
			followed := make(chan error, 1)
			go func() {
				followed <- inv.Follow(followCtx, e.rdb, e.cfg.Redis.Prefix, fmt.Sprintf("%s-%d", host, os.Getpid()))
			}()
			defer func() { stopFollow(); <-followed }()
			app := http.NewServeMux()
			app.Handle("/wmts", h)
			app.Handle("/wmts/", h)
			m := telemetry.New("cache", version)
			health := &telemetry.Health{Ready: []telemetry.Check{redisCheck(e.rdb), postgisCheck(reg.Pool()), dr.check()}}
			ctx, stop := dr.context(cmd.Context(), e.log)
			defer stop()
			// Tile hits are answered on fasthttp's own path; the rest
			// through net/http's handlers.
			hit := func(c *fasthttp.RequestCtx) bool {
				t0 := time.Now()
				protocol, op, ok := h.ServeHit(c)
				if ok {
					m.Observe("cache", protocol, op, c.Response.StatusCode(), time.Since(t0), "HIT")
				}
				return ok
			}
			ln, err := net.Listen("tcp", e.cfg.Cache.Listen)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", e.cfg.Cache.Listen, err)
			}
			return httpserver.ServeFast(ctx, e.log, ln, hit, serviceMux("cache", app, health, m), serverOptions)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (default cache.listen)")
	dr.add(cmd)
	return cmd
}

// serve runs an HTTP server with every timeout set until ctx ends, then
// shuts it down gracefully.
func serve(ctx context.Context, log *slog.Logger, addr string, h http.Handler) error {
	return httpserver.Serve(ctx, log, addr, h, serverOptions)
}

// serverOptions are the daemons' HTTP timeouts.
var serverOptions = httpserver.Options{ShutdownGrace: 15 * time.Second}

// serveOn is serve on a listener already open.
func serveOn(ctx context.Context, log *slog.Logger, ln net.Listener, h http.Handler) error {
	return httpserver.ServeListener(ctx, log, ln, h, serverOptions)
}
