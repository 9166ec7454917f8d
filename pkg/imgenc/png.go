package imgenc

import (
	"bufio"
	"encoding/binary"
	"github.com/klauspost/compress/zlib"
	"hash/crc32"
	"image"
	"io"
)

// pngWriter writes PNG chunks.
type pngWriter struct {
	w   io.Writer
	err error
}

func (p *pngWriter) chunk(kind string, data []byte) {
	if p.err != nil {
		return
	}
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
	copy(hdr[4:], kind)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:])
	crc.Write(data)
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], crc.Sum32())
	for _, b := range [][]byte{hdr[:], data, tail[:]} {
		if _, err := p.w.Write(b); err != nil {
			p.err = err
			return
		}
	}
}

// idat collects the zlib stream into IDAT chunks.
type idat struct{ p *pngWriter }

func (d idat) Write(b []byte) (int, error) {
	d.p.chunk("IDAT", b)
	return len(b), d.p.err
}

// FastPNG writes img as an 8-bit RGBA PNG with every row filtered by Up
// (one fixed filter instead of trying five per row) and deflated at
// level (1 is fastest). Fully opaque images are written as RGB.
func FastPNG(w io.Writer, img *image.NRGBA, level int) error {
	b := img.Bounds()
	width, height := b.Dx(), b.Dy()
	opaque := img.Opaque()
	n := 4
	colorType := byte(6)
	if opaque {
		n, colorType = 3, 2
	}
	p := &pngWriter{w: w}
	if _, err := io.WriteString(w, "\x89PNG\r\n\x1a\n"); err != nil {
		return err
	}
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:4], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:8], uint32(height))
	ihdr[8], ihdr[9] = 8, colorType
	p.chunk("IHDR", ihdr[:])
	bw := bufio.NewWriterSize(idat{p}, 1<<15)
	zw, err := zlib.NewWriterLevel(bw, level)
	if err != nil {
		return err
	}
	stride := width * n
	prev := make([]byte, stride)
	cur := make([]byte, stride)
	out := make([]byte, stride+1)
	out[0] = 2 // Up
	for y := 0; y < height; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+width*4]
		if opaque {
			for x := 0; x < width; x++ {
				cur[x*3], cur[x*3+1], cur[x*3+2] = row[x*4], row[x*4+1], row[x*4+2]
			}
		} else {
			copy(cur, row)
		}
		for i := 0; i < stride; i++ {
			out[i+1] = cur[i] - prev[i]
		}
		if _, err := zw.Write(out); err != nil {
			return err
		}
		prev, cur = cur, prev
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	p.chunk("IEND", nil)
	return p.err
}
