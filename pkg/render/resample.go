package render

import (
	"image"
	"image/color"
	"math"
)

// resampler is a non-nearest resampling drawn from the window in Go:
// bilinear, cubic (Keys, a = -0.5, as GDAL's warper) or average (the
// area-weighted mean of the source pixels under the output pixel).
type resampler int

const (
	nearest resampler = iota
	bilinear
	cubic
	average
)

func resamplerOf(name string) (resampler, bool) {
	switch name {
	case "", "nearest":
		return nearest, true
	case "bilinear":
		return bilinear, true
	case "cubic":
		return cubic, true
	case "average":
		return average, true
	}
	return 0, false
}

// margin is how many window pixels a resampling reads beyond the one
// holding a position.
func (r resampler) margin() int {
	if r == nearest {
		return 1
	}
	return 5
}

// cubicWeight is Keys' cubic convolution kernel with a = -0.5.
func cubicWeight(t float64) float64 {
	t = math.Abs(t)
	const a = -0.5
	switch {
	case t <= 1:
		return ((a+2)*t-(a+3))*t*t + 1
	case t < 2:
		return ((a*t-5*a)*t+8*a)*t - 4*a
	}
	return 0
}

// taps fills idx and w with the window positions along one axis that
// resampling method r reads around level position p (pixel centres at
// i + 0.5), with their weights, and returns how many it filled. s is how
// many level pixels an output pixel spans (at least 1): shrinking, the
// kernels widen by s, as GDAL's warper does, so that every pixel under
// the output pixel counts; average takes the area under it.
func taps(r resampler, p, s float64, n int, idx *[maxTaps]int, w *[maxTaps]float64) int {
	if s < 1 {
		s = 1
	} else if s > 2 {
		s = 2 // past 2: no overview fine enough to spare
	}
	u := p - 0.5
	var lo, hi float64 // the reach of the kernel around u
	switch r {
	case bilinear:
		lo, hi = u-s, u+s
	case cubic:
		lo, hi = u-2*s, u+2*s
	case average:
		lo, hi = p-s/2, p+s/2
	default:
		return 0
	}
	first := int(math.Floor(lo))
	k := 0
	for i := first; float64(i) <= hi && k < maxTaps; i++ {
		if i < 0 || i >= n {
			continue
		}
		var wt float64
		switch r {
		case bilinear:
			if d := math.Abs(float64(i)-u) / s; d < 1 {
				wt = 1 - d
			}
		case cubic:
			wt = cubicWeight((float64(i) - u) / s)
		case average:
			a, b := float64(i), float64(i+1)
			if a < lo {
				a = lo
			}
			if b > hi {
				b = hi
			}
			wt = b - a
		}
		if wt != 0 {
			idx[k], w[k] = i, wt
			k++
		}
	}
	return k
}

// maxTaps bounds the taps along one axis: cubic reaches 2s level pixels
// either side of the position, s at most 2 (the overview read is never
// more than twice as fine as the request, short of the finest level).
const maxTaps = 12

// drawResampled is drawRGB with resampling r: lut gives each value's byte
// (values are rounded and clamped to the type's range first). A pixel
// is drawn when the source pixel under its centre is valid; invalid
// neighbours are left out of the weights.
func drawResampled[T uint8 | uint16](canvas *image.NRGBA, req Request, g *sampleGrid, bands [3][]T, lut []uint8, valid []byte, nd [3]float64, checkND bool, win window, r resampler) {
	rb, gb, bb := bands[0], bands[1], bands[2]
	// mask: nonzero where a window pixel is valid; nil when all are.
	mask := valid
	if mask == nil {
		var n [3]T
		for i, v := range nd {
			n[i] = T(v)
			checkND = checkND && v >= 0 && v == math.Trunc(v) && float64(T(v)) == v
		}
		if checkND {
			mask = getBytes(len(rb))
			defer putBytes(mask)
			for o := range mask {
				mask[o] = 1
				if rb[o] == n[0] && gb[o] == n[1] && bb[o] == n[2] {
					mask[o] = 0
				}
			}
		}
	}
	top := float32(len(lut) - 1)
	level := func(v, sw float32) uint8 {
		v = v/sw + 0.5
		if v < 0 {
			v = 0
		} else if v > top {
			v = top
		}
		return lut[int(v)]
	}
	sx, sy := win.scale*win.kx, win.scale*win.ky
	g.rows(req.Width, req.Height, func(y int, sxs, sys []float64) {
		line := canvas.Pix[y*canvas.Stride : y*canvas.Stride+len(sxs)*4]
		var ix, iy [maxTaps]int
		var wx, wy [maxTaps]float64
		for x := range sxs {
			o, in := win.index(sxs[x], sys[x])
			if !in || mask != nil && mask[o] == 0 {
				continue
			}
			lx, ly := sxs[x]*win.kx-float64(win.x0), sys[x]*win.ky-float64(win.y0)
			nx := taps(r, lx, sx, win.w, &ix, &wx)
			ny := taps(r, ly, sy, win.h, &iy, &wy)
			var sr, sg, sb, sw float32
			for j := 0; j < ny; j++ {
				row := iy[j] * win.w
				wj := float32(wy[j])
				for i := 0; i < nx; i++ {
					p := row + ix[i]
					if mask != nil && mask[p] == 0 {
						continue
					}
					wt := float32(wx[i]) * wj
					sr += wt * float32(rb[p])
					sg += wt * float32(gb[p])
					sb += wt * float32(bb[p])
					sw += wt
				}
			}
			if sw <= 0 {
				continue
			}
			a := byte(255)
			if valid != nil {
				a = valid[o]
			}
			c := color.NRGBA{level(sr, sw), level(sg, sw), level(sb, sw), a}
			px := line[x*4 : x*4+4 : x*4+4]
			if a == 255 || px[3] == 0 {
				px[0], px[1], px[2], px[3] = c.R, c.G, c.B, a
			} else {
				over(px, c)
			}
		}
	})
}
