package cog

import (
	"fmt"
	"log/slog"
	"math"
	"slices"

	"github.com/airbusgeo/godal"
)

// BandStats summarise the values of one band over its valid pixels. The
// renderer stretches a browse without an explicit range from P2 to P98:
// the extremes of 12- and 16-bit scenes are a few saturated or dead
// pixels, which would leave the rest of the image dark.
type BandStats struct {
	Index int     `json:"index"` // 1-based
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
	P2    float64 `json:"p2"`
	P98   float64 `json:"p98"`
	// Valid counts the pixels of the overview read that are not nodata;
	// zero means the band holds no data and the other fields are zero.
	Valid int `json:"valid"`
}

// StatsSide is the smallest width and height of the overview statistics
// are read from: a few hundred thousand pixels give percentiles within a
// grey level of the full resolution's, for a read of well under a second.
const StatsSide = 256

// Statistics computes the statistics of every band of the raster at path
// from its smallest overview at least StatsSide pixels on each side (the
// full resolution when none is). Nodata values and NaNs are not counted.
func Statistics(path string, log *slog.Logger) ([]BandStats, error) {
	ds, err := godal.Open(path, godal.RasterOnly(), godal.ErrLogger(Errors(log)))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer ds.Close()
	var out []BandStats
	for i, b := range ds.Bands() {
		src := statsLevel(b)
		st := src.Structure()
		buf := make([]float64, st.SizeX*st.SizeY)
		if err := src.Read(0, 0, buf, st.SizeX, st.SizeY, godal.ErrLogger(Errors(log))); err != nil {
			return nil, fmt.Errorf("read band %d of %s: %w", i+1, path, err)
		}
		nd, hasND := b.NoData()
		s := summarise(buf, nd, hasND)
		s.Index = i + 1
		out = append(out, s)
	}
	return out, nil
}

// statsLevel picks the smallest overview of b at least StatsSide pixels on
// each side, or b itself.
func statsLevel(b godal.Band) godal.Band {
	best := b
	for _, ov := range b.Overviews() {
		st := ov.Structure()
		bs := best.Structure()
		if st.SizeX >= StatsSide && st.SizeY >= StatsSide && st.SizeX*st.SizeY < bs.SizeX*bs.SizeY {
			best = ov
		}
	}
	return best
}

// summarise computes the statistics of values, leaving out nodata and
// NaN. Percentiles are nearest-rank over the sorted valid values.
func summarise(values []float64, nodata float64, hasNoData bool) BandStats {
	valid := make([]float64, 0, len(values))
	var sum float64
	for _, v := range values {
		if math.IsNaN(v) || (hasNoData && v == nodata) {
			continue
		}
		valid = append(valid, v)
		sum += v
	}
	if len(valid) == 0 {
		return BandStats{}
	}
	slices.Sort(valid)
	rank := func(p float64) float64 {
		i := int(math.Ceil(p/100*float64(len(valid)))) - 1
		return valid[max(0, min(i, len(valid)-1))]
	}
	return BandStats{Min: valid[0], Max: valid[len(valid)-1], Mean: sum / float64(len(valid)),
		P2: rank(2), P98: rank(98), Valid: len(valid)}
}

// Description is what the preprocessor stores beside a COG (<id>.json) so
// that the registrar needs no GDAL call: its header and, when computed,
// its bands' statistics.
type Description struct {
	Info
	Stats []BandStats `json:"stats,omitempty"`
}
