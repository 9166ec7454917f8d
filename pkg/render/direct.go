package render

import (
	"encoding/binary"
	"image"
	"image/color"
	"math"
	"sync"
	"sync/atomic"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/bandexpr"
)

// GDAL mask flags.
const (
	gmfPerDataset = 0x02
	gmfAlpha      = 0x04
)

// maxTransformError is the largest error, in source pixels, allowed when
// source positions are interpolated between exactly transformed nodes
// (GDAL's warper allows the same by default).
const maxTransformError = 0.125

// sampleGrid maps the centres of a request's output pixels to source pixel
// positions: exactly at nodes every step pixels, bilinearly in between.
type sampleGrid struct {
	step   int
	xs, ys []float64 // node positions in output pixels (pixel centres)
	sx, sy []float64 // source pixel position of each node, row-major
}

func nodePositions(n, step int) []float64 {
	var out []float64
	for p := 0; p < n-1; p += step {
		out = append(out, float64(p)+0.5)
	}
	return append(out, float64(n-1)+0.5)
}

// transformPoints maps output pixel positions to source pixel positions;
// ok is false if any point fails to transform.
func transformPoints(tr *godal.Transform, gt [6]float64, req Request, px, py []float64) (sx, sy []float64, ok bool) {
	b := req.BBox
	resx := (b[2] - b[0]) / float64(req.Width)
	resy := (b[3] - b[1]) / float64(req.Height)
	sx = make([]float64, len(px))
	sy = make([]float64, len(px))
	for i := range px {
		sx[i] = b[0] + px[i]*resx
		sy[i] = b[3] - py[i]*resy
	}
	done := make([]bool, len(px))
	if err := tr.TransformEx(sx, sy, nil, done); err != nil {
		return nil, nil, false
	}
	for i := range px {
		if !done[i] || math.IsNaN(sx[i]) || math.IsNaN(sy[i]) || math.IsInf(sx[i], 0) || math.IsInf(sy[i], 0) {
			return nil, nil, false
		}
		sx[i] = (sx[i] - gt[0]) / gt[1]
		sy[i] = (sy[i] - gt[3]) / gt[5]
	}
	return sx, sy, true
}

// newSampleGrid transforms nodes every step pixels, and refines the step
// until interpolating between nodes stays within maxTransformError.
func newSampleGrid(tr *godal.Transform, gt [6]float64, req Request) (*sampleGrid, bool) {
	for step := 32; ; step /= 4 {
		if step < 1 {
			step = 1
		}
		g := &sampleGrid{step: step, xs: nodePositions(req.Width, step), ys: nodePositions(req.Height, step)}
		var px, py []float64
		for _, y := range g.ys {
			for _, x := range g.xs {
				px, py = append(px, x), append(py, y)
			}
		}
		var ok bool
		if g.sx, g.sy, ok = transformPoints(tr, gt, req, px, py); !ok {
			return nil, false
		}
		if step == 1 || len(g.xs) < 2 || len(g.ys) < 2 {
			return g, true
		}
		// Check the interpolation at the middle of every cell.
		var cx, cy []float64
		for j := 0; j+1 < len(g.ys); j++ {
			for i := 0; i+1 < len(g.xs); i++ {
				cx, cy = append(cx, (g.xs[i]+g.xs[i+1])/2), append(cy, (g.ys[j]+g.ys[j+1])/2)
			}
		}
		ex, ey, ok := transformPoints(tr, gt, req, cx, cy)
		if !ok {
			return nil, false
		}
		worst := 0.0
		n := len(g.xs)
		k := 0
		for j := 0; j+1 < len(g.ys); j++ {
			for i := 0; i+1 < len(g.xs); i++ {
				a, b, c, d := j*n+i, j*n+i+1, (j+1)*n+i, (j+1)*n+i+1
				ix := (g.sx[a] + g.sx[b] + g.sx[c] + g.sx[d]) / 4
				iy := (g.sy[a] + g.sy[b] + g.sy[c] + g.sy[d]) / 4
				worst = math.Max(worst, math.Hypot(ix-ex[k], iy-ey[k]))
				k++
			}
		}
		if worst <= maxTransformError {
			return g, true
		}
	}
}

