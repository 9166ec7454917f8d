package render

import (
	"math"
	"math/rand"
	"strconv"
	"testing"
)

// testGrid is a w×h request's sample grid over a source seen at scale
// source pixels per output pixel, turned by angle and bent by bend (a
// quadratic term, as a projection change bends straight lines).
func testGrid(w, h, step int, scale, angle, bend, ox, oy float64) *sampleGrid {
	g := &sampleGrid{step: step, xs: nodePositions(w, step), ys: nodePositions(h, step)}
	sin, cos := math.Sincos(angle)
	for _, y := range g.ys {
		for _, x := range g.xs {
			u, v := x*scale, y*scale
			g.sx = append(g.sx, ox+u*cos-v*sin+bend*v*v/float64(h))
			g.sy = append(g.sy, oy+u*sin+v*cos+bend*u*u/float64(w))
		}
	}
	return g
}

type pixelHit struct {
	o  int
	ok bool
}

// pixelByPixel locates every output pixel with rows and window.index, the
// path nearestRuns replaces.
func pixelByPixel(g *sampleGrid, w, h int, win *window) []pixelHit {
	out := make([]pixelHit, w*h)
	g.rows(w, h, func(y int, sxs, sys []float64) {
		for x := range sxs {
			o, ok := win.index(sxs[x], sys[x])
			out[y*w+x] = hit(o, ok)
		}
	})
	return out
}

// hit is a pixel's place; outside the window, the offset means nothing.
func hit(o int, ok bool) pixelHit {
	if !ok {
		o = 0
	}
	return pixelHit{o, ok}
}

func byRuns(t testing.TB, g *sampleGrid, w, h int, win *window) []pixelHit {
	out := make([]pixelHit, w*h)
	next := make([]int, h)
	g.nearestRuns(w, h, win, func(y, x0, x1, o int, ok bool) {
		if x0 != next[y] || x1 <= x0 || x1 > w {
			t.Fatalf("row %d: run [%d, %d) after column %d", y, x0, x1, next[y])
		}
		next[y] = x1
		for x := x0; x < x1; x++ {
			out[y*w+x] = hit(o, ok)
		}
	})
	for y, n := range next {
		if n != w {
			t.Fatalf("row %d: runs end at column %d of %d", y, n, w)
		}
	}
	return out
}

func TestNearestRunsMatchPixelByPixel(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 300; i++ {
		w, h := 1+rng.Intn(300), 1+rng.Intn(120)
		step := []int{1, 2, 8, 32}[rng.Intn(4)]
		// From a quarter of a source pixel per output pixel (4×
		// magnified) to 40 (downsampled), and 1/40 (40× magnified).
		scale := math.Exp(rng.Float64()*math.Log(160)) / 4
		if rng.Intn(5) == 0 {
			scale = 1 / 40.0
		}
		angle := (rng.Float64() - 0.5) * 0.2
		if rng.Intn(4) == 0 {
			angle = 0
		}
		bend := (rng.Float64() - 0.5) * scale * 4
		g := testGrid(w, h, step, scale, angle, bend, (rng.Float64()-0.5)*40, (rng.Float64()-0.5)*40)
		k := []float64{1, 0.5, 0.25}[rng.Intn(3)]
		full := 40 + rng.Float64()*float64(w)*scale
		win := window{kx: k, ky: k, fw: math.Floor(full * k), fh: math.Floor(full * k)}
		win.x0, win.y0 = rng.Intn(8), rng.Intn(8)
		// A window ends within its level.
		win.w, win.h = 1+rng.Intn(int(win.fw)-win.x0), 1+rng.Intn(int(win.fh)-win.y0)
		want := pixelByPixel(g, w, h, &win)
		got := byRuns(t, g, w, h, &win)
		for p := range want {
			if got[p] != want[p] {
				t.Fatalf("case %d (%d×%d, step %d, scale %.3f, angle %.3f, bend %.3f, window %+v): pixel (%d, %d) is %+v by runs, %+v pixel by pixel",
					i, w, h, step, scale, angle, bend, win, p%w, p/w, got[p], want[p])
			}
		}
	}
}

// BenchmarkNearest locates the pixels of a 2048² seeding block turned as a
// UTM source is in Web Mercator, at a seeding's magnifications.
func BenchmarkNearest(b *testing.B) {
	const w = 2048
	for _, scale := range []float64{1, 1.0 / 2, 1.0 / 4, 1.0 / 16} {
		g := testGrid(w, w, 32, scale, 0.02, 0.001, 10, 10)
		win := window{kx: 1, ky: 1, fw: 1e6, fh: 1e6, w: 100000, h: 100000}
		b.Run("runs/scale="+strconv.FormatFloat(scale, 'g', 4, 64), func(b *testing.B) {
			n := 0
			for i := 0; i < b.N; i++ {
				g.nearestRuns(w, w, &win, func(y, x0, x1, o int, ok bool) { n += x1 - x0 })
			}
		})
		b.Run("pixels/scale="+strconv.FormatFloat(scale, 'g', 4, 64), func(b *testing.B) {
			n := 0
			for i := 0; i < b.N; i++ {
				g.rows(w, w, func(y int, sxs, sys []float64) {
					for x := range sxs {
						if o, ok := win.index(sxs[x], sys[x]); ok {
							n += o
						}
					}
				})
			}
		})
	}
}
