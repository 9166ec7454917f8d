package cog

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/metadata"
)

// maskSide is the largest side of the mask polygonized for a footprint.
const maskSide = 512

// ValidFootprint returns the outline of the raster's valid pixels (per its
// nodata, alpha or mask) in EPSG:4326 lon/lat, as polygons of rings. It
// polygonizes the mask of the smallest overview at least maskSide pixels
// wide (or the full raster when smaller), so its precision is one pixel of
// that level. A raster whose pixels are all valid gets its edge outline.
func ValidFootprint(path string, log *slog.Logger) ([][][][2]float64, error) {
	Init()
	errs := godal.ErrLogger(Errors(log))
	ds, err := godal.Open(path, godal.RasterOnly(), errs)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer ds.Close()
	st := ds.Structure()
	gt, err := ds.GeoTransform(errs)
	if err != nil {
		return nil, fmt.Errorf("%s has no geotransform: %w", path, err)
	}
	sr := ds.SpatialRef()
	if sr == nil {
		return nil, fmt.Errorf("%s has no coordinate reference system", path)
	}
	defer sr.Close()
	band := ds.Bands()[0]
	const allValid = 0x01 // GMF_ALL_VALID
	if band.MaskFlags()&allValid != 0 {
		ring, err := footprint(sr, gt, st.SizeX, st.SizeY)
		if err != nil {
			return nil, err
		}
		return [][][][2]float64{{ring}}, nil
	}
	// The level to read: the smallest overview still maskSide wide.
	mask, w, h := band.MaskBand(), st.SizeX, st.SizeY
	for _, ov := range band.Overviews() {
		os := ov.Structure()
		if os.SizeX < maskSide && os.SizeY < maskSide {
			break
		}
		mask, w, h = ov.MaskBand(), os.SizeX, os.SizeY
	}
	buf := make([]byte, w*h)
	if err := mask.Read(0, 0, buf, w, h, errs); err != nil {
		return nil, fmt.Errorf("read mask of %s: %w", path, err)
	}
	mem, err := godal.Create(godal.Memory, "", 1, godal.Byte, w, h, errs)
	if err != nil {
		return nil, err
	}
	defer mem.Close()
	sx, sy := float64(st.SizeX)/float64(w), float64(st.SizeY)/float64(h)
	if err := mem.SetGeoTransform([6]float64{gt[0], gt[1] * sx, gt[2] * sy, gt[3], gt[4] * sx, gt[5] * sy}, errs); err != nil {
		return nil, err
	}
	mb := mem.Bands()[0]
	if err := mb.Write(0, 0, buf, w, h, errs); err != nil {
		return nil, err
	}
	vec, err := godal.CreateVector(godal.Memory, "", errs)
	if err != nil {
		return nil, err
	}
	defer vec.Close()
	layer, err := vec.CreateLayer("valid", sr, godal.GTPolygon, errs)
	if err != nil {
		return nil, err
	}
	// Polygonize the mask using itself as mask: only valid pixels become
	// polygons.
	if err := mb.Polygonize(layer, godal.Mask(mb), godal.EightConnected(), errs); err != nil {
		return nil, fmt.Errorf("polygonize mask of %s: %w", path, err)
	}
	// Polygonize gives one polygon per connected region, disjoint: together
	// they are a valid MultiPolygon. AddGeometry copies the borrowed
	// feature geometries.
	union, err := godal.NewGeometryFromWKT("MULTIPOLYGON EMPTY", sr)
	if err != nil {
		return nil, err
	}
	defer union.Close()
	for f := layer.NextFeature(); f != nil; f = layer.NextFeature() {
		err := union.AddGeometry(f.Geometry())
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	if union.Empty() {
		return nil, errors.New("the raster has no valid pixels")
	}
	// One pixel of the level read: staircase edges become straight lines.
	simple, err := union.Simplify(abs(gt[1]) * sx)
	if err != nil {
		return nil, err
	}
	defer simple.Close()
	wgs, err := godal.NewSpatialRefFromEPSG(4326)
	if err != nil {
		return nil, err
	}
	defer wgs.Close()
	if err := simple.Reproject(wgs); err != nil {
		return nil, fmt.Errorf("footprint to EPSG:4326: %w", err)
	}
	gj, err := simple.GeoJSON(godal.SignificantDigits(9))
	if err != nil {
		return nil, err
	}
	polys, err := metadata.ParseGeoJSONPolygons([]byte(gj))
	if err != nil {
		return nil, err
	}
	return outerRings(polys), nil
}

// outerRings keeps the outer ring of each polygon whose area is at least 1%
// of the largest: nodata pixels inside a scene are holes of the mask, not of
// the product, and specks of data beside it are noise.
func outerRings(polys [][][][2]float64) [][][][2]float64 {
	largest := 0.0
	areas := make([]float64, len(polys))
	for i, p := range polys {
		if len(p) > 0 {
			areas[i] = ringArea(p[0])
			largest = max(largest, areas[i])
		}
	}
	var out [][][][2]float64
	for i, p := range polys {
		if len(p) > 0 && areas[i] >= largest/100 {
			out = append(out, [][][2]float64{p[0]})
		}
	}
	return out
}

func ringArea(r [][2]float64) float64 {
	a := 0.0
	for k := 0; k+1 < len(r); k++ {
		a += r[k][0]*r[k+1][1] - r[k+1][0]*r[k][1]
	}
	return abs(a) / 2
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
