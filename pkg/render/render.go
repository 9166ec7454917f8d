package render

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"log/slog"
	"math"
	"math/bits"
	"strconv"
	"sync"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/bandexpr"
	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/crs"
	"github.com/pvs/pvs/pkg/period"
)

// Finder finds the products to draw.
type Finder interface {
	Find(ctx context.Context, q catalog.Query) ([]catalog.Record, error)
}

// Locator names a stored object for GDAL.
type Locator interface {
	GDALPath(key string) string
}

// Request is one image to draw.
type Request struct {
	Collection string
	Browse     config.Browse
	CRS        CRS
	BBox       [4]float64 // x/y order: easting/northing or lon/lat
	Width      int
	Height     int
	// Times, when set, lists intervals products must intersect one of;
	// empty means every product.
	Times []period.Period
	// Identifier, when set, draws only that product.
	Identifier string
	// Outlines draws the products' footprints on top of their images;
	// OutlinesOnly draws the footprints alone.
	Outlines     bool
	OutlinesOnly bool
	// Background, when set, fills the canvas first: the image comes out
	// opaque, flattened as it is drawn.
	Background *color.NRGBA
	// ByType, when set, is Browse as the products of some types draw it
	// (their own band semantics: config.Collection.BrowseFor).
	ByType map[string]config.Browse
}

// Renderer draws requests.
type Renderer struct {
	Products    Finder
	Objects     Locator
	MaxProducts int
	// Pool, when set, keeps datasets open across requests, and lets
	// nearest-neighbour browses be drawn from windowed reads instead of
	// GDAL's warper.
	Pool *Pool
	Log  *slog.Logger
}

// Render draws req into a transparent canvas and returns it with the
// number of products drawn.
//
// Without an identifier it draws, newest on top, the newest products down
// to those whose footprints together cover the requested area: products
// hidden under newer ones are never opened, so a map over thousands of
// acquisitions reads what a map over one does. MaxProducts bounds how
// many products are drawn (0: no bound), never whether the map is drawn.
// Outlines are drawn around the products drawn; OutlinesOnly draws the
// footprints of the newest MaxProducts products, hidden or not.
func (r *Renderer) Render(ctx context.Context, req Request) (*image.NRGBA, int, error) {
	if err := checkRequest(req); err != nil {
		return nil, 0, err
	}
	canvas := newCanvas(req)
	wgs, err := ToWGS84(req.CRS, req.BBox)
	if err != nil {
		return canvas, 0, nil // outside the CRS's domain: nothing to draw
	}
	q := catalog.Query{Collection: req.Collection, BBox: &wgs, Times: req.Times, Identifier: req.Identifier}
	if req.OutlinesOnly {
		recs, err := r.newest(ctx, q)
		if err != nil {
			return nil, 0, err
		}
		if err := drawOutlines(canvas, req, recs); err != nil {
			return nil, 0, err
		}
		return canvas, len(recs), nil
	}
	browses, err := parseBrowses(req)
	if err != nil {
		return nil, 0, err
	}
	area, err := newCoverage(req, wgs)
	if err != nil {
		return nil, 0, err
	}
	defer area.close()
	recs, err := r.visible(ctx, q, area, func(rec catalog.Record) bool {
		b := browses.of(rec)
		return drawable(rec, b.Browse, b.expr)
	})
	if err != nil {
		return nil, 0, err
	}
	// Newest first from the selection: paint from the oldest up.
	for i := len(recs) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return nil, len(recs) - 1 - i, err
		}
		b := browses.of(recs[i])
		for _, cov := range recs[i].Coverages {
			key := cov.Location + "@" + strconv.FormatInt(recs[i].Updated.UnixNano(), 10)
			creq := req
			creq.Browse = b.Browse
			if rng, ok := autoRange(b.Browse, b.expr, recs[i], cov); ok {
				creq.Browse.Range = rng
			}
			if err := r.drawCoverage(canvas, creq, b.expr, cov, key); err != nil {
				return nil, len(recs) - 1 - i, fmt.Errorf("draw %s: %w", recs[i].Identifier, err)
			}
		}
	}
	if req.Outlines {
		if err := drawOutlines(canvas, req, recs); err != nil {
			return nil, len(recs), err
		}
	}
	return canvas, len(recs), nil
}

