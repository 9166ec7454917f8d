package imgenc

import (
	"bytes"
	stdadler "hash/adler32"
	"image"
	"math/rand/v2"
	"testing"
)

func TestAdler32MatchesTheStandardLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	check := func(name string, p []byte, splits int) {
		t.Helper()
		a := newAdler32()
		rest := p
		for i := 0; i < splits && len(rest) > 0; i++ {
			k := rng.IntN(len(rest) + 1)
			a.write(rest[:k])
			rest = rest[k:]
		}
		a.write(rest)
		if got, want := a.sum(), stdadler.Checksum(p); got != want {
			t.Fatalf("%s (%d bytes, %d writes): %08x, want %08x", name, len(p), splits+1, got, want)
		}
	}
	for n := 0; n < 100; n++ {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.IntN(256))
		}
		check("random", p, rng.IntN(4))
	}
	// Every byte at its largest, past the reduction interval, where the
	// sums grow fastest.
	check("0xff", bytes.Repeat([]byte{0xff}, adlerChunk*2+13), 3)
	big := make([]byte, 3*adlerChunk+5)
	for i := range big {
		big[i] = byte(rng.IntN(256))
	}
	check("random large", big, 5)
}

func TestZlibHeaderIsAMultipleOf31(t *testing.T) {
	for level := -2; level <= 9; level++ {
		h := zlibHeader(level)
		if h[0] != 0x78 || (int(h[0])<<8|int(h[1]))%31 != 0 || h[1]&0x20 != 0 {
			t.Errorf("level %d: header % x", level, h)
		}
	}
}

func TestFilterRGBIsUpFilterPacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for w := 0; w < 20; w++ {
		cur, prev := make([]byte, w*4), make([]byte, w*4)
		for i := range cur {
			cur[i], prev[i] = byte(rng.IntN(256)), byte(rng.IntN(256))
		}
		got := make([]byte, w*3+8)
		filterRGB(got, cur, prev)
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				if want := cur[x*4+c] - prev[x*4+c]; got[x*3+c] != want {
					t.Fatalf("width %d pixel %d channel %d: %d, want %d", w, x, c, got[x*3+c], want)
				}
			}
		}
	}
}

func TestOpaqueRowFindsAnyTranslucentPixel(t *testing.T) {
	for w := 0; w < 12; w++ {
		row := bytes.Repeat([]byte{1, 2, 3, 255}, w)
		if !OpaqueRow(row) {
			t.Fatalf("width %d: opaque row refused", w)
		}
		for x := 0; x < w; x++ {
			row[x*4+3] = 254
			if OpaqueRow(row) {
				t.Fatalf("width %d: pixel %d's alpha missed", w, x)
			}
			row[x*4+3] = 255
		}
	}
}

func TestAdler32OfZerosMatchesTheStandardLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 767, adlerMod, adlerMod + 1, 3*adlerMod + 5, adlerChunk + 3} {
		head := make([]byte, rng.IntN(3000))
		for i := range head {
			head[i] = byte(rng.IntN(256))
		}
		a := newAdler32()
		a.write(head)
		a.zeros(n)
		a.write([]byte{2, 9})
		want := stdadler.Checksum(append(append(head, make([]byte, n)...), 2, 9))
		if got := a.sum(); got != want {
			t.Fatalf("%d bytes then %d zeros: %08x, want %08x", len(head), n, got, want)
		}
	}
}

func TestOpaqueAgreesWithTheStandardLibrary(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 9, 7))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	views := []image.Rectangle{img.Rect, image.Rect(1, 1, 8, 6), image.Rect(3, 2, 4, 3)}
	for y := 0; y < 7; y++ {
		for x := 0; x < 9; x++ {
			img.Pix[img.PixOffset(x, y)+3] = 17
			for _, r := range views {
				v := img.SubImage(r).(*image.NRGBA)
				if got, want := Opaque(v), v.Opaque(); got != want {
					t.Fatalf("translucent pixel %d,%d, view %v: Opaque %v, want %v", x, y, r, got, want)
				}
			}
			img.Pix[img.PixOffset(x, y)+3] = 255
		}
	}
}
