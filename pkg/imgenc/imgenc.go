// Package imgenc encodes map images fast: JPEG through GDAL's driver
// (libjpeg-turbo), PNG with one fixed row filter and fast deflate.
package imgenc

import (
	"fmt"
	"image"
	"image/color"
	"io"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/airbusgeo/godal"
)

var (
	seq      atomic.Int64
	register sync.Once
)

// encode writes the pixels (pixel-interleaved, n bands) as format through
// a /vsimem/ file.
func encode(w io.Writer, pix []byte, width, height, n int, driver, ext string, options ...string) error {
	register.Do(godal.RegisterAll)
	mem, err := godal.Create(godal.Memory, "", n, godal.Byte, width, height)
	if err != nil {
		return err
	}
	defer mem.Close()
	if err := mem.Write(0, 0, pix, width, height); err != nil {
		return err
	}
	name := "/vsimem/imgenc-" + strconv.FormatInt(seq.Add(1), 10) + "." + ext
	switches := []string{"-of", driver}
	for _, o := range options {
		switches = append(switches, "-co", o)
	}
	out, err := mem.Translate(name, switches, godal.ErrLogger(func(ec godal.ErrorCategory, code int, msg string) error {
		if ec >= godal.CE_Failure {
			return fmt.Errorf("%s", msg)
		}
		return nil
	}))
	if err != nil {
		return fmt.Errorf("encode %s: %w", driver, err)
	}
	out.Close()
	defer godal.VSIUnlink(name)
	f, err := godal.VSIOpen(name)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// Flatten composites a non-premultiplied image over an opaque background
// into RGB bytes.
func Flatten(img *image.NRGBA, bg color.NRGBA) []byte {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]byte, w*h*3)
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+w*4]
		o := out[y*w*3:]
		for x := 0; x < w; x++ {
			r, g, bl, a := uint32(row[x*4]), uint32(row[x*4+1]), uint32(row[x*4+2]), uint32(row[x*4+3])
			switch a {
			case 255:
				o[x*3], o[x*3+1], o[x*3+2] = byte(r), byte(g), byte(bl)
			case 0:
				o[x*3], o[x*3+1], o[x*3+2] = bg.R, bg.G, bg.B
			default:
				ia := 255 - a
				o[x*3] = byte((r*a + uint32(bg.R)*ia + 127) / 255)
				o[x*3+1] = byte((g*a + uint32(bg.G)*ia + 127) / 255)
				o[x*3+2] = byte((bl*a + uint32(bg.B)*ia + 127) / 255)
			}
		}
	}
	return out
}

// JPEG writes img flattened over bg as a baseline JPEG.
func JPEG(w io.Writer, img *image.NRGBA, bg color.NRGBA, quality int) error {
	b := img.Bounds()
	return encode(w, Flatten(img, bg), b.Dx(), b.Dy(), 3, "JPEG", "jpg", "QUALITY="+strconv.Itoa(quality))
}
