package preprocess

import (
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/metadata"
)

// Limits cap what one package may cost. Every cap refused is a permanent
// failure whose reason names the cap's setting under preprocessor.limits.
type Limits struct {
	// DownloadBytes caps what is fetched from the source store.
	DownloadBytes int64
	// MaxBytes caps what an archive unpacks to (unpacked_bytes).
	MaxBytes int64
	// MaxRatio caps unpacked over packed bytes of an archive
	// (expansion_ratio).
	MaxRatio float64
	// MaxEntries caps the files and directories of a package (entries).
	MaxEntries int
	// RasterSide and RasterSamples cap the rasters, from their headers.
	RasterSide    int
	RasterSamples int64
	// XMLBytes and XMLDepth cap the metadata documents.
	XMLBytes int64
	XMLDepth int
}

// LimitsFrom returns the caps of a preprocessor configuration; unset ones
// take the defaults of config.
func LimitsFrom(c config.Preprocessor) Limits {
	l := c.Limits
	l.SetDefaults(c.MaxPackageBytes)
	return Limits{DownloadBytes: l.DownloadBytes, MaxBytes: l.UnpackedBytes, MaxRatio: l.ExpansionRatio,
		MaxEntries: l.Entries, RasterSide: l.RasterSide, RasterSamples: l.RasterSamples,
		XMLBytes: l.XMLBytes, XMLDepth: l.XMLDepth}
}

// limits returns the caps in force: each set in the configuration
// (Options.Limits: always, once config.SetDefaults ran, so a daemon
// follows its configuration file), else in p.Limits (for callers that
// build a Preprocessor by hand), else the default.
func (p *Preprocessor) limits() Limits {
	c := p.Options.Limits
	l := p.Limits
	pick64 := func(cfg, own int64) int64 {
		if cfg > 0 {
			return cfg
		}
		return own
	}
	pick := func(cfg, own int) int {
		if cfg > 0 {
			return cfg
		}
		return own
	}
	l.DownloadBytes = pick64(c.DownloadBytes, l.DownloadBytes)
	l.MaxBytes = pick64(c.UnpackedBytes, l.MaxBytes)
	if c.ExpansionRatio > 0 {
		l.MaxRatio = c.ExpansionRatio
	}
	l.MaxEntries = pick(c.Entries, l.MaxEntries)
	l.RasterSide = pick(c.RasterSide, l.RasterSide)
	l.RasterSamples = pick64(c.RasterSamples, l.RasterSamples)
	l.XMLBytes = pick64(c.XMLBytes, l.XMLBytes)
	l.XMLDepth = pick(c.XMLDepth, l.XMLDepth)
	return l.orDefault()
}

// orDefault fills unset caps with config's defaults: a Preprocessor built
// without them is still bounded.
func (l Limits) orDefault() Limits {
	d := LimitsFrom(config.Preprocessor{})
	if l.DownloadBytes <= 0 {
		l.DownloadBytes = d.DownloadBytes
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.RasterSide <= 0 {
		l.RasterSide = d.RasterSide
	}
	if l.RasterSamples <= 0 {
		l.RasterSamples = d.RasterSamples
	}
	if l.XMLBytes <= 0 {
		l.XMLBytes = d.XMLBytes
	}
	if l.XMLDepth <= 0 {
		l.XMLDepth = d.XMLDepth
	}
	return l
}

func (l Limits) xml() metadata.Limits {
	return metadata.Limits{MaxBytes: l.XMLBytes, MaxDepth: l.XMLDepth}
}
