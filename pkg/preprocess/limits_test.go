package preprocess

import (
	"testing"

	"github.com/pvs/pvs/pkg/config"
)

func TestLimitsInForce(t *testing.T) {
	t.Parallel()
	defaults := LimitsFrom(config.Preprocessor{})
	configured := config.Preprocessor{Limits: config.PreprocessorLimits{DownloadBytes: 1, UnpackedBytes: 2, ExpansionRatio: 3,
		Entries: 4, RasterSide: 5, RasterSamples: 6, XMLBytes: 7, XMLDepth: 8}}
	own := Limits{DownloadBytes: 10, MaxBytes: 20, MaxRatio: 30, MaxEntries: 40, RasterSide: 50, RasterSamples: 60, XMLBytes: 70, XMLDepth: 80}
	for _, c := range []struct {
		name string
		p    Preprocessor
		want Limits
	}{
		{"nothing set: the defaults", Preprocessor{}, defaults},
		{"the configuration", Preprocessor{Options: configured, Limits: own},
			Limits{DownloadBytes: 1, MaxBytes: 2, MaxRatio: 3, MaxEntries: 4, RasterSide: 5, RasterSamples: 6, XMLBytes: 7, XMLDepth: 8}},
		{"no configuration: the Preprocessor's", Preprocessor{Limits: own}, own},
		{"each unset one from the defaults", Preprocessor{Limits: Limits{MaxEntries: 9}}, func() Limits { d := defaults; d.MaxEntries = 9; return d }()},
		{"a daemon's configuration wins over its hard-coded entries", Preprocessor{Options: func() config.Preprocessor {
			var c config.Preprocessor
			c.Limits.SetDefaults(0)
			c.Limits.Entries = 500
			return c
		}(), Limits: Limits{MaxBytes: 64 << 30, MaxEntries: 100000}}, func() Limits { d := defaults; d.MaxEntries = 500; return d }()},
	} {
		if got := c.p.limits(); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	if defaults.DownloadBytes != 16<<30 || defaults.MaxBytes != 64<<30 || defaults.MaxRatio != 50 || defaults.RasterSide != 100000 ||
		defaults.RasterSamples != 4e10 || defaults.XMLBytes != 16<<20 || defaults.XMLDepth != 256 || defaults.MaxEntries != 100000 {
		t.Errorf("defaults = %+v", defaults)
	}
}
