package imgenc

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// testImage is smooth colour with a transparent band, a half-transparent
// band and noise, as map images are.
func testImage(w, h int, opaque bool) *image.NRGBA {
	rng := rand.New(rand.NewPCG(1, 2))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			a := uint8(255)
			if !opaque && x < w/4 {
				a = 0
			} else if !opaque && x < w/2 {
				a = 128
			}
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8(100 + rng.IntN(8)), a})
		}
	}
	return img
}

func TestFastPNGRoundTrip(t *testing.T) {
	for _, opaque := range []bool{false, true} {
		full := testImage(301, 200, opaque)
		// Odd and even widths, whole and a view.
		for _, img := range []*image.NRGBA{full, full.SubImage(image.Rect(17, 9, 273, 165)).(*image.NRGBA), full.SubImage(image.Rect(80, 0, 301, 7)).(*image.NRGBA)} {
			var buf bytes.Buffer
			if err := FastPNG(&buf, img, 1); err != nil {
				t.Fatal(err)
			}
			got, err := png.Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			b := img.Bounds()
			if got.Bounds().Dx() != b.Dx() || got.Bounds().Dy() != b.Dy() {
				t.Fatalf("size %v, want %v", got.Bounds(), b)
			}
			if _, isRGB := got.(*image.RGBA); opaque != isRGB {
				t.Errorf("opaque %v: decoded as %T", opaque, got)
			}
			for y := 0; y < b.Dy(); y++ {
				for x := 0; x < b.Dx(); x++ {
					want := img.NRGBAAt(b.Min.X+x, b.Min.Y+y)
					if c := color.NRGBAModel.Convert(got.At(x, y)).(color.NRGBA); c != want && want.A != 0 {
						t.Fatalf("opaque %v: pixel %d,%d = %v, want %v", opaque, x, y, c, want)
					}
				}
			}
		}
	}
}

func TestJPEGFlattensOverBackground(t *testing.T) {
	img := testImage(256, 256, false)
	bg := color.NRGBA{0, 0, 255, 255}
	var buf bytes.Buffer
	if err := JPEG(&buf, img, bg, 90); err != nil {
		t.Fatal(err)
	}
	got, err := jpeg.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	// Averages over blocks: transparent shows the background, half
	// transparent a mix, opaque the image.
	avg := func(x0, x1 int) [3]float64 {
		var s [3]float64
		n := 0.0
		for y := 96; y < 160; y++ {
			for x := x0; x < x1; x++ {
				r, g, b, _ := got.At(x, y).RGBA()
				s[0], s[1], s[2] = s[0]+float64(r>>8), s[1]+float64(g>>8), s[2]+float64(b>>8)
				n++
			}
		}
		return [3]float64{s[0] / n, s[1] / n, s[2] / n}
	}
	want := func(x0, x1 int) [3]float64 {
		f := Flatten(img.SubImage(image.Rect(x0, 96, x1, 160)).(*image.NRGBA), bg)
		var s [3]float64
		for i := 0; i < len(f); i += 3 {
			s[0], s[1], s[2] = s[0]+float64(f[i]), s[1]+float64(f[i+1]), s[2]+float64(f[i+2])
		}
		n := float64(len(f) / 3)
		return [3]float64{s[0] / n, s[1] / n, s[2] / n}
	}
	for _, r := range [][2]int{{8, 56}, {72, 120}, {136, 248}} {
		g, w := avg(r[0], r[1]), want(r[0], r[1])
		for k := 0; k < 3; k++ {
			if math.Abs(g[k]-w[k]) > 3 {
				t.Errorf("columns %v: mean %v, want %v", r, g, w)
				break
			}
		}
	}
	if c := Flatten(img.SubImage(image.Rect(0, 0, 1, 1)).(*image.NRGBA), bg); c[0] != 0 || c[1] != 0 || c[2] != 255 {
		t.Errorf("transparent pixel flattened to %v, want the background", c)
	}
}

// sample is a real map image when IMGENC_SAMPLE names one (a PNG), else
// the synthetic one.
func sample(b *testing.B) *image.NRGBA {
	f, err := os.Open(os.Getenv("IMGENC_SAMPLE"))
	if err != nil {
		return testImage(256, 256, false)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		b.Fatal(err)
	}
	n := image.NewNRGBA(image.Rect(0, 0, 256, 256))
	draw.Draw(n, n.Bounds(), img, image.Point{100, 100}, draw.Src)
	return n
}

