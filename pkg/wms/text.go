package wms

import (
	"image"
	"image/color"
)

// drawText writes s with a tiny built-in 3x5 pixel font, enough for
// INIMAGE exceptions to be legible without shipping a font.
func drawText(img *image.NRGBA, x0, y0 int, s string, c color.NRGBA) {
	const scale = 2
	x := x0
	y := y0
	maxX := img.Bounds().Dx() - 4*scale
	for _, r := range s {
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		g, ok := glyphs[r]
		if !ok {
			g = glyphs['?']
		}
		if x > maxX {
			x = x0
			y += 6 * scale
		}
		for row := 0; row < 5; row++ {
			for col := 0; col < 3; col++ {
				if g[row]&(4>>col) == 0 {
					continue
				}
				for dy := 0; dy < scale; dy++ {
					for dx := 0; dx < scale; dx++ {
						px, py := x+col*scale+dx, y+row*scale+dy
						if image.Pt(px, py).In(img.Bounds()) {
							img.SetNRGBA(px, py, c)
						}
					}
				}
			}
		}
		x += 4 * scale
	}
}

// glyphs are 3x5 bitmaps, one byte per row, high bit on the left.
var glyphs = map[rune][5]byte{
	'A': {2, 5, 7, 5, 5}, 'B': {6, 5, 6, 5, 6}, 'C': {3, 4, 4, 4, 3}, 'D': {6, 5, 5, 5, 6},
	'E': {7, 4, 6, 4, 7}, 'F': {7, 4, 6, 4, 4}, 'G': {3, 4, 5, 5, 3}, 'H': {5, 5, 7, 5, 5},
	'I': {7, 2, 2, 2, 7}, 'J': {1, 1, 1, 5, 2}, 'K': {5, 5, 6, 5, 5}, 'L': {4, 4, 4, 4, 7},
	'M': {5, 7, 7, 5, 5}, 'N': {6, 5, 5, 5, 5}, 'O': {2, 5, 5, 5, 2}, 'P': {6, 5, 6, 4, 4},
	'Q': {2, 5, 5, 6, 3}, 'R': {6, 5, 6, 5, 5}, 'S': {3, 4, 2, 1, 6}, 'T': {7, 2, 2, 2, 2},
	'U': {5, 5, 5, 5, 7}, 'V': {5, 5, 5, 5, 2}, 'W': {5, 5, 7, 7, 5}, 'X': {5, 5, 2, 5, 5},
	'Y': {5, 5, 2, 2, 2}, 'Z': {7, 1, 2, 4, 7},
	'0': {7, 5, 5, 5, 7}, '1': {2, 6, 2, 2, 7}, '2': {6, 1, 2, 4, 7}, '3': {6, 1, 2, 1, 6},
	'4': {5, 5, 7, 1, 1}, '5': {7, 4, 6, 1, 6}, '6': {3, 4, 7, 5, 7}, '7': {7, 1, 2, 2, 2},
	'8': {7, 5, 7, 5, 7}, '9': {7, 5, 7, 1, 6},
	' ': {0, 0, 0, 0, 0}, '.': {0, 0, 0, 0, 2}, ',': {0, 0, 0, 2, 4}, ':': {0, 2, 0, 2, 0},
	'-': {0, 0, 7, 0, 0}, '_': {0, 0, 0, 0, 7}, '/': {1, 1, 2, 4, 4}, '=': {0, 7, 0, 7, 0},
	'(': {1, 2, 2, 2, 1}, ')': {4, 2, 2, 2, 4}, '\'': {2, 2, 0, 0, 0}, '"': {5, 5, 0, 0, 0},
	'?': {6, 1, 2, 0, 2}, '!': {2, 2, 2, 0, 2}, '%': {5, 1, 2, 4, 5}, '<': {1, 2, 4, 2, 1}, '>': {4, 2, 1, 2, 4},
}
