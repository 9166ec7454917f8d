package tile

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Grid is a tile matrix set with power-of-two levels.
type Grid struct {
	Name     string
	EPSG     int
	TileSize int
	// Extent of the whole matrix set in CRS units (x/y order).
	MinX, MinY, MaxX, MaxY float64
	// MatrixWidth0 and MatrixHeight0 are the tile counts at level 0.
	MatrixWidth0, MatrixHeight0 int
	MaxZoom                     int
	// WellKnownScaleSet for capabilities.
	WellKnownScaleSet string
}

const webMercatorHalf = 20037508.342789244

// The grids every layer is offered in.
var (
	GoogleMapsCompatible = Grid{
		Name: "GoogleMapsCompatible", EPSG: 3857, TileSize: 256,
		MinX: -webMercatorHalf, MinY: -webMercatorHalf, MaxX: webMercatorHalf, MaxY: webMercatorHalf,
		MatrixWidth0: 1, MatrixHeight0: 1, MaxZoom: 22,
		WellKnownScaleSet: "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
	}
	WorldCRS84Quad = Grid{
		Name: "WorldCRS84Quad", EPSG: 4326, TileSize: 256,
		MinX: -180, MinY: -90, MaxX: 180, MaxY: 90,
		MatrixWidth0: 2, MatrixHeight0: 1, MaxZoom: 21,
		WellKnownScaleSet: "http://www.opengis.net/def/wkss/OGC/1.0/GoogleCRS84Quad",
	}
	Grids = []Grid{GoogleMapsCompatible, WorldCRS84Quad}
)

// Lookup returns the grid named name.
func Lookup(name string) (Grid, bool) {
	for _, g := range Grids {
		if strings.EqualFold(g.Name, name) {
			return g, true
		}
	}
	return Grid{}, false
}

// MatrixSize returns the number of tile columns and rows at level z.
func (g Grid) MatrixSize(z int) (cols, rows int) {
	return g.MatrixWidth0 << z, g.MatrixHeight0 << z
}

// TileSpan returns the width and height of one tile at level z in CRS units.
func (g Grid) TileSpan(z int) (float64, float64) {
	cols, rows := g.MatrixSize(z)
	return (g.MaxX - g.MinX) / float64(cols), (g.MaxY - g.MinY) / float64(rows)
}

// Resolution returns the CRS units per pixel at level z.
func (g Grid) Resolution(z int) float64 {
	w, _ := g.TileSpan(z)
	return w / float64(g.TileSize)
}

// ScaleDenominator returns the OGC scale denominator of level z (0.28 mm
// pixels; degrees converted at the equator for geographic grids).
func (g Grid) ScaleDenominator(z int) float64 {
	res := g.Resolution(z)
	if g.EPSG == 4326 {
		res *= 2 * math.Pi * 6378137 / 360
	}
	return res / 0.00028
}

// Valid reports whether the tile exists in the grid.
func (g Grid) Valid(z, row, col int) bool {
	if z < 0 || z > g.MaxZoom {
		return false
	}
	cols, rows := g.MatrixSize(z)
	return row >= 0 && col >= 0 && row < rows && col < cols
}

// BBox returns the tile's bounding box in the grid's CRS, x/y order.
func (g Grid) BBox(z, row, col int) [4]float64 {
	w, h := g.TileSpan(z)
	minx := g.MinX + float64(col)*w
	maxy := g.MaxY - float64(row)*h
	return [4]float64{minx, maxy - h, minx + w, maxy}
}

// Range is an inclusive block of tiles at one level.
type Range struct {
	Z              int
	MinCol, MinRow int
	MaxCol, MaxRow int
}

// Count returns the number of tiles in the range.
func (r Range) Count() int { return (r.MaxCol - r.MinCol + 1) * (r.MaxRow - r.MinRow + 1) }

