package imgenc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"github.com/klauspost/compress/flate"
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

// pngState is what one encoding needs, kept for the next: the deflate
// states alone are hundreds of kilobytes.
type pngState struct {
	level     int
	fw        *flate.Writer
	huff      *flate.Writer // Huffman codes only, made when first needed
	zlib      bytes.Buffer  // the zlib stream, in full
	zero, out []byte
}

var pngStates sync.Pool

// maxKeptStream is the largest zlib stream buffer a pooled state keeps.
const maxKeptStream = 8 << 20

func getPNGState(level, width int) *pngState {
	st, _ := pngStates.Get().(*pngState)
	if st == nil || st.level != level {
		fw, err := flate.NewWriter(io.Discard, level)
		if err != nil {
			return nil
		}
		st = &pngState{level: level, fw: fw}
	}
	if len(st.zero) < width*4 {
		// out has room for filterRGB's last eight-byte store.
		st.zero, st.out = make([]byte, width*4), make([]byte, 1+width*4+8)
	}
	return st
}

func putPNGState(st *pngState) {
	if st.zlib.Cap() > maxKeptStream {
		st.zlib = bytes.Buffer{}
	}
	pngStates.Put(st)
}

// zlibHeader is the two bytes starting a zlib stream of deflate data with
// a 32 KiB window compressed at level (RFC 1950: FLEVEL, and a check
// making the pair a multiple of 31).
func zlibHeader(level int) [2]byte {
	var flevel byte
	switch {
	case level >= 7:
		flevel = 3
	case level == 6 || level == -1:
		flevel = 2
	case level >= 2:
		flevel = 1
	}
	const cmf = 0x78
	flg := flevel << 6
	flg += byte(31 - (cmf<<8|int(flg))%31)
	return [2]byte{cmf, flg}
}

// FastPNG writes img as an 8-bit RGBA PNG with every row filtered by Up
// (one fixed filter instead of trying five per row) and deflated at
// level (1 is fastest), or with Huffman codes only where that level
// would store the rows as they are. Fully opaque images are written as
// RGB.
func FastPNG(w io.Writer, img *image.NRGBA, level int) error {
	return FastPNGOf(w, img, level, Opaque(img))
}

// FastPNGOf is FastPNG for an image known to be opaque or not: opaque is
// written as RGB, dropping alpha, so it must be true only when every
// pixel's alpha is 255 (OpaqueRow says so of a row).
func FastPNGOf(w io.Writer, img *image.NRGBA, level int, opaque bool) error {
	b := img.Bounds()
	width, height := b.Dx(), b.Dy()
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
	st := getPNGState(level, width)
	if st == nil {
		return fmt.Errorf("png: invalid compression level %d", level)
	}
	defer putPNGState(st)
	// The zlib stream is made in memory, so that it can be made again
	// with Huffman codes only when deflate at a fast level stored it: its
	// fast levels store a block in which they found no repeated string
	// (noise, fine texture) without trying Huffman codes, which take a
	// third off such rows. The checksum is taken in the first pass.
	z := &st.zlib
	z.Reset()
	z.Write([]byte{0, 0}) // the header, once the level is known
	sum := newAdler32()
	if err := deflateRows(z, st.fw, st, img, opaque, &sum); err != nil {
		return err
	}
	raw := height * (1 + width*n)
	if z.Len()-2 >= raw-raw/32 && level != flate.HuffmanOnly {
		if st.huff == nil {
			st.huff, _ = flate.NewWriter(io.Discard, flate.HuffmanOnly)
		}
		z.Truncate(2)
		if err := deflateRows(z, st.huff, st, img, opaque, nil); err != nil {
			return err
		}
		level = flate.HuffmanOnly
	}
	hdr := zlibHeader(level)
	copy(z.Bytes(), hdr[:])
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], sum.sum())
	z.Write(tail[:])
	p.chunk("IDAT", z.Bytes())
	p.chunk("IEND", nil)
	return p.err
}

