package tilecache

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/tile"
)

// WMSSource renders tiles with GetMap requests to the renderer, as MapCache
// does with its WMS source.
type WMSSource struct {
	URL    string // the renderer's WMS endpoint
	Client *http.Client
}

// MaxTileBytes bounds a tile read from the renderer.
const MaxTileBytes = 16 << 20

// Tile implements Source.
func (s WMSSource) Tile(ctx context.Context, k tile.Key) ([]byte, error) {
	g, ok := tile.Lookup(k.Grid)
	if !ok {
		return nil, fmt.Errorf("unknown grid %q", k.Grid)
	}
	b := g.BBox(k.Z, k.Row, k.Col)
	q := url.Values{}
	q.Set("SERVICE", "WMS")
	q.Set("VERSION", "1.3.0")
	q.Set("REQUEST", "GetMap")
	q.Set("LAYERS", k.Layer)
	q.Set("STYLES", "")
	crs := "EPSG:" + strconv.Itoa(g.EPSG)
	if g.EPSG == 4326 {
		crs = "CRS:84" // lon/lat order, like the grid
	}
	q.Set("CRS", crs)
	q.Set("BBOX", strings.Join([]string{ftoa(b[0]), ftoa(b[1]), ftoa(b[2]), ftoa(b[3])}, ","))
	q.Set("WIDTH", strconv.Itoa(g.TileSize))
	q.Set("HEIGHT", strconv.Itoa(g.TileSize))
	q.Set("FORMAT", k.MediaType())
	q.Set("TRANSPARENT", "TRUE")
	if k.Time != "" && k.Time != tile.DefaultTime {
		p, err := period.ParseKey(k.Time)
		if err != nil {
			return nil, err
		}
		q.Set("TIME", p.String())
	}
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("render tile %s: %w", k, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxTileBytes))
	if err != nil {
		return nil, fmt.Errorf("render tile %s: %w", k, err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") {
		return nil, fmt.Errorf("render tile %s: renderer answered %s: %.300s", k, resp.Status, data)
	}
	return data, nil
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
