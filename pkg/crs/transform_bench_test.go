package crs

import (
	"testing"

	"github.com/pvs/pvs/pkg/cog"
)

// BenchmarkTransformBBox is the renderer's first step of every GetMap: the
// request box (EPSG:3857) to lon/lat for the catalogue query, serial and
// from as many goroutines as GOMAXPROCS (where a shared transform behind
// one lock serialises them).
func BenchmarkTransformBBox(b *testing.B) {
	cog.Init()
	box := [4]float64{-8700000, 2850000, -8660000, 2890000}
	if _, err := TransformBBox(3857, 4326, box); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := TransformBBox(3857, 4326, box); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := TransformBBox(3857, 4326, box); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
