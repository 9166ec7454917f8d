package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/registry"
	"github.com/pvs/pvs/pkg/store"
	"github.com/pvs/pvs/pkg/store/file"
	"github.com/pvs/pvs/pkg/store/s3"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type globals struct {
	configPath string
	logLevel   string
	logFormat  string
	cpuProfile string
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "pvs",
		Short:         "pvs, a View Server for Earth-observation products",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&g.configPath, "config", "c", envOr("PVS_CONFIG", "config/vhr18.yaml"), "collection configuration file (env PVS_CONFIG)")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", envOr("PVS_LOG_LEVEL", "info"), "debug, info, warn or error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", envOr("PVS_LOG_FORMAT", ""), "json or text (default: json for daemons, text otherwise)")
	root.PersistentFlags().StringVar(&g.cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file")
	root.PersistentFlags().MarkHidden("cpuprofile")
	var stopProfile func()
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if g.cpuProfile == "" {
			return nil
		}
		f, err := os.Create(g.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
		return nil
	}
	root.PersistentPostRun = func(*cobra.Command, []string) {
		if stopProfile != nil {
			stopProfile()
		}
	}
	root.AddCommand(
		newPreprocessorCmd(g), newRegistrarCmd(g), newSeederCmd(g), newRendererCmd(g), newCacheCmd(g), newAdminCmd(g), newIngestorCmd(g), newClientCmd(g),
		newEnqueueCmd(g), newStatusCmd(g), newRetryCmd(g), newMigrateCmd(g), newDeregisterCmd(g), newSeedCmd(g), newVersionCmd(), newCOGConvertCmd(g), newHealthcheckCmd(),
	)
	return root
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func (g *globals) logger(daemon bool) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	format := g.logFormat
	if format == "" {
		format = "text"
		if daemon {
			format = "json"
		}
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

func (g *globals) load() (*config.Config, error) {
	cfg, err := config.Load(g.configPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", g.configPath, err)
	}
	return cfg, nil
}

// env bundles what every command connects to.
type env struct {
	cfg *config.Config
	log *slog.Logger
	rdb *redis.Client
	q   *queue.Client
}

func (g *globals) connect(component string, daemon bool) (*env, error) {
	cfg, err := g.load()
	if err != nil {
		return nil, err
	}
	log := g.logger(daemon).With("component", component)
	opt, err := redis.ParseURL(cfg.Redis.URL)
	if err != nil {
		return nil, fmt.Errorf("redis.url %s: %w", config.Redact(cfg.Redis.URL), err)
	}
	rdb := redis.NewClient(opt)
	return &env{cfg: cfg, log: log, rdb: rdb, q: queue.New(rdb, cfg.Redis.Prefix)}, nil
}

func (e *env) close() { e.rdb.Close() }

// openStore opens the store at a location of the configuration and makes
// GDAL able to read it.
func openStore(cfg *config.Config, location string) (store.Store, error) {
	loc, err := store.ParseLocation(location)
	if err != nil {
		return nil, err
	}
	switch loc.Scheme {
	case "file":
		return file.New(loc.Path)
	case "s3":
		sc := s3.Config{Endpoint: cfg.S3.Endpoint, Region: cfg.S3.Region, AccessKey: cfg.S3.AccessKey,
			SecretKey: cfg.S3.SecretKey, Bucket: loc.Bucket, Prefix: loc.Prefix}
		// GDAL reads configuration options from the environment, so the
		// /vsis3/ paths the store hands out reach the same server.
		for k, v := range s3.GDALConfig(sc) {
			os.Setenv(k, v)
		}
		return s3.New(sc)
	}
	return nil, fmt.Errorf("store %s: unsupported", location)
}

func openRegistry(ctx context.Context, cfg *config.Config, log *slog.Logger) (*registry.Registry, error) {
	reg, err := registry.Open(ctx, cfg.Database.URL)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", config.Redact(cfg.Database.URL), err)
	}
	applied, err := reg.Migrate(ctx)
	if err != nil {
		reg.Close()
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("database migrated", "versions", applied)
	}
	if err := reg.EnsureCollection(ctx, cfg.Collection.Name, cfg.Collection.Title, cfg.Collection.ProductTypeNames(), cfg.Collection.BrowseNames()); err != nil {
		reg.Close()
		return nil, err
	}
	return reg, nil
}

func initGDAL() {
	// Avoid listing S3 "directories" on every open: products are single files.
	if os.Getenv("GDAL_DISABLE_READDIR_ON_OPEN") == "" {
		os.Setenv("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR")
	}
	cog.Init()
}
