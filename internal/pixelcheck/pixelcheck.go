// Package pixelcheck compares what the servers draw with the source raster,
// pixel by pixel, for the end-to-end and stack tests.
package pixelcheck

import (
	"archive/tar"
	"bytes"
	"image"
	"image/png"
	"io"
	"math"
	"net/http"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/cog"
)

// GetPNG fetches a PNG with client (http.DefaultClient when nil) and decodes
// it; anything else fails the test. hdr, when set, receives the headers.
func GetPNG(t testing.TB, client *http.Client, url string, hdr *http.Header) image.Image {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Get(url)
	testenv.Must(t, err, "GET %s", url)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET %s: %s %s\n%.500s", url, resp.Status, resp.Header.Get("Content-Type"), body)
	}
	if hdr != nil {
		*hdr = resp.Header
	}
	img, err := png.Decode(bytes.NewReader(body))
	testenv.Must(t, err, "decode PNG from %s", url)
	return img
}

// Opaque counts the pixels that are not fully transparent.
func Opaque(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0 {
				n++
			}
		}
	}
	return n
}

// Source is a raster read fully with GDAL, to compare served images with.
type Source struct {
	w, h   int
	bands  [][]byte
	gt     [6]float64
	srs    *godal.SpatialRef
	nodata float64
}

// Open reads the Byte raster at path (three bands at least).
func Open(t testing.TB, path string) *Source {
	t.Helper()
	cog.Init()
	ds, err := godal.Open(path)
	testenv.Must(t, err, "open source")
	t.Cleanup(func() { ds.Close() })
	st := ds.Structure()
	s := &Source{w: st.SizeX, h: st.SizeY, srs: ds.SpatialRef()}
	s.gt, err = ds.GeoTransform()
	testenv.Must(t, err, "geotransform")
	for _, b := range ds.Bands() {
		buf := make([]byte, s.w*s.h)
		testenv.Must(t, b.Read(0, 0, buf, s.w, s.h), "read band")
		s.bands = append(s.bands, buf)
		s.nodata, _ = b.NoData()
	}
	return s
}

// Check compares every pixel of img (drawn over bbox, x/y order, of
// EPSG:epsg) whose centre falls clearly inside a source pixel with that
// source pixel: same RGB and opaque where the source has data, transparent
// where all bands are nodata.
func (s *Source) Check(t testing.TB, what string, img image.Image, epsg int, bbox [4]float64) {
	t.Helper()
	dst, err := godal.NewSpatialRefFromEPSG(epsg)
	testenv.Must(t, err, "srs")
	defer dst.Close()
	tr, err := godal.NewTransform(dst, s.srs)
	testenv.Must(t, err, "transform")
	defer tr.Close()
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	var xs, ys []float64
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			xs = append(xs, bbox[0]+(float64(x)+0.5)*(bbox[2]-bbox[0])/float64(w))
			ys = append(ys, bbox[3]-(float64(y)+0.5)*(bbox[3]-bbox[1])/float64(h))
		}
	}
	okv := make([]bool, len(xs))
	testenv.Must(t, tr.TransformEx(xs, ys, nil, okv), "transform pixels")
	compared, data, mismatches := 0, 0, 0
	for i := range xs {
		// Inverse of a north-up geotransform.
		col := (xs[i] - s.gt[0]) / s.gt[1]
		row := (ys[i] - s.gt[3]) / s.gt[5]
		fc, fr := col-math.Floor(col), row-math.Floor(row)
		if !okv[i] || col < 0 || row < 0 || col >= float64(s.w) || row >= float64(s.h) ||
			fc < 0.2 || fc > 0.8 || fr < 0.2 || fr > 0.8 {
			continue // outside, or too near a pixel edge to be unambiguous
		}
		idx := int(row)*s.w + int(col)
		var v [3]byte
		nodata := 0
		for k := 0; k < 3; k++ {
			v[k] = s.bands[k][idx]
			if float64(v[k]) == s.nodata {
				nodata++
			}
		}
		if nodata != 0 && nodata != 3 {
			continue
		}
		r, g, bb, a := img.At(b.Min.X+i%w, b.Min.Y+i/w).RGBA()
		compared++
		if nodata == 3 {
			if a != 0 {
				mismatches++
			}
			continue
		}
		data++
		if a>>8 != 255 || byte(r>>8) != v[0] || byte(g>>8) != v[1] || byte(bb>>8) != v[2] {
			if mismatches < 5 {
				t.Errorf("%s: pixel (%d,%d) = %d,%d,%d,%d; source pixel (%d,%d) = %v", what, i%w, i/w, r>>8, g>>8, bb>>8, a>>8, int(col), int(row), v)
			}
			mismatches++
		}
	}
	if data < 1000 {
		t.Fatalf("%s: only %d data pixels could be compared; the request misses the image", what, data)
	}
	if mismatches > 0 {
		t.Errorf("%s: %d of %d compared pixels differ from the source", what, mismatches, compared)
	}
	t.Logf("%s: %d pixels compared (%d with data), all equal to the source", what, compared, data)
}

// Tar makes a product package holding files by name.
func Tar(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, data := range files {
		testenv.Must(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}), "tar header")
		_, err := tw.Write(data)
		testenv.Must(t, err, "tar write")
	}
	testenv.Must(t, tw.Close(), "tar close")
	return buf.Bytes()
}

// CheckWindow compares the raster file at path, band by band and row by
// row, with the source window whose top-left pixel is (xoff, yoff), and
// returns its size.
func (s *Source) CheckWindow(t testing.TB, what, path string, xoff, yoff int) (w, h int) {
	t.Helper()
	ds, err := godal.Open(path)
	testenv.Must(t, err, "%s: open %s", what, path)
	defer ds.Close()
	st := ds.Structure()
	if st.NBands != len(s.bands) || xoff+st.SizeX > s.w || yoff+st.SizeY > s.h {
		t.Fatalf("%s: %dx%d×%d at (%d,%d) does not fit the %dx%d×%d source", what, st.SizeX, st.SizeY, st.NBands, xoff, yoff, s.w, s.h, len(s.bands))
	}
	buf := make([]byte, st.SizeX*st.SizeY)
	for bi, b := range ds.Bands() {
		testenv.Must(t, b.Read(0, 0, buf, st.SizeX, st.SizeY), "%s: read band %d", what, bi+1)
		for y := 0; y < st.SizeY; y++ {
			want := s.bands[bi][(yoff+y)*s.w+xoff : (yoff+y)*s.w+xoff+st.SizeX]
			if !bytes.Equal(buf[y*st.SizeX:(y+1)*st.SizeX], want) {
				t.Fatalf("%s: band %d row %d differs from the source", what, bi+1, y)
			}
		}
	}
	t.Logf("%s: %dx%d×%d pixels equal to the source", what, st.SizeX, st.SizeY, st.NBands)
	return st.SizeX, st.SizeY
}

// GeoTransform is the source's geotransform.
func (s *Source) GeoTransform() [6]float64 { return s.gt }
