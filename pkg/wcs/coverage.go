package wcs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/cog"
)

// Band describes one band of a coverage.
type Band struct {
	DataType string // GDAL's name: Byte, UInt16, ...
	Color    string
	NoData   *float64
}

// Coverage is one registered product's raster.
type Coverage struct {
	ID           string
	BBox         [4]float64 // footprint bbox, EPSG:4326 lon/lat
	CRS          string     // EPSG:n; other CRSs are not offered
	Width        int
	Height       int
	GeoTransform [6]float64
	Bands        []Band
	Location     string // object key
}

// ErrNotFound is what a Backend returns for an unknown coverage.
var ErrNotFound = errors.New("no such coverage")

// Backend finds the coverages offered: every registered product of the
// collection whose CRS has an EPSG code, under its identifier.
type Backend interface {
	// Coverages returns up to limit coverages, newest first.
	Coverages(ctx context.Context, limit int) ([]Coverage, error)
	// Coverage returns one coverage; ErrNotFound when unknown.
	Coverage(ctx context.Context, id string) (Coverage, error)
	// GDALPath names a stored object for GDAL.
	GDALPath(key string) string
}

// coverageInfo is what the documents and GetCoverage need of a product.
type coverageInfo struct {
	ID     string
	Cov    Coverage
	EPSG   int
	LatLon bool // the CRS's axis order is latitude first
	Grid   Grid
}

// axes returns the CRS axis labels in the CRS's order, and the names the
// horizontal (x) and vertical (y) axes answer to in SUBSET and SCALE*.
func (c coverageInfo) axes() (labels [2]string, xs, ys []string) {
	if c.LatLon {
		return [2]string{"Lat", "Long"}, []string{"Long", "Lon", "x", "i"}, []string{"Lat", "y", "j"}
	}
	return [2]string{"x", "y"}, []string{"x", "E", "i"}, []string{"y", "N", "j"}
}

// pair writes two values in the CRS's axis order, given x/y ones.
func (c coverageInfo) pair(x, y float64) string {
	if c.LatLon {
		return fmtf(y) + " " + fmtf(x)
	}
	return fmtf(x) + " " + fmtf(y)
}

// info reads the coverage of a product; products without an EPSG CRS
// are not offered.
func info(cov Coverage) (coverageInfo, error) {
	code, err := strconv.Atoi(strings.TrimPrefix(cov.CRS, "EPSG:"))
	if err != nil || !strings.HasPrefix(cov.CRS, "EPSG:") {
		return coverageInfo{}, fmt.Errorf("its CRS has no EPSG code")
	}
	ci := coverageInfo{ID: cov.ID, Cov: cov, EPSG: code,
		Grid: Grid{Width: cov.Width, Height: cov.Height, GeoTransform: cov.GeoTransform}}
	ci.LatLon = epsgLatLon(code)
	return ci, nil
}

var latLonCodes sync.Map // EPSG code → bool

// epsgLatLon reports whether the EPSG CRS puts latitude first. The answer
// is kept: a lookup in the PROJ database costs about a millisecond, and
// the capabilities ask it of every coverage.
func epsgLatLon(code int) bool {
	if v, ok := latLonCodes.Load(code); ok {
		return v.(bool)
	}
	cog.Init()
	sr, err := godal.NewSpatialRefFromEPSG(code)
	if err != nil {
		return false
	}
	defer sr.Close()
	latLon := sr.Geographic() && sr.EPSGTreatsAsLatLong()
	latLonCodes.Store(code, latLon)
	return latLon
}

func srsURI(code int) string { return "http://www.opengis.net/def/crs/EPSG/0/" + strconv.Itoa(code) }

func fmtf(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
