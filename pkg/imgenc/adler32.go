package imgenc

import "encoding/binary"

// adler32 is the Adler-32 checksum a zlib stream ends with (RFC 1950),
// taken eight bytes at a time: over bytes b0..b7 the running sums move by
// s1 += Σb and s2 += 8·s1 + Σ(8-k)·bk, and both sums of a word come from
// one multiplication each of its even and odd bytes spread over 16-bit
// lanes (no lane can carry: 4 × 255 × 8 < 2¹⁶). hash/adler32 adds byte
// by byte, a chain of dependent additions twice as long.
type adler32 struct{ s1, s2 uint64 }

func newAdler32() adler32 { return adler32{s1: 1} }

const (
	adlerMod = 65521
	// adlerChunk bytes leave both sums far below 2⁶⁴ between reductions.
	adlerChunk = 1 << 20
	// Lane weights: lane 3 of (lanes × weights) is the dot product.
	adlerEven = 2 | 4<<16 | 6<<32 | 8<<48 // b6, b4, b2, b0
	adlerOdd  = 1 | 3<<16 | 5<<32 | 7<<48 // b7, b5, b3, b1
	lanes     = 0x00FF00FF00FF00FF
	laneSum   = 0x0001000100010001
)

func (a *adler32) write(p []byte) {
	s1, s2 := a.s1, a.s2
	for len(p) > 0 {
		q := p[:min(len(p), adlerChunk)]
		p = p[len(q):]
		for len(q) >= 8 {
			x := binary.LittleEndian.Uint64(q)
			e, o := x&lanes, x>>8&lanes
			s2 += 8*s1 + e*adlerEven>>48 + o*adlerOdd>>48
			s1 += (e + o) * laneSum >> 48
			q = q[8:]
		}
		for _, b := range q {
			s1 += uint64(b)
			s2 += s1
		}
		s1, s2 = s1%adlerMod, s2%adlerMod
	}
	a.s1, a.s2 = s1, s2
}

// zeros adds n zero bytes: s1 stays, s2 grows by n·s1.
func (a *adler32) zeros(n int) {
	a.s2 = (a.s2 + uint64(n%adlerMod)*a.s1) % adlerMod
}

func (a *adler32) sum() uint32 { return uint32(a.s2<<16 | a.s1) }
