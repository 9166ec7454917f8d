package tilecache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pvs/pvs/pkg/imgenc"
	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/tile"
)

// Block is a rectangle of tiles rendered together.
type Block = tile.Block

// BlockSource draws a block as one image and cuts it into tiles.
type BlockSource interface {
	Block(ctx context.Context, b Block) (map[tile.Pos][]byte, error)
}

// Block implements BlockSource with one GetMap of the block's extent.
func (s WMSSource) Block(ctx context.Context, b Block) (map[tile.Pos][]byte, error) {
	g, ok := tile.Lookup(b.Key.Grid)
	if !ok {
		return nil, fmt.Errorf("unknown grid %q", b.Key.Grid)
	}
	tl := g.BBox(b.Key.Z, b.MinRow, b.MinCol)
	br := g.BBox(b.Key.Z, b.MinRow+b.Rows-1, b.MinCol+b.Cols-1)
	bbox := [4]float64{tl[0], br[1], br[2], tl[3]}
	ts := g.TileSize
	// Drawn as raw RGBA whatever the tile format: no image is encoded and
	// decoded on the way, and the cut tiles are encoded once, each row of
	// them as soon as it has arrived.
	out := make(map[tile.Pos][]byte, b.Rows*b.Cols)
	cut := func(body io.Reader, n int64) ([]byte, error) {
		return nil, cutBlock(body, n, b.Rows, b.Cols, ts, func(r, c int, img *image.NRGBA, opaque bool) error {
			var buf bytes.Buffer
			err := encodeTile(&buf, img, b.Key.Format, opaque)
			out[tile.Pos{Row: b.MinRow + r, Col: b.MinCol + c}] = buf.Bytes()
			return err
		})
	}
	if _, err := s.getMapWith(ctx, b.Key, rawFormat, g, bbox, b.Cols*ts, b.Rows*ts, cut); err != nil {
		return nil, fmt.Errorf("render block %s z%d %d/%d %dx%d: %w", b.Key.Layer, b.Key.Z, b.MinRow, b.MinCol, b.Rows, b.Cols, err)
	}
	return out, nil
}

// rawBand is the rows read at a time.
const rawBand = 32

