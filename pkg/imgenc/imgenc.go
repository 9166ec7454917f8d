// Package imgenc encodes map images fast: JPEG with libjpeg-turbo, PNG
// with one fixed row filter and a fast deflate.
package imgenc

import (
	"image"
	"image/color"
)

// Flatten composites a non-premultiplied image over an opaque background
// into RGB bytes.
func Flatten(img *image.NRGBA, bg color.NRGBA) []byte {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]byte, w*h*3)
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+w*4]
		o := out[y*w*3 : (y+1)*w*3]
		for x := 0; x < w; x++ {
			p := row[x*4 : x*4+4 : x*4+4]
			q := o[x*3 : x*3+3 : x*3+3]
			switch a := uint32(p[3]); a {
			case 255:
				q[0], q[1], q[2] = p[0], p[1], p[2]
			case 0:
				q[0], q[1], q[2] = bg.R, bg.G, bg.B
			default:
				ia := 255 - a
				q[0] = byte((uint32(p[0])*a + uint32(bg.R)*ia + 127) / 255)
				q[1] = byte((uint32(p[1])*a + uint32(bg.G)*ia + 127) / 255)
				q[2] = byte((uint32(p[2])*a + uint32(bg.B)*ia + 127) / 255)
			}
		}
	}
	return out
}

// Palette8 is the palette of 8-bit PNGs: index 0 transparent, then a
// 6×7×6 colour cube (green, to which the eye is most sensitive, gets
// seven levels).
var Palette8 = func() color.Palette {
	p := color.Palette{color.NRGBA{}}
	for r := 0; r < 6; r++ {
		for g := 0; g < 7; g++ {
			for b := 0; b < 6; b++ {
				p = append(p, color.NRGBA{uint8(r * 255 / 5), uint8(g * 255 / 6), uint8(b * 255 / 5), 255})
			}
		}
	}
	return p
}()

// Paletted maps img to Palette8: pixels less than half opaque become
// transparent, the others the nearest colour of the cube.
func Paletted(img *image.NRGBA) *image.Paletted {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewPaletted(image.Rect(0, 0, w, h), Palette8)
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+w*4]
		o := out.Pix[y*out.Stride : y*out.Stride+w]
		for x := range o {
			p := row[x*4 : x*4+4 : x*4+4]
			if p[3] < 128 {
				o[x] = 0
				continue
			}
			r := (uint32(p[0])*5 + 127) / 255
			g := (uint32(p[1])*6 + 127) / 255
			bl := (uint32(p[2])*5 + 127) / 255
			o[x] = uint8(1 + r*42 + g*6 + bl)
		}
	}
	return out
}