// BenchmarkEncoders compares the encoders with Go's on a 256x256 image.
func BenchmarkEncoders(b *testing.B) {
	img := sample(b)
	bg := color.NRGBA{255, 255, 255, 255}
	var buf bytes.Buffer
	b.Run("go-jpeg", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			buf.Reset()
			rgba := image.NewRGBA(img.Bounds())
			draw.Draw(rgba, rgba.Bounds(), &image.Uniform{bg}, image.Point{}, draw.Src)
			draw.Draw(rgba, rgba.Bounds(), img, image.Point{}, draw.Over)
			jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: 85})
		}
		b.ReportMetric(float64(buf.Len()), "bytes")
	})
	b.Run("turbo-jpeg", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			buf.Reset()
			if err := JPEG(&buf, img, bg, 85); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(buf.Len()), "bytes")
	})
	b.Run("go-png", func(b *testing.B) {
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		for i := 0; i < b.N; i++ {
			buf.Reset()
			enc.Encode(&buf, img)
		}
		b.ReportMetric(float64(buf.Len()), "bytes")
	})
	images := []struct {
		name string
		img  *image.NRGBA
	}{{"fast-png-", img}, {"fast-png-noise-", noisyImage(256, 256)}}
	for _, lvl := range []int{-2, 1} {
		for _, im := range images {
			b.Run(im.name+strconv.Itoa(lvl), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					buf.Reset()
					if err := FastPNG(&buf, im.img, lvl); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(buf.Len()), "bytes")
			})
		}
	}
}

func TestUpFilterIsBytewiseSubtraction(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 40; n++ {
		cur, prev, got := make([]byte, n), make([]byte, n), make([]byte, n)
		for i := range cur {
			cur[i], prev[i] = byte(rng.IntN(256)), byte(rng.IntN(256))
		}
		cur = append(cur, 0, 255)[:n]
		upFilter(got, cur, prev)
		for i := range cur {
			if got[i] != cur[i]-prev[i] {
				t.Fatalf("n=%d byte %d: %d - %d = %d, got %d", n, i, cur[i], prev[i], cur[i]-prev[i], got[i])
			}
		}
	}
	// Every pair of byte values, in every lane.
	for a := 0; a < 256; a++ {
		cur, prev, got := make([]byte, 256), make([]byte, 256), make([]byte, 256)
		for b := 0; b < 256; b++ {
			cur[b], prev[b] = byte(a), byte(b)
		}
		upFilter(got, cur, prev)
		for b := 0; b < 256; b++ {
			if got[b] != byte(a)-byte(b) {
				t.Fatalf("%d - %d: got %d", a, b, got[b])
			}
		}
	}
}

func TestPalettedPicksTheNearestCubeColour(t *testing.T) {
	img := testImage(64, 64, false)
	p := Paletted(img)
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			src := img.NRGBAAt(x, y)
			got := p.Palette[p.ColorIndexAt(x, y)].(color.NRGBA)
			if src.A < 128 {
				if got.A != 0 {
					t.Fatalf("%d,%d: alpha %d drawn as %v", x, y, src.A, got)
				}
				continue
			}
			// The cube's steps are 51 (red, blue) and 42.5 (green).
			if d := math.Abs(float64(got.R) - float64(src.R)); d > 26 {
				t.Fatalf("%d,%d: red %d for %d", x, y, got.R, src.R)
			}
			if d := math.Abs(float64(got.G) - float64(src.G)); d > 22 {
				t.Fatalf("%d,%d: green %d for %d", x, y, got.G, src.G)
			}
			if d := math.Abs(float64(got.B) - float64(src.B)); d > 26 {
				t.Fatalf("%d,%d: blue %d for %d", x, y, got.B, src.B)
			}
		}
	}
	if len(Palette8) != 253 {
		t.Errorf("palette of %d colours", len(Palette8))
	}
}

// An opaque image is encoded from its RGBX pixels directly: same colours.
func TestJPEGOfAnOpaqueImage(t *testing.T) {
	img := testImage(256, 128, true)
	sub := img.SubImage(image.Rect(16, 8, 240, 120)).(*image.NRGBA) // a stride wider than the rows
	var buf bytes.Buffer
	if err := JPEG(&buf, sub, color.NRGBA{0, 0, 0, 255}, 95); err != nil {
		t.Fatal(err)
	}
	got, err := jpeg.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds().Dx() != 224 || got.Bounds().Dy() != 112 {
		t.Fatalf("size %v", got.Bounds())
	}
	var worst float64
	for y := 0; y < 112; y++ {
		for x := 0; x < 224; x++ {
			r, g, b, _ := got.At(x, y).RGBA()
			w := sub.NRGBAAt(16+x, 8+y)
			for _, d := range []float64{float64(r>>8) - float64(w.R), float64(g>>8) - float64(w.G), float64(b>>8) - float64(w.B)} {
				worst = math.Max(worst, math.Abs(d))
			}
		}
	}
	if worst > 24 {
		t.Errorf("a channel is off by %.0f: colours or rows mixed up", worst)
	}
}

