package cog

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/airbusgeo/godal"
)

var registerOnce sync.Once

// Init registers GDAL's drivers. It is safe to call more than once.
func Init() { registerOnce.Do(godal.RegisterAll) }

// Errors routes GDAL's messages into log: failures become errors of the
// call that raised them, warnings are logged. Use it as
// godal.ErrLogger(cog.Errors(log)).
func Errors(log *slog.Logger) godal.ErrorHandler {
	return func(ec godal.ErrorCategory, code int, msg string) error {
		if ec >= godal.CE_Failure {
			return errors.New(strings.TrimSpace(msg))
		}
		if log != nil && ec == godal.CE_Warning {
			log.Debug("gdal", "code", code, "msg", msg)
		}
		return nil
	}
}

// Options are the COG creation options.
type Options struct {
	Compress           string   `json:"compress"` // DEFLATE, LZW, ZSTD, JPEG, WEBP, NONE
	BlockSize          int      `json:"blocksize"`
	OverviewResampling string   `json:"overview_resampling"`
	Threads            string   `json:"num_threads"`     // NUM_THREADS value
	Extra              []string `json:"extra,omitempty"` // further KEY=VALUE creation options
}

// Switches returns the gdal_translate switches that create the COG, the same
// a user would pass to gdal_translate -of COG.
func (o Options) Switches() []string {
	s := []string{"-of", "COG",
		"-co", "COMPRESS=" + o.Compress,
		"-co", "BLOCKSIZE=" + strconv.Itoa(o.BlockSize),
		"-co", "OVERVIEW_RESAMPLING=" + o.OverviewResampling,
		"-co", "NUM_THREADS=" + o.Threads,
		"-co", "BIGTIFF=IF_NEEDED",
	}
	if o.Compress == "DEFLATE" || o.Compress == "LZW" || o.Compress == "ZSTD" {
		s = append(s, "-co", "PREDICTOR=YES")
	}
	for _, e := range o.Extra {
		s = append(s, "-co", e)
	}
	return s
}

// Translate writes src as a COG at dst (a local path), with no further
// steps. src is trusted as to where it is, not as to what it holds: it is
// opened with DefaultDrivers.
func Translate(src, dst string, o Options, log *slog.Logger) error {
	return Convert([]string{src}, dst, Steps{}, o, InputPolicy{}, log)
}

// Band describes one raster band.
type Band struct {
	Index    int      `json:"index"`
	DataType string   `json:"data_type"`
	Color    string   `json:"color"`
	NoData   *float64 `json:"nodata,omitempty"`
}

// Info describes a raster.
type Info struct {
	Width        int        `json:"width"`
	Height       int        `json:"height"`
	Bands        []Band     `json:"bands"`
	CRS          string     `json:"crs"` // EPSG:n where known, else WKT
	GeoTransform [6]float64 `json:"geotransform"`
	// Footprint is the outline of the raster in EPSG:4326, lon/lat, closed;
	// nil when too little of the raster's edge is on the Earth.
	Footprint [][2]float64 `json:"-"`
	Overviews int          `json:"overviews"`
	Layout    string       `json:"layout"` // GDAL's IMAGE_STRUCTURE LAYOUT (COG for a COG)
}

// Describe opens path and describes it, including its footprint.
func Describe(path string, log *slog.Logger) (Info, error) {
	Init()
	ds, err := godal.Open(path, godal.ErrLogger(Errors(log)), godal.RasterOnly())
	if err != nil {
		return Info{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer ds.Close()
	st := ds.Structure()
	info := Info{Width: st.SizeX, Height: st.SizeY}
	info.Layout = ds.Metadata("LAYOUT", godal.Domain("IMAGE_STRUCTURE"))
	bands := ds.Bands()
	for i, b := range bands {
		bs := b.Structure()
		bd := Band{Index: i + 1, DataType: bs.DataType.String(), Color: b.ColorInterp().Name()}
		if nd, ok := b.NoData(); ok {
			bd.NoData = &nd
		}
		info.Bands = append(info.Bands, bd)
	}
	if len(bands) > 0 {
		info.Overviews = len(bands[0].Overviews())
	}
	gt, sr, err := georeferencing(ds, path)
	if err != nil {
		return info, err
	}
	info.GeoTransform = gt
	info.CRS = CRSName(sr)
	// A full disk seen from space has its whole edge off the Earth: it has
	// no edge outline, and ValidFootprint draws what it shows.
	info.Footprint, _ = footprint(sr, gt, st.SizeX, st.SizeY)
	return info, nil
}

// CRSName returns "EPSG:n" for a CRS GDAL can identify, else its WKT.
func CRSName(sr *godal.SpatialRef) string {
	if sr.AuthorityName("") == "EPSG" {
		if code := sr.AuthorityCode(""); code != "" {
			return "EPSG:" + code
		}
	}
	wkt, _ := sr.WKT()
	if c, err := godal.NewSpatialRefFromWKT(wkt); err == nil {
		defer c.Close()
		if c.AutoIdentifyEPSG() == nil && c.AuthorityName("") == "EPSG" {
			return "EPSG:" + c.AuthorityCode("")
		}
	}
	return wkt
}

// footprint traces the raster's edge (densified, so that reprojection bends
// it correctly) and transforms it to EPSG:4326 lon/lat. Edge points PROJ
// cannot place (off the disk of a geostationary view) are left out.
func footprint(sr *godal.SpatialRef, gt [6]float64, w, h int) ([][2]float64, error) {
	wgs, err := godal.NewSpatialRefFromEPSG(4326)
	if err != nil {
		return nil, err
	}
	defer wgs.Close()
	tr, err := godal.NewTransform(sr, wgs)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	side := math.Hypot(gt[1]*float64(w), gt[4]*float64(w))
	ring := projectRing(tr, edgeRing(gt, w, h), side/32)
	if len(ring) < 4 {
		return nil, errors.New("too few points of the raster's edge can be placed in lon/lat")
	}
	for i := range ring {
		ring[i][0] -= 360 * math.Round(ring[i][0]/360)
	}
	return ring, nil
}
