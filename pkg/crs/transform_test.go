package crs

import (
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/cog"
)

func TestCheckBBox(t *testing.T) {
	t.Parallel()
	inf, nan := math.Inf(1), math.NaN()
	for _, c := range []struct {
		name string
		code int
		box  [4]float64
		want string // part of the error; "" for none
	}{
		{"world 4326", 4326, [4]float64{-180, -90, 180, 90}, ""},
		{"4326 past the antimeridian at zoom 0", 4326, [4]float64{-540, -90, 540, 90}, ""},
		{"3857 slightly past the world", 3857, [4]float64{-20037600, -20037600, 20037600, 20037600}, ""},
		{"3857 50 worlds wide", 3857, [4]float64{-1e9, -1e9, 1e9, 1e9}, ""},
		{"a point", 3857, [4]float64{5, 5, 5, 5}, ""},
		{"UTM scene", 32618, [4]float64{101985, 2611485, 339315, 2826915}, ""},
		{"south UTM scene", 32733, [4]float64{300000, 7000000, 400000, 7100000}, ""},
		{"3857 1e300", 3857, [4]float64{-1e300, -1e300, 1e300, 1e300}, "far outside EPSG:3857"},
		{"3857 1e20", 3857, [4]float64{0, 0, 1e20, 1}, "far outside"},
		{"3857 just beyond the limit", 3857, [4]float64{0, 0, 1.0000001e9, 1}, "far outside"},
		{"4326 1e5 degrees", 4326, [4]float64{-1e5, 0, 0, 1}, "degrees"},
		{"UTM 1e20", 32631, [4]float64{0, 0, 1, 1e20}, "far outside EPSG:32631"},
		{"unknown projected 1e20", 2154, [4]float64{0, 0, 1e20, 1}, "far outside"},
		{"NaN", 4326, [4]float64{nan, 0, 1, 1}, "not a finite number"},
		{"Inf", 3857, [4]float64{0, 0, inf, 1}, "not a finite number"},
		{"-Inf", 32631, [4]float64{-inf, 0, 1, 1}, "not a finite number"},
		{"inverted x", 3857, [4]float64{10, 0, 0, 1}, "minimum above its maximum"},
		{"inverted y", 4326, [4]float64{0, 10, 1, 0}, "minimum above its maximum"},
	} {
		err := CheckBBox(c.code, c.box)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}

func TestTransformBBox(t *testing.T) {
	cog.Init()
	near := func(a, b [4]float64, tol float64) bool {
		for i := range a {
			if math.Abs(a[i]-b[i]) > tol {
				return false
			}
		}
		return true
	}
	for _, c := range []struct {
		name     string
		from, to int
		box      [4]float64
		want     [4]float64
		tol      float64
		wantErr  string
	}{
		{"a quarter of the world", 3857, 4326, [4]float64{0, 0, webMercatorHalf, webMercatorHalf}, [4]float64{0, 0, 180, webMercatorMaxLat}, 1e-6, ""},
		{"3857 past the world is clamped", 3857, 4326, [4]float64{-3e7, -3e7, 3e7, 3e7}, [4]float64{-180, -webMercatorMaxLat, 180, webMercatorMaxLat}, 1e-6, ""},
		{"3857 50 worlds wide is clamped", 3857, 4326, [4]float64{-1e9, -1e9, 1e9, 1e9}, [4]float64{-180, -webMercatorMaxLat, 180, webMercatorMaxLat}, 1e-6, ""},
		{"4326 past ±180 is clamped", 4326, 4326, [4]float64{-540, -100, 540, 100}, [4]float64{-180, -90, 180, 90}, 0, ""},
		{"4326 to 3857 stops at the world square", 4326, 3857, [4]float64{-180, -90, 180, 90}, [4]float64{-webMercatorHalf, -webMercatorHalf, webMercatorHalf, webMercatorHalf}, 1e-3, ""},
		{"UTM scene", 32618, 4326, [4]float64{101985, 2611485, 339315, 2826915}, [4]float64{-78.9586, 23.5650, -76.5749, 25.5509}, 1e-3, ""},
		{"a point", 3857, 4326, [4]float64{0, 0, 0, 0}, [4]float64{0, 0, 0, 0}, 1e-9, ""},
		{"the hang: 1e300 in 3857", 3857, 4326, [4]float64{-1e300, -1e300, 1e300, 1e300}, [4]float64{}, 0, "far outside"},
		{"1e20 in 3857", 3857, 4326, [4]float64{-1e20, -1e20, 1e20, 1e20}, [4]float64{}, 0, "far outside"},
		{"NaN", 32631, 4326, [4]float64{math.NaN(), 0, 1, 1}, [4]float64{}, 0, "finite"},
		{"wholly outside the world", 3857, 4326, [4]float64{3e7, 3e7, 4e7, 4e7}, [4]float64{}, 0, "outside EPSG:3857"},
		{"a point outside the world", 4326, 3857, [4]float64{200, 0, 200, 0}, [4]float64{}, 0, "outside EPSG:4326"},
		{"north of the world square", 4326, 3857, [4]float64{0, 86, 1, 89}, [4]float64{}, 0, "outside EPSG:3857"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			got, err := TransformBBox(c.from, c.to, c.box)
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d) // a hang detector, not a speed target
			}
			switch {
			case c.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Errorf("got %v, %v; want an error saying %q", got, err, c.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case !near(got, c.want, c.tol):
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// Transformations run at once from many goroutines give the answers they
// give one at a time: no OGR transformation is used by two at once.
func TestTransformBBoxConcurrently(t *testing.T) {
	cog.Init()
	boxes := [][4]float64{{-8700000, 2850000, -8660000, 2890000}, {0, 0, 1e6, 1e6}, {-2e7, -1e7, 1e7, 2e7}}
	want := make([][4]float64, len(boxes))
	for i, b := range boxes {
		var err error
		if want[i], err = TransformBBox(3857, 4326, b); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Go(func() {
			for n := 0; n < 200; n++ {
				i := (g + n) % len(boxes)
				got, err := TransformBBox(3857, 4326, boxes[i])
				if err != nil || got != want[i] {
					t.Errorf("goroutine %d: %v, %v; want %v", g, got, err, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

// A transformation busy elsewhere (a call stuck in PROJ, say) does not
// hold up the others of the same pair.
func TestBusyTransformationBlocksNobody(t *testing.T) {
	cog.Init()
	p := poolOf(3857, 4326)
	busy, err := p.get()
	if err != nil {
		t.Fatal(err)
	}
	defer p.put(busy)
	done := make(chan error, 1)
	go func() {
		_, err := TransformBBox(3857, 4326, [4]float64{0, 0, 1000, 1000})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a transformation waits for another one in use")
	}
}

func TestDomainOfOtherCRSs(t *testing.T) {
	cog.Init()
	for code, geographic := range map[int]bool{4258: true, 2154: false, 999999: false} {
		if d := domainOf(code); d.geographic != geographic {
			t.Errorf("EPSG:%d: geographic %v, want %v", code, d.geographic, geographic)
		}
	}
	// Clamped to ±180/±90 like EPSG:4326.
	if b, err := TransformBBox(4258, 4258, [4]float64{-200, -100, 200, 100}); err != nil || b != [4]float64{-180, -90, 180, 90} {
		t.Errorf("EPSG:4258: %v %v", b, err)
	}
}

// Whatever four numbers a request carries, TransformBBox refuses them or
// answers with a box inside the target's valid area; it never hands PROJ
// a box that keeps it busy (a hang shows as a fuzzer that stops making
// progress).
func FuzzTransformBBox(f *testing.F) {
	cog.Init()
	f.Add(0, -1e300, -1e300, 1e300, 1e300)
	f.Add(0, -1e20, 0.0, 1e20, 1.0)
	f.Add(1, -540.0, -100.0, 540.0, 100.0)
	f.Add(2, 0.0, 0.0, 1e9, 1e9)
	f.Add(3, math.NaN(), 0.0, 1.0, math.Inf(1))
	f.Add(0, -1e9, -1e9, 1e9, 1e9)
	pairs := [][2]int{{3857, 4326}, {4326, 3857}, {32631, 4326}, {32731, 3857}, {4326, 32618}}
	f.Fuzz(func(t *testing.T, pair int, x0, y0, x1, y1 float64) {
		p := pairs[(pair%len(pairs)+len(pairs))%len(pairs)]
		out, err := TransformBBox(p[0], p[1], [4]float64{x0, y0, x1, y1})
		if err != nil {
			return
		}
		v := domainOf(p[1]).valid
		if !(out[0] >= v[0] && out[1] >= v[1] && out[2] <= v[2] && out[3] <= v[3] && out[0] <= out[2] && out[1] <= out[3]) {
			t.Errorf("EPSG:%d %v to EPSG:%d: %v, outside %v", p[0], [4]float64{x0, y0, x1, y1}, p[1], out, v)
		}
	})
}
