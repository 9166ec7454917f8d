package render

import "math"

// Nearest-neighbour sampling by runs. When a request magnifies its source,
// neighbouring output pixels fall in the same source pixel: a 16×
// magnification draws each source pixel sixteen times along a row. Instead
// of locating every output pixel, nearestRuns finds where along a row the
// source pixel changes and hands out runs of pixels drawn from one source
// pixel.
//
// Within one cell of the sample grid the source position of a row's pixels
// is p0 + d·t with t rising with the column, so each axis's source pixel
// only rises or only falls along the cell (floating-point rounding keeps
// that order: rounding is monotonic). Two columns of a cell that fall in
// the same source pixel therefore enclose columns that fall in it too, and
// a run is found by testing its ends, with the exact arithmetic of the
// pixel-by-pixel path: the pixels drawn are the same. Runs end where they
// ended on the row above, or close by: each row tests the runs of the row
// above (two probes each, independent of each other) and splits the ones
// that no longer hold by bisection.

// magnifiedRuns says whether nearestRuns pays: from three output pixels
// per level pixel (BenchmarkNearest: at two, locating runs takes longer
// than locating every pixel; at four, less even before the pixels drawn
// per run are counted).
func magnifiedRuns(win *window) bool {
	return win.scale*math.Max(win.kx, win.ky) <= 1.0/3
}

// cellLine is one row's source positions along one cell of the sample
// grid, in the window's level pixels.
type cellLine struct {
	ax, dx, ay, dy float64   // source position = a + d·t
	ct             []float64 // each column's t
	kx, ky         float64   // the window's level pixels per source pixel
	x0, y0, w, h   float64   // the window, in level pixels
}

func newCellLine(ct []float64, win *window) cellLine {
	return cellLine{ct: ct, kx: win.kx, ky: win.ky,
		x0: float64(win.x0), y0: float64(win.y0), w: float64(win.w), h: float64(win.h)}
}

// at is where column x falls: its pixel in the window plus one along each
// axis, 0 before the window and the window's size plus one past it, packed
// in one word (each axis's part still only rises or falls along a cell).
// In the window, the pixel is the one window.index gives for the position
// gridRows.at gives; outside it, index refuses it: l-x0 is exact (x0 is a
// whole number no larger than a window's source positions need), and a
// window ends within its level.
func (c *cellLine) at(x int) uint64 {
	t := c.ct[x]
	return axisCode((c.ax+c.dx*t)*c.kx-c.x0, c.w)<<32 | axisCode((c.ay+c.dy*t)*c.ky-c.y0, c.h)
}

// axisCode is window position u's pixel plus one on an axis n pixels
// long: 0 before it, n+1 past it.
func axisCode(u, n float64) uint64 {
	if u < 0 {
		return 0
	}
	if u >= n {
		return uint64(n) + 1
	}
	return uint64(u) + 1
}

// offset is code's offset in a w×h window's buffers, or false outside it.
func offset(code uint64, w, h int) (int, bool) {
	x, y := int(code>>32)-1, int(uint32(code))-1
	if x < 0 || y < 0 || x >= w || y >= h {
		return 0, false
	}
	return y*w + x, true
}

// nearestRuns calls fn, for every row y of a w×h request, with each run
// [x0, x1) of columns whose source positions fall in the same pixel of win
// (o its offset in the window's buffers), or outside the window (ok false).
// Runs end at the sample grid's cells.
func (g *sampleGrid) nearestRuns(w, h int, win *window, fn func(y, x0, x1, o int, ok bool)) {
	r := g.newRows(w)
	// The cells' first columns, and w.
	var cells []int
	for x := 0; x < w; x++ {
		if x == 0 || r.ci[x] != r.ci[x-1] {
			cells = append(cells, x)
		}
	}
	cells = append(cells, w)
	// The runs' first columns within cells on the row above, and on this.
	var above, ends []int
	c := newCellLine(r.ct, win)
	for y := 0; y < h; y++ {
		r.setRow(y)
		ends = ends[:0]
		next := 0 // the first of above's columns not yet passed
		for k := 0; k+1 < len(cells); k++ {
			a, end := cells[k], cells[k+1]
			i, i1 := r.ci[a], r.ci1[a]
			c.ax, c.dx = r.rowX[i], r.rowX[i1]-r.rowX[i]
			c.ay, c.dy = r.rowY[i], r.rowY[i1]-r.rowY[i]
			// The run being drawn: from start, falling at code.
			start, code := a, c.at(a)
			// emit takes [x, e), known to fall at cx, into the run.
			emit := func(x, e int, cx uint64) {
				if cx != code {
					o, ok := offset(code, win.w, win.h)
					fn(y, start, x, o, ok)
					ends = append(ends, x)
					start, code = x, cx
				}
			}
			for x, p := a, code; x < end; {
				// The row above ran from x to e.
				e := end
				for next < len(above) && above[next] <= x {
					next++
				}
				if next < len(above) && above[next] < end {
					e = above[next]
				}
				q := p
				if e-1 > x {
					q = c.at(e - 1)
				}
				// Split [x, e) where it no longer falls in one pixel.
				for q != p {
					lo, hi := x, e-1 // lo falls at p, hi does not
					for hi-lo > 1 {
						m := int(uint(lo+hi) / 2)
						if c.at(m) == p {
							lo = m
						} else {
							hi = m
						}
					}
					emit(x, hi, p)
					x, p = hi, c.at(hi)
				}
				emit(x, e, p)
				x = e
				if x < end {
					p = c.at(x)
				}
			}
			o, ok := offset(code, win.w, win.h)
			fn(y, start, end, o, ok)
		}
		above, ends = ends, above
	}
}
