// Package geom holds the planar geometry the footprint, tile and drawing
// code share, on rings of [x, y] points with no library behind them.
package geom

// InRing reports whether p lies inside the closed ring (even-odd rule).
func InRing(ring [][2]float64, p [2]float64) bool {
	in := false
	for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
		a, b := ring[i], ring[j]
		if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < (b[0]-a[0])*(p[1]-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}
