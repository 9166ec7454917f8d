package register

import (
	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/cog"
)

// described is the COG description the preprocessor stores beside a COG.
type described cog.Description

// stats returns the statistics of band index (1-based) in the registry's
// form; nil when there are none or the band holds no valid pixel.
func (d described) stats(index int) *catalog.BandStats {
	for _, s := range d.Stats {
		if s.Index == index && s.Valid > 0 {
			return &catalog.BandStats{Min: s.Min, Max: s.Max, Mean: s.Mean, P2: s.P2, P98: s.P98}
		}
	}
	return nil
}
