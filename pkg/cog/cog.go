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
	// Footprint is the outline of the raster in EPSG:4326, lon/lat, closed.
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
	gt, err := ds.GeoTransform(godal.ErrLogger(Errors(nil)))
	if err != nil {
		return info, fmt.Errorf("%s has no geotransform: %w", path, err)
	}
	info.GeoTransform = gt
	sr := ds.SpatialRef()
	if sr == nil {
		return info, fmt.Errorf("%s has no coordinate reference system", path)
	}
	defer sr.Close()
	info.CRS = CRSName(sr)
	fp, err := footprint(sr, gt, st.SizeX, st.SizeY)
	if err != nil {
		return info, fmt.Errorf("footprint of %s: %w", path, err)
	}
	info.Footprint = fp
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
// it correctly) and transforms it to EPSG:4326 lon/lat.
func footprint(sr *godal.SpatialRef, gt [6]float64, w, h int) ([][2]float64, error) {
	const steps = 16
	var px, py []float64
	edge := func(x0, y0, x1, y1 float64) {
		for i := 0; i < steps; i++ {
			t := float64(i) / steps
			px = append(px, x0+(x1-x0)*t)
			py = append(py, y0+(y1-y0)*t)
		}
	}
	W, H := float64(w), float64(h)
	edge(0, 0, W, 0)
	edge(W, 0, W, H)
	edge(W, H, 0, H)
	edge(0, H, 0, 0)
	xs := make([]float64, len(px))
	ys := make([]float64, len(px))
	for i := range px {
		xs[i] = gt[0] + px[i]*gt[1] + py[i]*gt[2]
		ys[i] = gt[3] + px[i]*gt[4] + py[i]*gt[5]
	}
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
	ok := make([]bool, len(xs))
	if err := tr.TransformEx(xs, ys, nil, ok); err != nil {
		return nil, err
	}
	ring := make([][2]float64, 0, len(xs)+1)
	for i := range xs {
		if !ok[i] || math.IsNaN(xs[i]) || math.IsInf(ys[i], 0) {
			return nil, fmt.Errorf("edge point %d does not transform to EPSG:4326", i)
		}
		ring = append(ring, [2]float64{xs[i], ys[i]})
	}
	ring = append(ring, ring[0])
	return ring, nil
}
