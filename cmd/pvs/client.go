package main

import (
	"github.com/spf13/cobra"

	"github.com/pvs/pvs/pkg/telemetry"
	"github.com/pvs/pvs/pkg/webclient"
)

func newClientCmd(g *globals) *cobra.Command {
	var listen string
	var baseMap webclient.BaseMap
	var dr drain
	cmd := &cobra.Command{
		Use:   "client",
		Short: "Serve the web client: the collection's layers in time, search and product pages",
		Long: `Serve the web client at /: a map of the collection's WMTS and WMS layers
with a time slider, an OpenSearch search, GetFeatureInfo and product pages.
The page reaches the services at the public URLs of the renderer and the
cache (renderer.public_url, cache.public_url; paths on its own origin when
empty). It needs neither Redis nor PostGIS.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			log := g.logger(true).With("component", "client")
			wms, wcs, wmts, search := webclient.ServiceURLs(cfg.Renderer.PublicURL, cfg.Cache.PublicURL)
			cc := webclient.Config{Collection: cfg.Collection.Name, Title: cfg.Collection.Title,
				WMS: wms, WCS: wcs, WMTS: wmts, OpenSearch: search}
			if baseMap.URL != "" {
				cc.BaseMap = &baseMap
			}
			h, err := webclient.New(webclient.Bundle(), cc)
			if err != nil {
				return err
			}
			if err := h.Err(); err != nil {
				// Served as a 503 on every page, but the probes stay
				// green: the daemon works, the binary lacks the bundle.
				log.Warn("the client answers 503", "reason", err.Error())
			}
			log.Info("client started", "listen", listen, "collection", cc.Collection, "wms", wms, "wmts", wmts, "opensearch", search)
			m := telemetry.New("client", version)
			health := &telemetry.Health{Ready: []telemetry.Check{dr.check()}}
			ctx, stop := dr.context(cmd.Context(), log)
			defer stop()
			return serve(ctx, log, listen, serviceMux("client", h, health, m))
		},
	}
	cmd.Flags().StringVar(&listen, "listen", envOr("PVS_CLIENT_LISTEN", "127.0.0.1:18084"), "address to listen on (env PVS_CLIENT_LISTEN)")
	cmd.Flags().StringVar(&baseMap.URL, "base-map", envOr("PVS_CLIENT_BASE_MAP", ""),
		"XYZ tile URL of a base map, with {z}, {x} and {y}; empty: a plain background that needs no internet (env PVS_CLIENT_BASE_MAP)")
	cmd.Flags().StringVar(&baseMap.Attribution, "base-map-attribution", envOr("PVS_CLIENT_BASE_MAP_ATTRIBUTION", ""), "attribution shown with the base map (env PVS_CLIENT_BASE_MAP_ATTRIBUTION)")
	cmd.Flags().IntVar(&baseMap.MaxZoom, "base-map-max-zoom", 19, "highest zoom level of the base map")
	dr.add(cmd)
	return cmd
}
