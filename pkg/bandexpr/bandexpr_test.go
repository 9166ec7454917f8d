package bandexpr

import (
	"math"
	"testing"
)

func TestParse(t *testing.T) {
	for src, c := range map[string]struct {
		bands []int
		vals  []float32
		want  float64
	}{
		"(B4-B3)/(B4+B3)": {[]int{3, 4}, []float32{10, 30}, 0.5},
		"b2 * 2 + 1":      {[]int{2}, []float32{3}, 7},
		"-B1 + 10":        {[]int{1}, []float32{4}, 6},
		"B1 - B2 - B3":    {[]int{1, 2, 3}, []float32{10, 3, 2}, 5},
		"B1 / B2 * B3":    {[]int{1, 2, 3}, []float32{8, 4, 3}, 6},
		"2.5*(B1+ -B2)":   {[]int{1, 2}, []float32{3, 1}, 5},
	} {
		e, err := Parse(src)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if len(e.Bands()) != len(c.bands) {
			t.Errorf("%s: bands %v, want %v", src, e.Bands(), c.bands)
			continue
		}
		for i := range c.bands {
			if e.Bands()[i] != c.bands[i] {
				t.Errorf("%s: bands %v, want %v", src, e.Bands(), c.bands)
			}
		}
		if got := e.Eval(c.vals); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: %v, want %v", src, got, c.want)
		}
	}
	for _, bad := range []string{"", "B0", "B1 +", "(B1", "B1)", "B1 ^ 2", "Bx", "3", "B1 B2", "NaN*B1"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"(B4-B3)/(B4+B3)", "B1*2", "-(B2)", "((B1))"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			return
		}
		v := make([]float32, len(e.Bands()))
		_ = e.Eval(v) // must not panic
	})
}
