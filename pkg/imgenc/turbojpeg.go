package imgenc

/*
#cgo pkg-config: libturbojpeg
#include <stdlib.h>
#include <turbojpeg.h>

static int pvs_compress(tjhandle h, unsigned char *px, int w, int pitch, int ht, int rgbx, int quality, unsigned char **out, unsigned long *size) {
	return tjCompress2(h, px, w, pitch, ht, rgbx ? TJPF_RGBX : TJPF_RGB, out, size, TJSAMP_420, quality, 0);
}
*/
import "C"

import (
	"errors"
	"image"
	"image/color"
	"io"
	"sync"
	"unsafe"
)

// compressors are TurboJPEG handles; a handle serves one call at a time.
var compressors = sync.Pool{New: func() any {
	h := C.tjInitCompress()
	if h == nil {
		return nil
	}
	return &h
}}

// JPEG writes img flattened over bg as a baseline JPEG (4:2:0) with
// libjpeg-turbo; an opaque image is encoded as it is.
func JPEG(w io.Writer, img *image.NRGBA, bg color.NRGBA, quality int) error {
	b := img.Bounds()
	if b.Empty() {
		return errors.New("jpeg: empty image")
	}
	if Opaque(img) {
		return compress(w, img.Pix, b.Dx(), img.Stride, b.Dy(), true, quality)
	}
	return compress(w, Flatten(img, bg), b.Dx(), b.Dx()*3, b.Dy(), false, quality)
}

// compress encodes RGB or RGBX pixels, pitch bytes a row.
func compress(w io.Writer, px []byte, width, pitch, height int, rgbx bool, quality int) error {
	x := C.int(0)
	if rgbx {
		x = 1
	}
	hp, _ := compressors.Get().(*C.tjhandle)
	if hp == nil {
		return errors.New("jpeg: cannot initialise libjpeg-turbo")
	}
	defer compressors.Put(hp)
	var out *C.uchar
	var size C.ulong
	if C.pvs_compress(*hp, (*C.uchar)(unsafe.Pointer(&px[0])), C.int(width), C.int(pitch), C.int(height), x, C.int(quality), &out, &size) != 0 {
		return errors.New("jpeg: " + C.GoString(C.tjGetErrorStr2(*hp)))
	}
	defer C.tjFree(out)
	_, err := w.Write(unsafe.Slice((*byte)(unsafe.Pointer(out)), int(size)))
	return err
}