// Covering returns the tiles at level z that intersect bbox, given in the
// grid's CRS (x/y order). ok is false when bbox lies outside the grid.
func (g Grid) Covering(bbox [4]float64, z int) (Range, bool) {
	w, h := g.TileSpan(z)
	cols, rows := g.MatrixSize(z)
	// A bbox edge on a tile boundary does not touch the next tile.
	const eps = 1e-9
	c0 := int(math.Floor((bbox[0] - g.MinX) / w))
	c1 := int(math.Ceil((bbox[2]-g.MinX)/w-eps)) - 1
	r0 := int(math.Floor((g.MaxY - bbox[3]) / h))
	r1 := int(math.Ceil((g.MaxY-bbox[1])/h-eps)) - 1
	c0, r0 = max(c0, 0), max(r0, 0)
	c1, r1 = min(c1, cols-1), min(r1, rows-1)
	if c0 > c1 || r0 > r1 {
		return Range{}, false
	}
	return Range{Z: z, MinCol: c0, MinRow: r0, MaxCol: c1, MaxRow: r1}, true
}

// FromWGS84 converts a lon/lat bbox to the grid's CRS, clamping latitudes to
// the Web Mercator domain.
func (g Grid) FromWGS84(b [4]float64) [4]float64 {
	if g.EPSG == 4326 {
		return b
	}
	const maxLat = 85.0511287798066
	x := func(lon float64) float64 { return lon * webMercatorHalf / 180 }
	y := func(lat float64) float64 {
		lat = math.Max(-maxLat, math.Min(maxLat, lat))
		return math.Log(math.Tan((90+lat)*math.Pi/360)) * 6378137
	}
	return [4]float64{x(b[0]), y(b[1]), x(b[2]), y(b[3])}
}

// ToWGS84 converts a bbox of the grid's CRS to lon/lat.
func (g Grid) ToWGS84(b [4]float64) [4]float64 {
	if g.EPSG == 4326 {
		return b
	}
	lon := func(x float64) float64 { return x * 180 / webMercatorHalf }
	lat := func(y float64) float64 { return 360/math.Pi*math.Atan(math.Exp(y/6378137)) - 90 }
	return [4]float64{lon(b[0]), lat(b[1]), lon(b[2]), lat(b[3])}
}

// Key names one cached tile.
type Key struct {
	Layer  string
	Grid   string
	Time   string // period key start--end, or "default"
	Z      int
	Row    int
	Col    int
	Format string // png or jpeg
}

// DefaultTime is the time key of tiles requested without a TIME.
const DefaultTime = "default"

// Path returns the cache key {layer}/{grid}/{time}/{z}/{x}/{y}.{ext}
// (x is the column, y the row).
func (k Key) Path() string {
	return strings.Join([]string{k.Layer, k.Grid, k.Time, strconv.Itoa(k.Z), strconv.Itoa(k.Col), strconv.Itoa(k.Row) + "." + k.Format}, "/")
}

// String is Path, for logs.
func (k Key) String() string { return k.Path() }

// MediaType returns the MIME type of the key's format.
func (k Key) MediaType() string { return MediaType(k.Format) }

// MediaType maps png/jpeg to their MIME types.
func MediaType(format string) string {
	if format == "jpeg" || format == "jpg" {
		return "image/jpeg"
	}
	return "image/png"
}

// FormatOf maps a MIME type or extension to png/jpeg.
func FormatOf(s string) (string, error) {
	switch strings.ToLower(s) {
	case "png", "image/png":
		return "png", nil
	case "jpeg", "jpg", "image/jpeg":
		return "jpeg", nil
	}
	return "", fmt.Errorf("format %q is not served; use image/png or image/jpeg", s)
}

// Block is a rectangle of tiles of one level rendered together (a
// metatile): one rendering instead of one per tile cuts the work the
// renderer repeats per request (queries, opening and warping each product).
type Block struct {
	Key                        Key // layer, grid, time, z, format; Row and Col unused
	MinRow, MinCol, Rows, Cols int
}

// Content is a tile's encoded image as served: a body to copy (a file for
// cache hits on disk, so that it can be sent without copying through user
// space), its size, and a validator for ETags.
type Content struct {
	Body    io.ReadCloser
	Size    int64
	Version string // changes whenever the tile does
	Hit     bool   // served from the cache
	// Data is the body's bytes when they are in memory (nil otherwise):
	// a server may send them without reading Body, which it still closes.
	Data []byte
}
