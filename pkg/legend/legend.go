package legend

import (
	"image"
	"image/color"
	"image/draw"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/layer"
)

// OutlineColor is the colour pkg/render draws footprints in (a test keeps
// the two equal; the protocol packages that need a legend may not import
// the renderer).
var OutlineColor = color.NRGBA{255, 102, 0, 255}

// Layout in pixels. The font is the fixed 7×13 X11 face, so text widths
// and the legend's size follow from the layer alone: capabilities can
// state the LegendURL's width and height without drawing it.
const (
	pad    = 6  // around the legend
	gap    = 4  // between rows
	charW  = 7  // basicfont.Face7x13 advance
	lineH  = 13 // basicfont.Face7x13 height
	ascent = 11
	box    = 12 // a colour swatch
	rampW  = 160
	rampH  = 14
)

var (
	ink    = color.NRGBA{0, 0, 0, 255}
	border = color.NRGBA{96, 96, 96, 255}
)

// row is one line of a legend.
type row interface {
	size() (w, h int)
	draw(img *image.NRGBA, x, y int)
}

// Legend is the laid-out legend of one layer.
type Legend struct{ rows []row }

// For lays out the legend of l: the browse's, the footprints', or both.
func For(l layer.Layer) Legend {
	switch l.Draw {
	case layer.Outlines:
		return Legend{footprints()}
	case layer.Outlined:
		return Legend{append(browseRows(l.Browse), footprints()...)}
	}
	return Legend{browseRows(l.Browse)}
}

// browseRows describe what a browse draws: an expression or one band as
// grey stretched over the range, three bands as red, green and blue.
func browseRows(b config.Browse) []row {
	lo, hi := valueRange(b)
	switch {
	case b.Expression != "":
		return []row{text(b.Name + " = " + b.Expression), ramp{lo, hi}}
	case len(b.Bands) == 1:
		return []row{text(b.Name + " = " + band(b.Bands[0])), ramp{lo, hi}}
	case len(b.Bands) == 3:
		rows := []row{text(b.Name),
			swatch{color.NRGBA{230, 0, 0, 255}, "R = " + band(b.Bands[0])},
			swatch{color.NRGBA{0, 170, 0, 255}, "G = " + band(b.Bands[1])},
			swatch{color.NRGBA{0, 0, 230, 255}, "B = " + band(b.Bands[2])}}
		if len(b.Range) == 2 {
			rows = append(rows, text("stretch "+num(lo)+" to "+num(hi)))
		}
		return rows
	}
	return []row{text(b.Name)}
}

// valueRange is the range the renderer stretches to 0..255: the browse's,
// or 0..255 (Byte data as it is) when it has none.
func valueRange(b config.Browse) (lo, hi float64) {
	if len(b.Range) == 2 {
		return b.Range[0], b.Range[1]
	}
	return 0, 255
}

func footprints() []row { return []row{outline("footprints")} }

func band(n int) string { return "B" + strconv.Itoa(n) }

func num(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// Size returns the legend's width and height in pixels.
func (g Legend) Size() (w, h int) {
	for i, r := range g.rows {
		rw, rh := r.size()
		w = max(w, rw)
		h += rh
		if i > 0 {
			h += gap
		}
	}
	return w + 2*pad, h + 2*pad
}

// Draw paints the legend on bg (transparent when bg.A is 0).
func (g Legend) Draw(bg color.NRGBA) *image.NRGBA {
	w, h := g.Size()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	if bg.A != 0 {
		draw.Draw(img, img.Bounds(), &image.Uniform{bg}, image.Point{}, draw.Src)
	}
	y := pad
	for _, r := range g.rows {
		r.draw(img, pad, y)
		_, rh := r.size()
		y += rh + gap
	}
	return img
}

// text is a line of text.
type text string

func (t text) size() (int, int) { return textWidth(string(t)), lineH }

func (t text) draw(img *image.NRGBA, x, y int) { drawText(img, x, y, string(t)) }

func textWidth(s string) int { return charW * len([]rune(s)) }

func drawText(img *image.NRGBA, x, y int, s string) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(ink), Face: basicfont.Face7x13, Dot: fixed.P(x, y+ascent)}
	d.DrawString(s)
}

// ramp is the grey bar from lo (black) to hi (white) with its values below.
type ramp struct{ lo, hi float64 }

func (ramp) size() (int, int) { return rampW, rampH + 2 + lineH }

func (r ramp) draw(img *image.NRGBA, x, y int) {
	fill(img, image.Rect(x, y, x+rampW, y+rampH), border)
	inner := rampW - 2
	for i := 0; i < inner; i++ {
		v := uint8((i*255 + (inner-1)/2) / (inner - 1))
		fill(img, image.Rect(x+1+i, y+1, x+2+i, y+rampH-1), color.NRGBA{v, v, v, 255})
	}
	ly := y + rampH + 2
	lo, hi, mid := num(r.lo), num(r.hi), num((r.lo+r.hi)/2)
	drawText(img, x, ly, lo)
	drawText(img, x+rampW-textWidth(hi), ly, hi)
	// The middle value only where it fits between the ends.
	if textWidth(lo)+textWidth(mid)+textWidth(hi)+4*charW <= rampW {
		drawText(img, x+(rampW-textWidth(mid))/2, ly, mid)
	}
}

// swatch is a square of a colour and what it stands for.
type swatch struct {
	c     color.NRGBA
	label string
}

func (s swatch) size() (int, int) { return box + charW + textWidth(s.label), lineH }

func (s swatch) draw(img *image.NRGBA, x, y int) {
	fill(img, image.Rect(x, y, x+box, y+box), s.c)
	drawText(img, x+box+charW, y, s.label)
}

// outline is a square drawn as the footprints are, and its label.
type outline string

func (o outline) size() (int, int) { return box + charW + textWidth(string(o)), lineH }

func (o outline) draw(img *image.NRGBA, x, y int) {
	for _, r := range []image.Rectangle{
		image.Rect(x, y, x+box, y+2), image.Rect(x, y+box-2, x+box, y+box),
		image.Rect(x, y, x+2, y+box), image.Rect(x+box-2, y, x+box, y+box),
	} {
		fill(img, r, OutlineColor)
	}
	drawText(img, x+box+charW, y, string(o))
}

func fill(img *image.NRGBA, r image.Rectangle, c color.NRGBA) {
	draw.Draw(img, r, &image.Uniform{c}, image.Point{}, draw.Src)
}