// TestFastPNGOfRepeatedRows encodes images whose rows repeat in runs, as a
// magnified map's do (and, translucent, a first row of zeros, which repeats
// the zero row above the image), and checks the pixels and the zlib
// stream's checksum, which the repeated rows move by a formula.
func TestFastPNGOfRepeatedRows(t *testing.T) {
	for _, opaque := range []bool{false, true} {
		src := testImage(37, 20, opaque)
		img := image.NewNRGBA(image.Rect(0, 0, 37, 160))
		for y := 0; y < 160; y++ {
			sy := y / 8
			if !opaque && y < 3 {
				continue // transparent black: all zero bytes
			}
			copy(img.Pix[y*img.Stride:(y+1)*img.Stride], src.Pix[sy*src.Stride:(sy+1)*src.Stride])
		}
		var buf bytes.Buffer
		if err := FastPNG(&buf, img, 1); err != nil {
			t.Fatal(err)
		}
		// The zlib stream, from the IDAT chunks, checks its Adler-32 at
		// its end.
		var stream []byte
		for p := buf.Bytes()[8:]; len(p) >= 12; {
			n := int(binary.BigEndian.Uint32(p))
			if string(p[4:8]) == "IDAT" {
				stream = append(stream, p[8:8+n]...)
			}
			p = p[12+n:]
		}
		zr, err := zlib.NewReader(bytes.NewReader(stream))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("opaque %v: zlib stream: %v", opaque, err)
		}
		n := 4
		if opaque {
			n = 3
		}
		if len(raw) != 160*(1+37*n) {
			t.Fatalf("opaque %v: %d bytes of filtered rows", opaque, len(raw))
		}
		got, err := png.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		for y := 0; y < 160; y++ {
			for x := 0; x < 37; x++ {
				want := img.NRGBAAt(x, y)
				if c := color.NRGBAModel.Convert(got.At(x, y)).(color.NRGBA); c != want && want.A != 0 {
					t.Fatalf("opaque %v: pixel %d,%d = %v, want %v", opaque, x, y, c, want)
				}
			}
		}
	}
}

// noisyImage is an opaque image of noise a few grey levels deep around a
// smooth field, as a stretched scene's sensor noise at full resolution: no
// string repeats, but the filtered bytes take few values.
func noisyImage(w, h int) *image.NRGBA {
	rng := rand.New(rand.NewPCG(3, 4))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		base := uint8(80 + i/4%w/8)
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = base+uint8(rng.IntN(24)), base+uint8(rng.IntN(24)), base+uint8(rng.IntN(24)), 255
	}
	return img
}

// TestFastPNGCompressesNoise encodes noise that deflate's fast levels find
// no repeated string in, and checks that it is compressed all the same
// (Huffman codes: about 5 bits a byte here) and decodes to its pixels.
func TestFastPNGCompressesNoise(t *testing.T) {
	img := noisyImage(256, 256)
	var buf bytes.Buffer
	if err := FastPNG(&buf, img, 1); err != nil {
		t.Fatal(err)
	}
	raw := 256 * (1 + 256*3)
	if buf.Len() > raw*3/4 {
		t.Errorf("noise tile of %d bytes, %d bytes of filtered rows: not compressed", buf.Len(), raw)
	}
	got, err := png.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 256; y++ {
		for x := 0; x < 256; x++ {
			if c := color.NRGBAModel.Convert(got.At(x, y)).(color.NRGBA); c != img.NRGBAAt(x, y) {
				t.Fatalf("pixel %d,%d = %v, want %v", x, y, c, img.NRGBAAt(x, y))
			}
		}
	}
	// A compressible image keeps the fast level's stream.
	var smooth bytes.Buffer
	if err := FastPNG(&smooth, testImage(256, 256, true), 1); err != nil {
		t.Fatal(err)
	}
	if h := smooth.Bytes()[8+8+13+4+8+1]; h != zlibHeader(1)[1] {
		t.Errorf("smooth image: zlib header %#x, want level 1's %#x", h, zlibHeader(1)[1])
	}
}