// cutBlock reads a raw RGBA block of rows×cols tiles of ts pixels from
// body (n bytes) one row of tiles at a time, into one reused buffer that
// stays in the processor's cache, and hands each tile to each (a view of
// the buffer, valid during the call) with whether it is opaque, noted as
// its rows arrived: the encoder needs to know before it starts a tile.
func cutBlock(body io.Reader, n int64, rows, cols, ts int, each func(r, c int, img *image.NRGBA, opaque bool) error) error {
	stride := cols * ts * 4
	if n != int64(rows*ts*stride) { // the renderer announces the length
		return fmt.Errorf("%d bytes for %d RGBA pixels", n, rows*cols*ts*ts)
	}
	stripe := getBlockBuf(ts * stride)
	defer putBlockBuf(stripe)
	opaque := make([]bool, cols)
	img := &image.NRGBA{Pix: stripe, Stride: stride, Rect: image.Rect(0, 0, cols*ts, ts)}
	for r := 0; r < rows; r++ {
		for c := range opaque {
			opaque[c] = true
		}
		for y0 := 0; y0 < ts; y0 += rawBand {
			band := stripe[y0*stride : min(ts, y0+rawBand)*stride]
			if _, err := io.ReadFull(body, band); err != nil {
				return err
			}
			for y := 0; y*stride < len(band); y++ {
				row := band[y*stride : (y+1)*stride]
				for c := range opaque {
					opaque[c] = opaque[c] && imgenc.OpaqueRow(row[c*ts*4:(c+1)*ts*4])
				}
			}
		}
		for c := 0; c < cols; c++ {
			if err := each(r, c, img.SubImage(image.Rect(c*ts, 0, (c+1)*ts, ts)).(*image.NRGBA), opaque[c]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Raw rows of tiles are megabytes: their buffers are reused rather than
// cleared and faulted in again for every block.
var blockBufs sync.Pool

func getBlockBuf(n int) []byte {
	if b, ok := blockBufs.Get().(*[]byte); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]byte, n)
}

func putBlockBuf(b []byte) { blockBufs.Put(&b) }

// encodeTile encodes a tile in format; opaque says whether every pixel is
// (a PNG of an opaque tile is written as RGB).
func encodeTile(w io.Writer, img *image.NRGBA, format string, opaque bool) error {
	if format == "jpeg" {
		return imgenc.JPEG(w, img, color.NRGBA{255, 255, 255, 255}, 85)
	}
	return imgenc.FastPNGOf(w, img, 1, opaque)
}

// rawFormat is the renderer's internal raw RGBA format (wms.RawFormat).
const rawFormat = "application/x-pvs-rgba"

// getMap asks the renderer for one image in the key's format.
func (s WMSSource) getMap(ctx context.Context, k tile.Key, g tile.Grid, b [4]float64, w, h int) ([]byte, error) {
	return s.getMapFormat(ctx, k, k.MediaType(), g, b, w, h)
}

func (s WMSSource) getMapFormat(ctx context.Context, k tile.Key, format string, g tile.Grid, b [4]float64, w, h int) ([]byte, error) {
	return s.getMapWith(ctx, k, format, g, b, w, h, readBody)
}

// readBody reads a body of n bytes (-1: unknown).
func readBody(body io.Reader, n int64) ([]byte, error) {
	if n > 0 && n <= 64<<20 {
		// Metatiles are megabytes: one allocation of the announced size.
		data := make([]byte, n)
		_, err := io.ReadFull(body, data)
		return data, err
	}
	return io.ReadAll(io.LimitReader(body, 64<<20))
}

// getMapWith asks the renderer for an image in format and reads the
// answer with read (given the announced length, -1 if none).
func (s WMSSource) getMapWith(ctx context.Context, k tile.Key, format string, g tile.Grid, b [4]float64, w, h int, read func(io.Reader, int64) ([]byte, error)) ([]byte, error) {
	q, err := wmsQuery("GetMap", k, g, b, w, h)
	if err != nil {
		return nil, err
	}
	q.Set("FORMAT", format)
	q.Set("TRANSPARENT", "TRUE")
	resp, err := s.get(ctx, q, 120*time.Second)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != format {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return nil, fmt.Errorf("renderer answered %s: %.300s", resp.Status, msg)
	}
	return read(resp.Body, resp.ContentLength)
}

// FeatureInfo asks the renderer for a GetFeatureInfo at pixel (i, j) of
// a tile, over the tile's bbox and time (wmts.FeatureInfo).
func (s WMSSource) FeatureInfo(ctx context.Context, k tile.Key, i, j int, infoFormat string) (int, string, []byte, error) {
	g, ok := tile.Lookup(k.Grid)
	if !ok {
		return 0, "", nil, fmt.Errorf("unknown grid %q", k.Grid)
	}
	q, err := wmsQuery("GetFeatureInfo", k, g, g.BBox(k.Z, k.Row, k.Col), g.TileSize, g.TileSize)
	if err != nil {
		return 0, "", nil, err
	}
	q.Set("QUERY_LAYERS", k.Layer)
	q.Set("I", strconv.Itoa(i))
	q.Set("J", strconv.Itoa(j))
	q.Set("INFO_FORMAT", infoFormat)
	q.Set("FEATURE_COUNT", "10")
	resp, err := s.get(ctx, q, 30*time.Second)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return 0, "", nil, err
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body, nil
}

// wmsQuery is a WMS 1.3.0 request over bbox b (x/y order) of grid g, w×h
// pixels, of the key's layer and time.
func wmsQuery(request string, k tile.Key, g tile.Grid, b [4]float64, w, h int) (url.Values, error) {
	q := url.Values{}
	q.Set("SERVICE", "WMS")
	q.Set("VERSION", "1.3.0")
	q.Set("REQUEST", request)
	q.Set("LAYERS", k.Layer)
	q.Set("STYLES", "")
	crs := "EPSG:" + strconv.Itoa(g.EPSG)
	if g.EPSG == 4326 {
		crs = "CRS:84" // lon/lat order, like the grid
	}
	q.Set("CRS", crs)
	q.Set("BBOX", strings.Join([]string{ftoa(b[0]), ftoa(b[1]), ftoa(b[2]), ftoa(b[3])}, ","))
	q.Set("WIDTH", strconv.Itoa(w))
	q.Set("HEIGHT", strconv.Itoa(h))
	if k.Time != "" && k.Time != tile.DefaultTime {
		p, err := period.ParseKey(k.Time)
		if err != nil {
			return nil, err
		}
		q.Set("TIME", p.String())
	}
	return q, nil
}

// get sends a request to the renderer; timeout applies when the source
// has no client of its own.
func (s WMSSource) get(ctx context.Context, q url.Values, timeout time.Duration) (*http.Response, error) {
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: timeout}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	return client.Do(req)
}

// RenderBlock draws a block and stores the tiles want accepts, replacing
// cached copies, under the block's time key and each of also (keys whose
// tiles the caller knows to be the same images). It returns how many
// tiles it stored.
func (t *Tiler) RenderBlock(ctx context.Context, b Block, also []string, want func(tile.Pos) bool) (int, error) {
	bs, ok := t.Source.(BlockSource)
	if !ok {
		return 0, fmt.Errorf("the tile source cannot render blocks")
	}
	// Drawn again if the catalogue changed meanwhile (see Tiler.Generation).
	var tiles map[tile.Pos][]byte
	for attempt := 0; ; attempt++ {
		gen, err := t.generation(ctx)
		if err != nil {
			return 0, err
		}
		if tiles, err = bs.Block(ctx, b); err != nil {
			return 0, err
		}
		now, err := t.generation(ctx)
		if err != nil {
			return 0, err
		}
		if now == gen {
			break
		}
		if attempt == 2 {
			return 0, nil // the catalogue keeps changing: leave these tiles to be drawn on demand
		}
	}
	n := 0
	linker, _ := t.Cache.(Linker)
	for i, tk := range append([]string{b.Key.Time}, also...) {
		key := b.Key
		key.Time = tk
		if t.Index != nil {
			if err := t.Index.Add(ctx, key); err != nil {
				return n, fmt.Errorf("index block: %w", err)
			}
		}
		for p, data := range tiles {
			if !want(p) {
				continue
			}
			k := key
			k.Row, k.Col = p.Row, p.Col
			if err := t.storeTile(ctx, linker, i > 0, b.Key, k, data); err != nil {
				return n, fmt.Errorf("store tile %s: %w", k, err)
			}
			n++
		}
	}
	return n, nil
}

// storeTile stores a tile of a block; under the block's other time keys
// (again) it links to the copy under the first where the cache can.
func (t *Tiler) storeTile(ctx context.Context, linker Linker, again bool, first, k tile.Key, data []byte) error {
	if again && linker != nil {
		from := first
		from.Row, from.Col = k.Row, k.Col
		err := linker.Link(ctx, from, k)
		if !errors.Is(err, errors.ErrUnsupported) {
			return err
		}
	}
	return t.Cache.Set(ctx, k, data)
}
