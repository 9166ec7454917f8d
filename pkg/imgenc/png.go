package imgenc

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"github.com/klauspost/compress/zlib"
	"hash/crc32"
	"image"
	"io"
	"sync"
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

// pngState is what one encoding needs, kept for the next: the deflate
// state alone is hundreds of kilobytes.
type pngState struct {
	level          int
	zw             *zlib.Writer
	bw             *bufio.Writer
	prev, cur, out []byte
}

var pngStates sync.Pool

func getPNGState(level, stride int) *pngState {
	st, _ := pngStates.Get().(*pngState)
	if st == nil || st.level != level {
		zw, err := zlib.NewWriterLevel(io.Discard, level)
		if err != nil {
			return nil
		}
		st = &pngState{level: level, zw: zw, bw: bufio.NewWriterSize(io.Discard, 1<<15)}
	}
	if cap(st.prev) < stride {
		st.prev, st.cur, st.out = make([]byte, stride), make([]byte, stride), make([]byte, stride+1)
	}
	return st
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
	st := getPNGState(level, width*n)
	if st == nil {
		return fmt.Errorf("png: invalid compression level %d", level)
	}
	defer pngStates.Put(st)
	bw := st.bw
	bw.Reset(idat{p})
	zw := st.zw
	zw.Reset(bw)
	stride := width * n
	prev, cur, out := st.prev[:stride], st.cur[:stride], st.out[:stride+1]
	clear(prev)
	out[0] = 2 // Up
	for y := 0; y < height; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+width*4]
		if opaque {
			for x := 0; x < width; x++ {
				d, s := cur[x*3:x*3+3:x*3+3], row[x*4:x*4+3:x*4+3]
				d[0], d[1], d[2] = s[0], s[1], s[2]
			}
		} else {
			copy(cur, row)
		}
		upFilter(out[1:], cur, prev)
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

// upFilter writes cur minus prev, byte by byte, eight bytes at a time
// where it can (bytes do not borrow from each other in a SWAR subtract).
func upFilter(dst, cur, prev []byte) {
	n := len(cur)
	dst, prev = dst[:n], prev[:n]
	i := 0
	const hi = 0x8080808080808080
	for ; i+8 <= n; i += 8 {
		a := binary.LittleEndian.Uint64(cur[i:])
		b := binary.LittleEndian.Uint64(prev[i:])
		// Per-byte a-b without borrows across bytes.
		d := ((a | hi) - (b &^ hi)) ^ ((a ^ ^b) & hi)
		binary.LittleEndian.PutUint64(dst[i:], d)
	}
	for ; i < n; i++ {
		dst[i] = cur[i] - prev[i]
	}
}
