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