// deflateRows compresses img's rows, each filtered by Up (as RGB when
// opaque), with fw into z, and adds the filtered bytes to sum unless it
// is nil.
func deflateRows(z io.Writer, fw *flate.Writer, st *pngState, img *image.NRGBA, opaque bool, sum *adler32) error {
	width, height := img.Bounds().Dx(), img.Bounds().Dy()
	stride := width * 4
	if opaque {
		stride = width * 3
	}
	fw.Reset(z)
	out := st.out[:1+stride]
	out[0] = 2 // Up
	prev := st.zero[:width*4]
	zeros := false // out's filtered bytes are all zero
	for y := 0; y < height; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+width*4]
		if bytes.Equal(row, prev) {
			// A row repeating the one above, as most rows of a magnified
			// map do, filters to zeros, and moves the checksum by a
			// formula.
			if !zeros {
				clear(out[1:])
				zeros = true
			}
			if sum != nil {
				sum.write(out[:1])
				sum.zeros(stride)
			}
		} else {
			if opaque {
				filterRGB(st.out[1:], row, prev)
			} else {
				upFilter(out[1:], row, prev)
			}
			zeros = false
			if sum != nil {
				sum.write(out)
			}
		}
		if _, err := fw.Write(out); err != nil {
			return err
		}
		prev = row
	}
	return fw.Close()
}

// Opaque reports whether every pixel of img is opaque, as img.Opaque
// does, two pixels at a time (OpaqueRow).
func Opaque(img *image.NRGBA) bool {
	b := img.Bounds()
	for y := 0; y < b.Dy(); y++ {
		if !OpaqueRow(img.Pix[y*img.Stride : y*img.Stride+b.Dx()*4]) {
			return false
		}
	}
	return true
}

// OpaqueRow reports whether every pixel of row (NRGBA bytes) is opaque,
// two pixels' alpha at a time.
func OpaqueRow(row []byte) bool {
	const alpha = 0xFF000000FF000000
	acc := uint64(alpha)
	for len(row) >= 8 {
		acc &= binary.LittleEndian.Uint64(row)
		row = row[8:]
	}
	if len(row) >= 4 && row[3] != 0xFF {
		return false
	}
	return acc&alpha == alpha
}

// swarSub subtracts each byte of b from the same byte of a, without
// borrows across bytes.
func swarSub(a, b uint64) uint64 {
	const hi = 0x8080808080808080
	return ((a | hi) - (b &^ hi)) ^ ((a ^ ^b) & hi)
}

// filterRGB writes the Up filter of RGBA row cur over row prev as RGB
// bytes: two pixels at a time, subtracted as words and packed to six
// bytes. dst has room for eight bytes past the row's RGB bytes.
func filterRGB(dst, cur, prev []byte) {
	n := len(cur)
	prev = prev[:n]
	i, j := 0, 0
	for ; i+8 <= n; i, j = i+8, j+6 {
		d := swarSub(binary.LittleEndian.Uint64(cur[i:]), binary.LittleEndian.Uint64(prev[i:]))
		binary.LittleEndian.PutUint64(dst[j:], d&0xFFFFFF|d>>8&0xFFFFFF000000)
	}
	if i < n {
		dst[j], dst[j+1], dst[j+2] = cur[i]-prev[i], cur[i+1]-prev[i+1], cur[i+2]-prev[i+2]
	}
}

// upFilter writes cur minus prev, byte by byte, eight bytes at a time
// where it can (bytes do not borrow from each other in a SWAR subtract).
func upFilter(dst, cur, prev []byte) {
	n := len(cur)
	dst, prev = dst[:n], prev[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], swarSub(binary.LittleEndian.Uint64(cur[i:]), binary.LittleEndian.Uint64(prev[i:])))
	}
	for ; i < n; i++ {
		dst[i] = cur[i] - prev[i]
	}
}
