package metadata

import (
	"encoding/json"
	"fmt"
)

type geometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

// ParseGeoJSONPolygons reads a GeoJSON Polygon or MultiPolygon (lon/lat).
func ParseGeoJSONPolygons(raw []byte) ([][][][2]float64, error) {
	var g geometry
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, fmt.Errorf("invalid GeoJSON: %w", err)
	}
	switch g.Type {
	case "Polygon":
		var poly [][][2]float64
		if err := json.Unmarshal(g.Coordinates, &poly); err != nil {
			return nil, fmt.Errorf("invalid GeoJSON Polygon: %w", err)
		}
		return [][][][2]float64{poly}, nil
	case "MultiPolygon":
		var mp [][][][2]float64
		if err := json.Unmarshal(g.Coordinates, &mp); err != nil {
			return nil, fmt.Errorf("invalid GeoJSON MultiPolygon: %w", err)
		}
		return mp, nil
	default:
		return nil, fmt.Errorf("footprint must be a GeoJSON Polygon or MultiPolygon, got %q", g.Type)
	}
}

// FootprintGeoJSON returns the footprint as a GeoJSON MultiPolygon.
func (p *Product) FootprintGeoJSON() string {
	b, _ := json.Marshal(map[string]any{"type": "MultiPolygon", "coordinates": p.Footprint})
	return string(b)
}

// UnwrapAntimeridian rewrites rings that cross the antimeridian (a step of
// more than 180° in longitude between neighbouring points) so that they run
// continuously past +180: negative longitudes get 360 added. The registry
// then splits them at the antimeridian.
func (p *Product) UnwrapAntimeridian() {
	for _, poly := range p.Footprint {
		for _, ring := range poly {
			crosses := false
			for i := 1; i < len(ring); i++ {
				if d := ring[i][0] - ring[i-1][0]; d > 180 || d < -180 {
					crosses = true
					break
				}
			}
			if !crosses {
				continue
			}
			for i := range ring {
				if ring[i][0] < 0 {
					ring[i][0] += 360
				}
			}
		}
	}
}
