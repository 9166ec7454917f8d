package backend

import (
	"log/slog"
	"net/http"

	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/layer"
	"github.com/pvs/pvs/pkg/opensearch"
	"github.com/pvs/pvs/pkg/stac"
	"github.com/pvs/pvs/pkg/wcs"
	"github.com/pvs/pvs/pkg/wms"
)

// RendererApp is the renderer daemon's application over b for the
// deployment's configuration: WMS on /wms, WCS on /wcs, both on /ows,
// OpenSearch on /opensearch and the STAC API on /stac.
func RendererApp(cfg *config.Config, b OGC, log *slog.Logger) *http.ServeMux {
	c, r := cfg.Collection, cfg.Renderer
	wmsH := &wms.Handler{Backend: b, Log: log, Service: wms.Service{
		Title: c.Title, Abstract: "pvs renderer for collection " + c.Name,
		PublicURL: publicURL(r.PublicURL, "/ows"), MaxSize: r.MaxSize}}
	wcsH := &wcs.Handler{Backend: b, Log: log, Service: wcs.Service{
		Title: c.Title, Abstract: "pvs coverages of collection " + c.Name,
		PublicURL: publicURL(r.PublicURL, "/ows"), MaxBytes: r.WCSMaxMB << 20,
		MaxListed: r.ListedCoverages}}
	osH := &opensearch.Handler{Backend: b, Collection: c.Name, Title: c.Title,
		BaseURL: r.PublicURL, MaxCount: r.OpenSearchMaxCount, Log: log}
	layers := []string{c.Name}
	for _, br := range c.Browses {
		layers = append(layers, c.Name+layer.Sep+br.Name)
	}
	stacH := &stac.Handler{Catalogue: b.Products, Collections: []stac.Collection{{Name: c.Name, Title: c.Title, Layers: layers}},
		BaseURL: r.PublicURL, TilesURL: cfg.Cache.PublicURL, AssetURL: r.AssetURL, MaxLimit: r.OpenSearchMaxCount, Log: log}
	app := http.NewServeMux()
	app.Handle("/ows", OWS(wmsH, wcsH))
	app.Handle("/wms", wmsH)
	app.Handle("/wcs", wcsH)
	app.Handle("/opensearch", osH)
	app.Handle("/opensearch/", osH)
	app.Handle("/stac", stacH)
	app.Handle("/stac/", stacH)
	return app
}

func publicURL(base, path string) string {
	if base == "" {
		return ""
	}
	return base + path
}