// checkRequest refuses a request no map can be drawn for.
func checkRequest(req Request) error {
	if req.Width <= 0 || req.Height <= 0 {
		return fmt.Errorf("invalid size %dx%d", req.Width, req.Height)
	}
	// The protocols refuse such boxes; this guards the other callers, as
	// PROJ and GDAL's warper get the box's corners as they are.
	if err := crs.CheckBBox(req.CRS.Code, req.BBox); err != nil {
		return fmt.Errorf("invalid bbox: %w", err)
	}
	if req.BBox[0] == req.BBox[2] || req.BBox[1] == req.BBox[3] {
		return fmt.Errorf("invalid bbox %v: a map needs a box of some area", req.BBox)
	}
	return nil
}

// newCanvas returns the empty canvas of req, filled with its background.
func newCanvas(req Request) *image.NRGBA {
	bg := req.Background
	canvas := &image.NRGBA{Pix: getCanvasPix(4*req.Width*req.Height, bg == nil), Stride: 4 * req.Width, Rect: image.Rect(0, 0, req.Width, req.Height)}
	if bg != nil && len(canvas.Pix) > 0 {
		// One pixel, then what is filled copied after itself: memmove's
		// speed rather than a store per pixel.
		pix := canvas.Pix
		pix[0], pix[1], pix[2], pix[3] = bg.R, bg.G, bg.B, 255
		for n := 4; n < len(pix); n *= 2 {
			copy(pix[n:], pix[:n])
		}
	}
	return canvas
}

// Canvases are reused once sent (Recycle): a new large one costs page
// faults, and new small ones, a thousand 256 KB maps a second, a garbage
// collection every few dozen maps (the Go heap the renderer keeps is a few
// megabytes). One pool per power of two of the size: a canvas is made
// with a power of two of capacity, and a request takes one of its own
// size class.
var canvases [48]sync.Pool

// canvasClass is the power of two a canvas of n bytes is made with.
func canvasClass(n int) int { return bits.Len(uint(n - 1)) }

// getCanvasPix returns n bytes for a canvas, zero if zero is set (else
// as a drawing left them: for a canvas filled next).
func getCanvasPix(n int, zero bool) []byte {
	c := canvasClass(n)
	if b, ok := canvases[c].Get().(*[]byte); ok {
		pix := (*b)[:n]
		if zero {
			clear(pix)
		}
		return pix
	}
	return make([]byte, n, 1<<c)
}

// Recycle hands back a canvas Render drew, once it has been sent; the
// caller must not use it after. An image whose pixels' capacity is not a
// power of two (not made as a canvas) is left alone.
func Recycle(img *image.NRGBA) {
	if img == nil {
		return
	}
	pix := img.Pix[:cap(img.Pix)]
	if c := len(pix); c == 0 || c&(c-1) != 0 {
		return
	}
	if k := canvasClass(len(pix)); k < len(canvases) {
		canvases[k].Put(&pix)
	}
}

// newest returns the newest products matching q, at most MaxProducts.
func (r *Renderer) newest(ctx context.Context, q catalog.Query) ([]catalog.Record, error) {
	if r.MaxProducts > 0 {
		q.Limit = r.MaxProducts + 1
	}
	recs, err := r.Products.Find(ctx, q)
	if err != nil {
		return nil, err
	}
	if r.MaxProducts > 0 && len(recs) > r.MaxProducts {
		r.logger().Info("outlines of the newest products only: more than renderer.max_products intersect the request",
			"collection", q.Collection, "drawn", r.MaxProducts, "max_products", r.MaxProducts)
		recs = recs[:r.MaxProducts]
	}
	return recs, nil
}

// parsedBrowse is a browse with its expression parsed.
type parsedBrowse struct {
	config.Browse
	expr *bandexpr.Expr
}

// browseSet is the browse of a request and its variants by product type.
type browseSet struct {
	main   parsedBrowse
	byType map[string]parsedBrowse
}

func parseBrowses(req Request) (browseSet, error) {
	parse := func(b config.Browse) (parsedBrowse, error) {
		if b.Expression == "" {
			return parsedBrowse{Browse: b}, nil
		}
		e, err := bandexpr.Parse(b.Expression)
		if err != nil {
			return parsedBrowse{}, fmt.Errorf("browse %s: %w", b.Name, err)
		}
		return parsedBrowse{Browse: b, expr: e}, nil
	}
	var s browseSet
	var err error
	if s.main, err = parse(req.Browse); err != nil {
		return s, err
	}
	for t, b := range req.ByType {
		if s.byType == nil {
			s.byType = map[string]parsedBrowse{}
		}
		if s.byType[t], err = parse(b); err != nil {
			return s, err
		}
	}
	return s, nil
}

