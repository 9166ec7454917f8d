package geom

import "testing"

func TestInRing(t *testing.T) {
	square := [][2]float64{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}
	// A U open to the north: its notch is outside.
	u := [][2]float64{{0, 0}, {9, 0}, {9, 9}, {6, 9}, {6, 3}, {3, 3}, {3, 9}, {0, 9}, {0, 0}}
	for _, c := range []struct {
		ring [][2]float64
		p    [2]float64
		want bool
	}{
		{square, [2]float64{5, 5}, true},
		{square, [2]float64{-1, 5}, false},
		{square, [2]float64{5, 11}, false},
		{u, [2]float64{1.5, 6}, true},
		{u, [2]float64{4.5, 6}, false},
		{u, [2]float64{4.5, 1.5}, true},
	} {
		if got := InRing(c.ring, c.p); got != c.want {
			t.Errorf("InRing(%v, %v) = %v, want %v", c.ring, c.p, got, c.want)
		}
	}
}