// scale returns the smallest number of source pixels per output pixel
// along the rows and columns of the grid.
func (g *sampleGrid) scale() float64 {
	n := len(g.xs)
	s := math.Inf(1)
	for j := range g.ys {
		for i := range g.xs {
			a := j*n + i
			if i+1 < n {
				s = math.Min(s, math.Hypot(g.sx[a+1]-g.sx[a], g.sy[a+1]-g.sy[a])/(g.xs[i+1]-g.xs[i]))
			}
			if j+1 < len(g.ys) {
				s = math.Min(s, math.Hypot(g.sx[a+n]-g.sx[a], g.sy[a+n]-g.sy[a])/(g.ys[j+1]-g.ys[j]))
			}
		}
	}
	if math.IsInf(s, 1) {
		return 1
	}
	return s
}

// bounds returns the source pixel extent of the nodes.
func (g *sampleGrid) bounds() (minX, minY, maxX, maxY float64) {
	minX, minY, maxX, maxY = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := range g.sx {
		minX, maxX = math.Min(minX, g.sx[i]), math.Max(maxX, g.sx[i])
		minY, maxY = math.Min(minY, g.sy[i]), math.Max(maxY, g.sy[i])
	}
	return
}

// gridRows interpolates the source positions of the output pixels of one
// row at a time: rows and nearestRuns share it, so both give every pixel
// the same position, to the bit.
type gridRows struct {
	g          *sampleGrid
	ci, ci1    []int     // each column's cell: the nodes on either side
	ct         []float64 // each column's place between them
	rowX, rowY []float64 // the row's source positions at the nodes' columns
}

// cellOf returns the nodes either side of output position p and p's place
// between them.
func (g *sampleGrid) cellOf(p float64, nodes []float64) (int, int, float64) {
	if len(nodes) < 2 {
		return 0, 0, 0
	}
	i := int(p-0.5) / g.step
	if i > len(nodes)-2 {
		i = len(nodes) - 2
	}
	return i, i + 1, (p - nodes[i]) / (nodes[i+1] - nodes[i])
}

func (g *sampleGrid) newRows(w int) *gridRows {
	r := &gridRows{g: g, ci: make([]int, w), ci1: make([]int, w), ct: make([]float64, w),
		rowX: make([]float64, len(g.xs)), rowY: make([]float64, len(g.xs))}
	for x := 0; x < w; x++ {
		r.ci[x], r.ci1[x], r.ct[x] = g.cellOf(float64(x)+0.5, g.xs)
	}
	return r
}

// setRow interpolates the nodes' source positions for output row y.
func (r *gridRows) setRow(y int) {
	g := r.g
	n := len(g.xs)
	j, j1, ty := g.cellOf(float64(y)+0.5, g.ys)
	for i := 0; i < n; i++ {
		a, b := j*n+i, j1*n+i
		r.rowX[i] = g.sx[a] + (g.sx[b]-g.sx[a])*ty
		r.rowY[i] = g.sy[a] + (g.sy[b]-g.sy[a])*ty
	}
}

// at returns the source position of column x in the current row.
func (r *gridRows) at(x int) (float64, float64) {
	i, i1, tx := r.ci[x], r.ci1[x], r.ct[x]
	return r.rowX[i] + (r.rowX[i1]-r.rowX[i])*tx, r.rowY[i] + (r.rowY[i1]-r.rowY[i])*tx
}

// rows interpolates the source positions of the output pixels row by row:
// for each row y it fills sx and sy (one entry per column) and calls fn.
func (g *sampleGrid) rows(w, h int, fn func(y int, sx, sy []float64)) {
	r := g.newRows(w)
	sx := make([]float64, w)
	sy := make([]float64, w)
	for y := 0; y < h; y++ {
		r.setRow(y)
		for x := 0; x < w; x++ {
			sx[x], sy[x] = r.at(x)
		}
		fn(y, sx, sy)
	}
}

