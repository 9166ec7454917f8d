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
	l.DownloadBytes = set(c.DownloadBytes, l.DownloadBytes)
	l.MaxBytes = set(c.UnpackedBytes, l.MaxBytes)
	l.MaxRatio = set(c.ExpansionRatio, l.MaxRatio)
	l.MaxEntries = set(c.Entries, l.MaxEntries)
	l.RasterSide = set(c.RasterSide, l.RasterSide)
	l.RasterSamples = set(c.RasterSamples, l.RasterSamples)
	l.XMLBytes = set(c.XMLBytes, l.XMLBytes)
	l.XMLDepth = set(c.XMLDepth, l.XMLDepth)
	return l.orDefault()
}

// set returns v when it is set (positive), else fallback.
func set[T int | int64 | float64](v, fallback T) T {
	if v > 0 {
		return v
	}
	return fallback
}

// orDefault fills unset caps with config's defaults: a Preprocessor built
// without them is still bounded.
func (l Limits) orDefault() Limits {
	d := LimitsFrom(config.Preprocessor{})
	l.DownloadBytes = set(l.DownloadBytes, d.DownloadBytes)
	l.MaxBytes = set(l.MaxBytes, d.MaxBytes)
	l.MaxRatio = set(l.MaxRatio, d.MaxRatio)
	l.MaxEntries = set(l.MaxEntries, d.MaxEntries)
	l.RasterSide = set(l.RasterSide, d.RasterSide)
	l.RasterSamples = set(l.RasterSamples, d.RasterSamples)
	l.XMLBytes = set(l.XMLBytes, d.XMLBytes)
	l.XMLDepth = set(l.XMLDepth, d.XMLDepth)
	return l
}

func (l Limits) xml() metadata.Limits {
	return metadata.Limits{MaxBytes: l.XMLBytes, MaxDepth: l.XMLDepth}
}
