package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pvs/pvs/pkg/admin"
	"github.com/pvs/pvs/pkg/telemetry"
)

// adminToken reads the management API's bearer token from file (a Docker
// secret), else from the environment. A token that is missing or short
// fails the daemon at start: an open management API could delete products.
func adminToken(file string) (string, error) {
	token := os.Getenv("PVS_ADMIN_TOKEN")
	from := "PVS_ADMIN_TOKEN"
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		token, from = strings.TrimSpace(string(b)), file
	}
	switch {
	case token == "":
		return "", errors.New("no management token: give --token-file (PVS_ADMIN_TOKEN_FILE, a Docker secret) or PVS_ADMIN_TOKEN")
	case len(token) < 16:
		return "", fmt.Errorf("the management token of %s has %d characters; use at least 16 (e.g. openssl rand -hex 24)", from, len(token))
	}
	return token, nil
}

func newAdminCmd(g *globals) *cobra.Command {
	var listen, basePath, tokenFile string
	var dr drain
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Serve the management API and the operations console",
		Long: `Serve the management API (REST, JSON, bearer token) on the queues, the
registry and the tile cache of this collection, its OpenAPI document at
<base>/openapi.json, and the operations console at <base>/. The token comes
from --token-file (a Docker secret) or PVS_ADMIN_TOKEN. Behind Traefik the
daemon is routed by PathPrefix(<base>) without stripping the prefix.
/healthz, /readyz and /metrics are served at the root.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			token, err := adminToken(tokenFile)
			if err != nil {
				return err
			}
			if basePath != "" && (!strings.HasPrefix(basePath, "/") || strings.HasSuffix(basePath, "/")) {
				return fmt.Errorf("--base-path %q: want a path like /admin (leading slash, none trailing), or empty", basePath)
			}
			e, err := g.connect("admin", true)
			if err != nil {
				return err
			}
			defer e.close()
			ctx := cmd.Context()
			o := operations(e)
			r, reg, err := newRegistrar(ctx, e)
			if err != nil {
				return err
			}
			defer reg.Close()
			o.Deregister = func(ctx context.Context, id string) error {
				_, err := r.Deregister(ctx, id)
				return err
			}
			s, seedReg, err := newSeeder(ctx, e)
			if err != nil {
				return err
			}
			defer seedReg.Close()
			o.Seeder = s
			srv := &admin.Server{Ops: o, Token: token, BasePath: basePath, Log: e.log}
			m := telemetry.New("admin", version)
			health := &telemetry.Health{Ready: []telemetry.Check{redisCheck(e.rdb), postgisCheck(reg.Pool()), dr.check()}}
			e.log.Info("admin started", "listen", listen, "base_path", basePath)
			ctx, stop := dr.context(ctx, e.log)
			defer stop()
			return serve(ctx, e.log, listen, serviceMux("admin", srv.Handler(), health, m))
		},
	}
	cmd.Flags().StringVar(&listen, "listen", envOr("PVS_ADMIN_LISTEN", "127.0.0.1:18085"), "address to listen on (env PVS_ADMIN_LISTEN)")
	cmd.Flags().StringVar(&basePath, "base-path", envOr("PVS_ADMIN_BASE_PATH", "/admin"), "path prefix the API and console are served under (env PVS_ADMIN_BASE_PATH)")
	cmd.Flags().StringVar(&tokenFile, "token-file", envOr("PVS_ADMIN_TOKEN_FILE", ""), "file holding the bearer token, e.g. /run/secrets/pvs_admin_token (env PVS_ADMIN_TOKEN_FILE; else PVS_ADMIN_TOKEN)")
	dr.add(cmd)
	return cmd
}