// drawDirect draws a coverage with nearest-neighbour resampling by reading
// the window it needs, at the coarsest overview still at least as fine as
// the request, from a pooled dataset, and sampling it in Go. It reports
// false, having drawn nothing, for the cases it leaves to GDAL's warper:
// rotated grids, no CRS, points that do not transform.
func drawDirect(canvas *image.NRGBA, req Request, h *Handle, bands []int, expr *bandexpr.Expr, asBytes bool, stretch func(float32) uint8, rs resampler) (bool, error) {
	gt := h.GT
	if h.GTErr != nil || h.SRS == nil || gt[2] != 0 || gt[4] != 0 || gt[1] == 0 || gt[5] == 0 {
		return false, nil
	}
	tr, err := h.From(req.CRS.Code)
	if err != nil {
		return false, nil
	}
	g, ok := newSampleGrid(tr, gt, req)
	if !ok {
		return false, nil
	}
	first := h.Bands[bands[0]-1]
	integers := expr == nil && (asBytes || first.Structure().DataType == godal.UInt16)
	if rs != nearest && !integers {
		return false, nil // other resamplings of other data: GDAL's warper
	}
	win, at, reach := readWindow(g, h, first, rs.margin())
	switch reach {
	case windowOutside:
		return true, nil // the request does not reach the coverage
	case windowTooLarge:
		return false, nil
	}
	valid, err := readValidity(at, h, first, win)
	if valid != nil {
		defer putBytes(valid)
	}
	if err != nil {
		return false, err
	}
	nd := bandNoData(h, bands, valid == nil)
	// One or three bands of integers, the common cases: through a lookup
	// table (bytes as they are, UInt16 stretched), a grey band as three.
	if integers {
		return true, drawIntegers(canvas, req, g, at, h, bands, win, valid, nd, asBytes, stretch, rs)
	}
	floatBuf, err := readBands[float32](at, h, bands, win, nil)
	if err != nil {
		return false, err
	}
	drawFloats(canvas, req, g, win, floatBuf, valid, nd, expr, stretch)
	return true, nil
}

// Where a request's window lies on a coverage.
const (
	windowInside = iota
	windowOutside
	windowTooLarge
)

// readWindow picks the overview level to read, the coarsest whose pixels
// are no larger than the request's, and the window of it that the
// request's samples fall in (with margin pixels around them); at maps a
// full-resolution band to that level.
func readWindow(g *sampleGrid, h *Handle, first godal.Band, margin int) (win window, at func(godal.Band) godal.Band, reach int) {
	f := g.scale()
	level := -1
	lw, lh := h.Width, h.Height
	for k, o := range first.Overviews() {
		st := o.Structure()
		if float64(h.Width)/float64(st.SizeX) <= f && float64(h.Height)/float64(st.SizeY) <= f {
			level, lw, lh = k, st.SizeX, st.SizeY
		}
	}
	kx, ky := float64(lw)/float64(h.Width), float64(lh)/float64(h.Height)
	minX, minY, maxX, maxY := g.bounds()
	m := float64(margin)
	x0 := int(math.Max(0, math.Floor(minX*kx)-m))
	y0 := int(math.Max(0, math.Floor(minY*ky)-m))
	x1 := int(math.Min(float64(lw), math.Ceil(maxX*kx)+m))
	y1 := int(math.Min(float64(lh), math.Ceil(maxY*ky)+m))
	at = func(b godal.Band) godal.Band {
		if level < 0 {
			return b
		}
		return b.Overviews()[level]
	}
	win = window{kx: kx, ky: ky, fw: float64(lw), fh: float64(lh), x0: x0, y0: y0, w: x1 - x0, h: y1 - y0, level: level, scale: f}
	switch {
	case x1 <= x0 || y1 <= y0:
		return win, at, windowOutside
	case int64(win.w)*int64(win.h) > 64<<20:
		return win, at, windowTooLarge
	}
	return win, at, windowInside
}

// readValidity reads the window's validity, from an alpha band or a
// per-dataset mask, into a pooled buffer (the caller returns it with
// putBytes); nil when nodata values say what is empty instead.
func readValidity(at func(godal.Band) godal.Band, h *Handle, first godal.Band, win window) ([]byte, error) {
	var src godal.Band
	last := h.Bands[len(h.Bands)-1]
	switch {
	case len(h.Bands) > 1 && last.ColorInterp() == godal.CIAlpha:
		src = at(last)
	case first.MaskFlags()&gmfPerDataset != 0 && first.MaskFlags()&gmfAlpha == 0:
		src = at(first).MaskBand()
	default:
		return nil, nil
	}
	valid := getBytes(win.w * win.h)
	return valid, src.Read(win.x0, win.y0, valid, win.w, win.h)
}