// of is the browse rec is drawn with.
func (s browseSet) of(rec catalog.Record) parsedBrowse {
	if b, ok := s.byType[rec.ProductType]; ok {
		return b
	}
	return s.main
}

// drawable reports whether browse b can draw anything of rec: whether one
// of its coverages has the bands b needs (or does not say which it has).
func drawable(rec catalog.Record, b config.Browse, expr *bandexpr.Expr) bool {
	for _, cov := range rec.Coverages {
		if len(cov.Bands) == 0 {
			return true
		}
		if _, ok := browseBands(b, expr, len(cov.Bands)); ok {
			return true
		}
	}
	return false
}

// browseBands returns the bands browse b reads of a raster of nb bands,
// and false when the raster lacks one of them: the browse is drawn where
// the bands allow, not on this raster.
func browseBands(b config.Browse, expr *bandexpr.Expr, nb int) ([]int, bool) {
	bands := b.Bands
	if expr != nil {
		bands = expr.Bands()
	} else if len(bands) == 3 && nb < 3 {
		bands = []int{1} // a grey product in a colour browse
	}
	for _, k := range bands {
		if k > nb {
			return nil, false
		}
	}
	return bands, true
}

var discard = slog.New(slog.DiscardHandler)

func (r *Renderer) logger() *slog.Logger {
	if r.Log == nil {
		return discard
	}
	return r.Log
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func (r *Renderer) drawCoverage(canvas *image.NRGBA, req Request, expr *bandexpr.Expr, cov catalog.Coverage, key string) (err error) {
	path := r.Objects.GDALPath(cov.Location)
	var src *godal.Dataset
	var hd *Handle
	if r.Pool != nil {
		if hd, err = r.Pool.Get(path, key); err != nil {
			return err
		}
		defer func() { r.Pool.Put(hd, err != nil) }()
		src = hd.DS
	} else {
		if src, err = cog.Open(path, godal.RasterOnly(), godal.ErrLogger(cog.Errors(r.Log))); err != nil {
			return err
		}
		defer src.Close()
	}
	nb := len(src.Bands())
	bands, ok := browseBands(req.Browse, expr, nb)
	if !ok {
		r.logger().Debug("browse needs a band the product lacks", "browse", req.Browse.Name, "bands", nb, "coverage", cov.Name)
		return nil
	}
	// Byte data shown as it is needs no conversion: warp and composite it
	// as bytes. Anything else is stretched from Float32.
	asBytes := expr == nil && len(req.Browse.Range) == 0 && src.Bands()[0].Structure().DataType == godal.Byte
	stretch := linearStretch(req.Browse.Range)
	if rs, ok := resamplerOf(req.Browse.Resampling); ok && hd != nil {
		done, err := drawDirect(canvas, req, hd, bands, expr, asBytes, stretch, rs)
		if err != nil || done {
			return err
		}
	}
	return r.drawWarped(canvas, req, src, bands, expr, asBytes, stretch)
}

// linearStretch maps [lo, hi] of rng (0–255 without one) onto 0–255,
// clamping.
func linearStretch(rng []float64) func(float32) uint8 {
	lo, hi := 0.0, 255.0
	if len(rng) == 2 {
		lo, hi = rng[0], rng[1]
	}
	span := hi - lo
	return func(v float32) uint8 {
		s := (float64(v) - lo) * 255 / span
		switch {
		case s <= 0:
			return 0
		case s >= 255:
			return 255
		}
		return uint8(s + 0.5)
	}
}

// drawWarped draws src with GDAL's warper (any resampling, any grid): the
// bands drawn and an alpha band warped to the request's grid in memory,
// then composited on the canvas.
func (r *Renderer) drawWarped(canvas *image.NRGBA, req Request, src *godal.Dataset, bands []int, expr *bandexpr.Expr, asBytes bool, stretch func(float32) uint8) error {
	nb := len(src.Bands())
	ot := "Float32"
	if asBytes {
		ot = "Byte"
	}
	switches := []string{"-of", "MEM", "-t_srs", req.CRS.String(),
		"-te", ftoa(req.BBox[0]), ftoa(req.BBox[1]), ftoa(req.BBox[2]), ftoa(req.BBox[3]),
		"-ts", strconv.Itoa(req.Width), strconv.Itoa(req.Height),
		"-r", req.Browse.Resampling, "-ot", ot, "-dstalpha", "-wo", "SKIP_NOSOURCE=YES"}
	// An alpha band in the source is a mask, not a band to warp as data.
	// Alpha at 255 and above is opaque, whatever the data type (as the
	// direct drawing reads it).
	if src.Bands()[nb-1].ColorInterp() == godal.CIAlpha {
		switches = append(switches, "-srcalpha", "-wo", "SRC_ALPHA_MAX=255")
	}
	dst, err := godal.Warp("", []*godal.Dataset{src}, switches, godal.ErrLogger(cog.Errors(r.Log)))
	if err != nil {
		return fmt.Errorf("warp: %w", err)
	}
	defer dst.Close()
	read := make([]int, 0, 4)
	for _, b := range bands {
		read = append(read, b-1)
	}
	read = append(read, len(dst.Bands())-1) // the alpha band
	w, h := req.Width, req.Height
	n := len(read)
	if asBytes {
		buf := make([]byte, w*h*n)
		if err := dst.Read(0, 0, buf, w, h, godal.Bands(read...), godal.ErrLogger(cog.Errors(r.Log))); err != nil {
			return fmt.Errorf("read warped pixels: %w", err)
		}
		compositeBytes(canvas, buf, w, h, n)
		return nil
	}
	buf := make([]float32, w*h*n)
	if err := dst.Read(0, 0, buf, w, h, godal.Bands(read...), godal.ErrLogger(cog.Errors(r.Log))); err != nil {
		return fmt.Errorf("read warped pixels: %w", err)
	}
	compositeFloats(canvas, buf, w, h, n, expr, stretch)
	return nil
}

// compositeBytes composites warped Byte pixels (one or three bands and
// alpha, interleaved) on the canvas.
func compositeBytes(canvas *image.NRGBA, buf []byte, w, h, n int) {
	for y := 0; y < h; y++ {
		row := canvas.Pix[y*canvas.Stride:]
		for x := 0; x < w; x++ {
			px := buf[(y*w+x)*n:]
			a := px[n-1]
			if a == 0 {
				continue
			}
			c := color.NRGBA{px[0], px[0], px[0], a}
			if n == 4 {
				c.G, c.B = px[1], px[2]
			}
			over(row[x*4:x*4+4], c)
		}
	}
}

// compositeFloats stretches warped Float32 pixels (the bands of a browse
// or an expression, and alpha, interleaved) and composites them.
func compositeFloats(canvas *image.NRGBA, buf []float32, w, h, n int, expr *bandexpr.Expr, stretch func(float32) uint8) {
	for y := 0; y < h; y++ {
		row := canvas.Pix[y*canvas.Stride:]
		for x := 0; x < w; x++ {
			px := buf[(y*w+x)*n:]
			a := px[n-1]
			if a <= 0 {
				continue
			}
			alpha := uint8(255)
			if a < 255 {
				alpha = uint8(a)
			}
			var c color.NRGBA
			if expr != nil {
				v := expr.Eval(px[:n-1])
				if math.IsNaN(v) || math.IsInf(v, 0) {
					continue
				}
				g := stretch(float32(v))
				c = color.NRGBA{g, g, g, alpha}
			} else if n == 2 {
				g := stretch(px[0])
				c = color.NRGBA{g, g, g, alpha}
			} else {
				c = color.NRGBA{stretch(px[0]), stretch(px[1]), stretch(px[2]), alpha}
			}
			over(row[x*4:x*4+4], c)
		}
	}
}

// over composites c over the non-premultiplied pixel dst.
func over(dst []uint8, c color.NRGBA) {
	if c.A == 255 || dst[3] == 0 {
		dst[0], dst[1], dst[2], dst[3] = c.R, c.G, c.B, c.A
		return
	}
	sa := float64(c.A) / 255
	da := float64(dst[3]) / 255
	oa := sa + da*(1-sa)
	mix := func(s, d uint8) uint8 {
		return uint8(math.Round((float64(s)*sa + float64(d)*da*(1-sa)) / oa))
	}
	dst[0], dst[1], dst[2] = mix(c.R, dst[0]), mix(c.G, dst[1]), mix(c.B, dst[2])
	dst[3] = uint8(math.Round(oa * 255))
}
