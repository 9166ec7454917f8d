package legend

import (
	"image"
	"image/color"
	"testing"

	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/layer"
	"github.com/pvs/pvs/pkg/render"
)

var (
	rgb   = config.Browse{Name: "TRUE_COLOR", Bands: []int{1, 2, 3}}
	grey  = config.Browse{Name: "GREY", Bands: []int{1}}
	ndvi  = config.Browse{Name: "NDVI", Expression: "(B4-B1)/(B4+B1)", Range: []float64{-1, 1}}
	white = color.NRGBA{255, 255, 255, 255}
)

func count(img *image.NRGBA, c color.NRGBA) int {
	n := 0
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i] == c.R && img.Pix[i+1] == c.G && img.Pix[i+2] == c.B && img.Pix[i+3] == c.A {
			n++
		}
	}
	return n
}

// What each kind of layer shows, and that the advertised size is the
// drawn one.
func TestLegends(t *testing.T) {
	t.Parallel()
	black := color.NRGBA{0, 0, 0, 255}
	for _, c := range []struct {
		name  string
		layer layer.Layer
		has   []color.NRGBA // colours that must be drawn (ramp ends, swatches, outline)
		lacks []color.NRGBA
	}{
		{"rgb", layer.Layer{Browse: rgb}, []color.NRGBA{{230, 0, 0, 255}, {0, 170, 0, 255}, {0, 0, 230, 255}}, []color.NRGBA{OutlineColor}},
		{"grey", layer.Layer{Browse: grey}, []color.NRGBA{black, white, {128, 128, 128, 255}}, []color.NRGBA{OutlineColor, {230, 0, 0, 255}}},
		{"expression", layer.Layer{Browse: ndvi}, []color.NRGBA{black, white, {128, 128, 128, 255}}, []color.NRGBA{OutlineColor}},
		{"outlines", layer.Layer{Browse: rgb, Draw: layer.Outlines}, []color.NRGBA{OutlineColor}, []color.NRGBA{{230, 0, 0, 255}}},
		{"outlined", layer.Layer{Browse: ndvi, Draw: layer.Outlined}, []color.NRGBA{OutlineColor, {128, 128, 128, 255}}, nil},
	} {
		lg := For(c.layer)
		img := lg.Draw(white)
		w, h := lg.Size()
		if b := img.Bounds(); b.Dx() != w || b.Dy() != h || w < 20 || h < 20 {
			t.Errorf("%s: drawn %v, Size %dx%d", c.name, b, w, h)
		}
		for _, col := range c.has {
			if count(img, col) == 0 {
				t.Errorf("%s: no pixel of %v", c.name, col)
			}
		}
		for _, col := range c.lacks {
			if n := count(img, col); n != 0 {
				t.Errorf("%s: %d pixels of %v", c.name, n, col)
			}
		}
	}
}

// The ramp's labels are the browse's range: another range, another image
// of the same size.
func TestRampLabelsFollowTheRange(t *testing.T) {
	t.Parallel()
	other := ndvi
	other.Range = []float64{0, 0.5}
	a, b := For(layer.Layer{Browse: ndvi}), For(layer.Layer{Browse: other})
	aw, ah := a.Size()
	bw, bh := b.Size()
	if aw != bw || ah != bh {
		t.Fatalf("sizes %dx%d and %dx%d", aw, ah, bw, bh)
	}
	if string(a.Draw(white).Pix) == string(b.Draw(white).Pix) {
		t.Error("ranges -1..1 and 0..0.5 draw the same legend")
	}
	if lo, hi := valueRange(grey); lo != 0 || hi != 255 {
		t.Errorf("a browse without a range stretches %v..%v, want the renderer's 0..255", lo, hi)
	}
}

func TestTransparentBackground(t *testing.T) {
	t.Parallel()
	img := For(layer.Layer{Browse: rgb}).Draw(color.NRGBA{})
	if img.Pix[3] != 0 {
		t.Error("corner is not transparent")
	}
}

// The footprint swatch is the colour the renderer draws footprints in.
func TestOutlineColorIsTheRenderers(t *testing.T) {
	t.Parallel()
	if OutlineColor != render.OutlineColor {
		t.Errorf("legend.OutlineColor %v, render.OutlineColor %v", OutlineColor, render.OutlineColor)
	}
}