// noData are the nodata values of the bands drawn.
type noData struct {
	values []float64
	set    []bool
	// all: every band drawn has a nodata value (and no mask says what
	// is valid), so a pixel is empty when every band holds its nodata.
	all bool
}

func bandNoData(h *Handle, bands []int, noMask bool) noData {
	nd := noData{values: make([]float64, len(bands)), set: make([]bool, len(bands)), all: noMask}
	for i, b := range bands {
		nd.values[i], nd.set[i] = h.Bands[b-1].NoData()
		nd.all = nd.all && nd.set[i]
	}
	return nd
}

// drawIntegers draws one or three Byte or UInt16 bands through a lookup
// table: bytes as they are, UInt16 values stretched; with nearest
// neighbours or resampling rs.
func drawIntegers(canvas *image.NRGBA, req Request, g *sampleGrid, at func(godal.Band) godal.Band, h *Handle, bands []int, win window,
	valid []byte, nd noData, asBytes bool, stretch func(float32) uint8, rs resampler) error {
	pick := [3]int{0, 0, 0}
	if len(bands) == 3 {
		pick = [3]int{0, 1, 2}
	}
	var nd3 [3]float64
	for i := range nd3 {
		nd3[i] = nd.values[pick[i]]
	}
	if asBytes {
		buf, err := readIntegers(at, h, bands, win, getBytes)
		defer func() {
			for _, b := range buf {
				putBytes(b)
			}
		}()
		if err != nil {
			return err
		}
		drawPicked(canvas, req, g, [3][]byte{buf[pick[0]], buf[pick[1]], buf[pick[2]]}, identity[:], valid, nd3, nd.all, win, rs)
		return nil
	}
	buf, err := readIntegers(at, h, bands, win, getUint16s)
	defer func() {
		for _, b := range buf {
			putUint16s(b)
		}
	}()
	if err != nil {
		return err
	}
	drawPicked(canvas, req, g, [3][]uint16{buf[pick[0]], buf[pick[1]], buf[pick[2]]}, stretchLUT(req.Browse.Range, stretch), valid, nd3, nd.all, win, rs)
	return nil
}

// drawPicked draws three bands of integers with nearest neighbours or
// resampling rs.
func drawPicked[T uint8 | uint16](canvas *image.NRGBA, req Request, g *sampleGrid, bands [3][]T, lut []uint8, valid []byte, nd [3]float64, checkND bool, win window, rs resampler) {
	if rs == nearest {
		drawRGB(canvas, req, g, bands, lut, valid, nd, checkND, win)
		return
	}
	drawResampled(canvas, req, g, bands, lut, valid, nd, checkND, win, rs)
}

// readIntegers reads the window of each band from the pool's shared block
// cache, into buffers from get; without a cache, from the handle.
func readIntegers[T byte | uint16](at func(godal.Band) godal.Band, h *Handle, bands []int, win window, get func(int) []T) ([][]T, error) {
	if h.blocks == nil {
		return readBands(at, h, bands, win, get)
	}
	out := make([][]T, len(bands))
	for i := range out {
		out[i] = get(win.w * win.h)
	}
	return out, readCached(h.blocks, h, at, bands, win, out)
}

// drawFloats draws any other band type, or a band expression, sample by
// sample.
func drawFloats(canvas *image.NRGBA, req Request, g *sampleGrid, win window, floatBuf [][]float32, valid []byte, nd noData,
	expr *bandexpr.Expr, stretch func(float32) uint8) {
	vals := make([]float32, len(floatBuf))
	g.rows(req.Width, req.Height, func(y int, sxs, sys []float64) {
		line := canvas.Pix[y*canvas.Stride:]
		for x := range sxs {
			o, ok := win.index(sxs[x], sys[x])
			if !ok {
				continue
			}
			a := uint8(255)
			if valid != nil {
				if a = valid[o]; a == 0 {
					continue
				}
			}
			c, ok := floatColor(floatBuf, o, valid == nil, nd, expr, vals, stretch)
			if !ok {
				continue
			}
			c.A = a
			px := line[x*4 : x*4+4]
			if c.A == 255 || px[3] == 0 {
				px[0], px[1], px[2], px[3] = c.R, c.G, c.B, c.A
			} else {
				over(px, c)
			}
		}
	})
}

