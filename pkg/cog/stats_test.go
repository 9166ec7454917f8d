package cog

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/airbusgeo/godal"
)

func TestSummariseLeavesOutNodataAndNaN(t *testing.T) {
	t.Parallel()
	ramp := make([]float64, 0, 102)
	for v := 1; v <= 100; v++ {
		ramp = append(ramp, float64(v))
	}
	ramp = append(ramp, 0, math.NaN())
	cases := []struct {
		name   string
		values []float64
		nodata float64
		hasND  bool
		want   BandStats
	}{
		{"ramp with nodata 0", ramp, 0, true, BandStats{Min: 1, Max: 100, Mean: 50.5, P2: 2, P98: 98, Valid: 100}},
		{"ramp, 0 counted", ramp, 0, false, BandStats{Min: 0, Max: 100, Mean: 5050.0 / 101, P2: 2, P98: 98, Valid: 101}},
		{"all nodata", []float64{7, 7}, 7, true, BandStats{}},
		{"one value", []float64{42}, 0, true, BandStats{Min: 42, Max: 42, Mean: 42, P2: 42, P98: 42, Valid: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := summarise(append([]float64(nil), c.values...), c.nodata, c.hasND)
			if math.Abs(got.Mean-c.want.Mean) > 1e-9 {
				t.Errorf("mean %v, want %v", got.Mean, c.want.Mean)
			}
			got.Mean = c.want.Mean
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestStatisticsReadAnOverviewOfAtLeastStatsSide(t *testing.T) {
	Init()
	path := filepath.Join(t.TempDir(), "u16.tif")
	const w, h = 2048, 1024
	ds, err := godal.Create(godal.GTiff, path, 1, godal.UInt16, w, h, godal.CreationOption("TILED=YES"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]uint16, w*h)
	for i := range buf {
		buf[i] = uint16(i % w * 4095 / (w - 1)) // a ramp 0..4095 across
	}
	b := ds.Bands()[0]
	_ = b.SetNoData(0)
	if err := b.Write(0, 0, buf, w, h); err != nil {
		t.Fatal(err)
	}
	if err := ds.BuildOverviews(godal.Levels(2, 4, 8)); err != nil {
		t.Fatal(err)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := Statistics(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 {
		t.Fatalf("%d bands of statistics, want 1", len(st))
	}
	s := st[0]
	// The 1/4 overview (512×256) is the smallest with both sides ≥ 256.
	if s.Valid < 510*256 || s.Valid > 512*256 {
		t.Errorf("%d valid pixels, want those of the 512×256 overview", s.Valid)
	}
	if s.Min < 1 || s.Max < 4000 || math.Abs(s.P2-82) > 20 || math.Abs(s.P98-4013) > 20 || math.Abs(s.Mean-2048) > 20 {
		t.Errorf("statistics %+v, want min ≥ 1, max ≈ 4095, p2 ≈ 82, p98 ≈ 4013, mean ≈ 2048", s)
	}
}
