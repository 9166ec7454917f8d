package tilecache

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

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
	data, err := s.getMap(ctx, k, g, g.BBox(k.Z, k.Row, k.Col), g.TileSize, g.TileSize)
	if err != nil {
		return nil, fmt.Errorf("render tile %s: %w", k, err)
	}
	return data, nil
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