// floatColor is the colour of sample o (opaque), or false when it is
// empty: an expression with a band missing or no finite value, or every
// band nodata. checkND says whether nodata values decide (no mask does).
func floatColor(floatBuf [][]float32, o int, checkND bool, nd noData, expr *bandexpr.Expr, vals []float32, stretch func(float32) uint8) (color.NRGBA, bool) {
	if expr != nil {
		// Any band missing leaves the expression undefined.
		missing := false
		for i := range floatBuf {
			v := floatBuf[i][o]
			vals[i] = v
			missing = missing || math.IsNaN(float64(v)) || (checkND && nd.set[i] && float64(v) == nd.values[i])
		}
		e := expr.Eval(vals)
		if missing || math.IsNaN(e) || math.IsInf(e, 0) {
			return color.NRGBA{}, false
		}
		v := stretch(float32(e))
		return color.NRGBA{v, v, v, 255}, true
	}
	all := true
	for i := range floatBuf {
		v := float64(floatBuf[i][o])
		if !(math.IsNaN(v) || (checkND && nd.set[i] && v == nd.values[i])) {
			all = false
			break
		}
	}
	if all {
		return color.NRGBA{}, false
	}
	if len(floatBuf) == 1 {
		v := stretch(floatBuf[0][o])
		return color.NRGBA{v, v, v, 255}, true
	}
	return color.NRGBA{stretch(floatBuf[0][o]), stretch(floatBuf[1][o]), stretch(floatBuf[2][o]), 255}, true
}

// window is the part of a source level a drawing reads.
type window struct {
	kx, ky       float64 // level pixels per full-resolution pixel
	fw, fh       float64 // the level's size
	x0, y0, w, h int     // the window, in level pixels
	level        int     // overview index, -1 for full resolution
	scale        float64 // full-resolution pixels per output pixel (the least)
}

// index returns the offset, in the window's buffers, of the pixel holding
// full-resolution source position (sx, sy).
func (win *window) index(sx, sy float64) (int, bool) {
	lx, ly := sx*win.kx, sy*win.ky
	if lx < 0 || ly < 0 || lx >= win.fw || ly >= win.fh {
		return 0, false
	}
	ix, iy := int(lx)-win.x0, int(ly)-win.y0
	// One unsigned comparison per axis (a negative offset wraps above
	// the size) keeps the function small enough to be inlined in the
	// drawing loops.
	if uint(ix) >= uint(win.w) || uint(iy) >= uint(win.h) {
		return 0, false
	}
	return iy*win.w + ix, true
}

// readBands reads the window of each band, into buffers from get when it
// is set. The buffers read so far come back with an error too.
func readBands[T byte | uint16 | float32](at func(godal.Band) godal.Band, h *Handle, bands []int, win window, get func(int) []T) ([][]T, error) {
	out := make([][]T, 0, len(bands))
	for _, b := range bands {
		var buf []T
		if get != nil {
			buf = get(win.w * win.h)
		} else {
			buf = make([]T, win.w*win.h)
		}
		out = append(out, buf)
		if err := at(h.Bands[b-1]).Read(win.x0, win.y0, buf, win.w, win.h); err != nil {
			return out, err
		}
	}
	return out, nil
}

// identity maps bytes to themselves.
var identity = func() (t [256]uint8) {
	for i := range t {
		t[i] = uint8(i)
	}
	return
}()

var luts sync.Map // [2]float64 range → []uint8

// lutCount counts the tables stored in luts, at most maxLUTs (64 KiB each).
var lutCount atomic.Int64

const maxLUTs = 1024

// stretchLUT is stretch for every UInt16 value, made once per range.
func stretchLUT(rng []float64, stretch func(float32) uint8) []uint8 {
	key := [2]float64{0, 255}
	if len(rng) == 2 {
		key = [2]float64{rng[0], rng[1]}
	}
	if l, ok := luts.Load(key); ok {
		return l.([]uint8)
	}
	lut := make([]uint8, 1<<16)
	for v := range lut {
		lut[v] = stretch(float32(v))
	}
	// Automatic stretches give each product type (or product) a range of
	// its own: past maxLUTs the tables are made per draw (65536 values,
	// well under a millisecond) rather than kept without bound.
	if lutCount.Add(1) <= maxLUTs {
		luts.Store(key, lut)
	}
	return lut
}

// drawRGB is drawDirect's loop for three bands of integers: lut gives each
// value's byte. checkND: a pixel whose three bands equal their nodata
// values is empty. Magnified, it draws runs of pixels from one source pixel
// at a time (nearestRuns); otherwise pixel by pixel.
func drawRGB[T uint8 | uint16](canvas *image.NRGBA, req Request, g *sampleGrid, bands [3][]T, lut []uint8, valid []byte, nd [3]float64, checkND bool, win window) {
	src := rgbSource[T]{r: bands[0], g: bands[1], b: bands[2], lut: lut, valid: valid, checkND: checkND}
	// Nodata values the type cannot hold never match.
	for i, v := range nd {
		src.nd[i] = T(v)
		src.checkND = src.checkND && v >= 0 && v == math.Trunc(v) && float64(T(v)) == v
	}
	if magnifiedRuns(&win) {
		g.nearestRuns(req.Width, req.Height, &win, func(y, x0, x1, o int, ok bool) {
			if !ok {
				return
			}
			if c := src.at(o); c.A != 0 {
				putRun(canvas.Pix[y*canvas.Stride+x0*4:y*canvas.Stride+x1*4], c)
			}
		})
		return
	}
	g.rows(req.Width, req.Height, func(y int, sxs, sys []float64) {
		line := canvas.Pix[y*canvas.Stride : y*canvas.Stride+len(sxs)*4]
		for x := range sxs {
			o, ok := win.index(sxs[x], sys[x])
			if !ok {
				continue
			}
			// src.at's body, which the inliner does not take in.
			rv, gv, bv := src.r[o], src.g[o], src.b[o]
			a := byte(255)
			if src.valid != nil {
				if a = src.valid[o]; a == 0 {
					continue
				}
			} else if src.checkND && rv == src.nd[0] && gv == src.nd[1] && bv == src.nd[2] {
				continue
			}
			c := color.NRGBA{src.lut[rv], src.lut[gv], src.lut[bv], a}
			p := line[x*4 : x*4+4 : x*4+4]
			if c.A == 255 || p[3] == 0 {
				p[0], p[1], p[2], p[3] = c.R, c.G, c.B, c.A
			} else {
				over(p, c)
			}
		}
	})
}

// rgbSource is three bands of a window and what makes their colours.
type rgbSource[T uint8 | uint16] struct {
	r, g, b []T
	lut     []uint8
	valid   []byte // alpha per pixel, or nil
	nd      [3]T
	checkND bool // a pixel whose three bands hold nd is empty
}

// at is the colour of window pixel o, transparent for an empty one.
func (s *rgbSource[T]) at(o int) color.NRGBA {
	rv, gv, bv := s.r[o], s.g[o], s.b[o]
	a := byte(255)
	if s.valid != nil {
		a = s.valid[o]
	} else if s.checkND && rv == s.nd[0] && gv == s.nd[1] && bv == s.nd[2] {
		a = 0
	}
	return color.NRGBA{s.lut[rv], s.lut[gv], s.lut[bv], a}
}

// putRun draws c over every pixel of run (NRGBA bytes): an opaque colour
// is stored as it is, a translucent one blended over what is drawn.
func putRun(run []byte, c color.NRGBA) {
	if c.A == 255 {
		v := uint32(c.R) | uint32(c.G)<<8 | uint32(c.B)<<16 | 255<<24
		for len(run) >= 4 {
			binary.LittleEndian.PutUint32(run, v)
			run = run[4:]
		}
		return
	}
	for i := 0; i+4 <= len(run); i += 4 {
		p := run[i : i+4 : i+4]
		if p[3] == 0 {
			p[0], p[1], p[2], p[3] = c.R, c.G, c.B, c.A
		} else {
			over(p, c)
		}
	}
}

// Window buffers are reused: a request reads a few of them, each up to
// megabytes.
var bytePool sync.Pool

func getBytes(n int) []byte {
	if b, ok := bytePool.Get().(*[]byte); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]byte, n)
}

func putBytes(b []byte) {
	if cap(b) <= 16<<20 {
		bytePool.Put(&b)
	}
}

var uint16Pool sync.Pool

func getUint16s(n int) []uint16 {
	if b, ok := uint16Pool.Get().(*[]uint16); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]uint16, n)
}

func putUint16s(b []uint16) {
	if cap(b) <= 8<<20 {
		uint16Pool.Put(&b)
	}
}
