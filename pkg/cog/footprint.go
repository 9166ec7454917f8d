package cog

import (
	"errors"
	"fmt"
	"log/slog"
	"math"

	"github.com/airbusgeo/godal"
)

// maskSide is the largest side of the mask polygonized for a footprint.
const maskSide = 512

// ValidFootprint returns the outline of the raster's valid pixels (per its
// nodata, alpha or mask) in EPSG:4326 lon/lat, as polygons of rings, every
// longitude within ±180. It polygonizes the mask of the smallest overview at
// least maskSide pixels wide (or the full raster when smaller), so its
// precision is one pixel of that level. A raster whose pixels are all valid
// gets its edge outline.
//
// The outline is traced in the raster's own CRS, whatever the orientation
// of its geotransform, and only then taken to lon/lat (see lonLat): that is
// where an outline may cross the antimeridian, go round a pole, or have
// points PROJ cannot place.
func ValidFootprint(path string, log *slog.Logger) ([][][][2]float64, error) {
	Init()
	errs := godal.ErrLogger(Errors(log))
	ds, err := godal.Open(path, godal.RasterOnly(), errs)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer ds.Close()
	gt, sr, err := georeferencing(ds, path)
	if err != nil {
		return nil, err
	}
	native, step, err := validPolygons(ds, gt, Errors(log))
	if err != nil {
		return nil, fmt.Errorf("valid pixels of %s: %w", path, err)
	}
	fp, err := lonLat(sr, native, step)
	if err != nil {
		return nil, fmt.Errorf("footprint of %s in EPSG:4326: %w", path, err)
	}
	return fp, nil
}

// georeferencing returns the raster's geotransform and CRS. A raster with
// no CRS is refused here, in words: PROJ would otherwise refuse it later
// in its own ("OGRProjCT::Initialize(): if source and/or target CRS are
// null ...").
func georeferencing(ds *godal.Dataset, path string) ([6]float64, *godal.SpatialRef, error) {
	gt, err := ds.GeoTransform(godal.ErrLogger(Errors(nil)))
	if err != nil {
		return gt, nil, fmt.Errorf("%s has no geotransform: %w", path, err)
	}
	if ds.Projection() == "" {
		return gt, nil, fmt.Errorf("%s has a geotransform but no coordinate reference system (CRS), so its pixels cannot be placed on the Earth: give the file a CRS (e.g. gdal_edit.py -a_srs EPSG:4326) and enqueue it again", path)
	}
	return gt, ds.SpatialRef(), nil
}

// validPolygons returns the polygons of valid pixels in the raster's CRS,
// with the length of one pixel of the level read (in CRS units).
func validPolygons(ds *godal.Dataset, gt [6]float64, eh godal.ErrorHandler) ([][][][2]float64, float64, error) {
	errs := godal.ErrLogger(eh)
	st := ds.Structure()
	band := ds.Bands()[0]
	const allValid = 0x01 // GMF_ALL_VALID
	if band.MaskFlags()&allValid != 0 {
		return [][][][2]float64{{edgeRing(gt, st.SizeX, st.SizeY)}}, pixelSize(gt), nil
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
		return nil, 0, fmt.Errorf("read mask: %w", err)
	}
	sx, sy := float64(st.SizeX)/float64(w), float64(st.SizeY)/float64(h)
	lgt := [6]float64{gt[0], gt[1] * sx, gt[2] * sy, gt[3], gt[4] * sx, gt[5] * sy}
	polys, err := polygonize(buf, w, h, lgt, eh)
	if err != nil {
		return nil, 0, err
	}
	if len(polys) == 0 {
		return nil, 0, errors.New("the raster has no valid pixels")
	}
	return largest(polys), pixelSize(lgt), nil
}

// polygonize outlines the non-zero pixels of mask (w×h, georeferenced by
// gt), one pixel's staircase simplified into straight lines.
func polygonize(mask []byte, w, h int, gt [6]float64, eh godal.ErrorHandler) ([][][][2]float64, error) {
	errs := godal.ErrLogger(eh)
	mem, err := godal.Create(godal.Memory, "", 1, godal.Byte, w, h, errs)
	if err != nil {
		return nil, err
	}
	defer mem.Close()
	if err := mem.SetGeoTransform(gt, errs); err != nil {
		return nil, err
	}
	mb := mem.Bands()[0]
	if err := mb.Write(0, 0, mask, w, h, errs); err != nil {
		return nil, err
	}
	vec, err := godal.CreateVector(godal.Memory, "", errs)
	if err != nil {
		return nil, err
	}
	defer vec.Close()
	layer, err := vec.CreateLayer("valid", nil, godal.GTPolygon, errs)
	if err != nil {
		return nil, err
	}
	// The mask as its own mask: only valid pixels become polygons.
	if err := mb.Polygonize(layer, godal.Mask(mb), godal.EightConnected(), errs); err != nil {
		return nil, fmt.Errorf("polygonize mask: %w", err)
	}
	var out [][][][2]float64
	for f := layer.NextFeature(); f != nil; f = layer.NextFeature() {
		polys, err := simplified(f.Geometry(), pixelSize(gt))
		f.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, polys...)
	}
	return out, nil
}

func simplified(g *godal.Geometry, tolerance float64) ([][][][2]float64, error) {
	s, err := g.Simplify(tolerance)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return polygonsOf(s)
}

// largest keeps the polygons whose outer ring is at least 1% of the largest
// one's area: specks of data beside a scene are noise.
func largest(polys [][][][2]float64) [][][][2]float64 {
	top := 0.0
	areas := make([]float64, len(polys))
	for i, p := range polys {
		areas[i] = ringArea(p[0])
		top = max(top, areas[i])
	}
	var out [][][][2]float64
	for i, p := range polys {
		if areas[i] >= top/100 {
			out = append(out, p)
		}
	}
	return out
}

// edgeRing is the raster's outline in its CRS, for any geotransform
// (bottom-up, rotated).
func edgeRing(gt [6]float64, w, h int) [][2]float64 {
	at := func(px, py float64) [2]float64 {
		return [2]float64{gt[0] + px*gt[1] + py*gt[2], gt[3] + px*gt[4] + py*gt[5]}
	}
	W, H := float64(w), float64(h)
	return [][2]float64{at(0, 0), at(W, 0), at(W, H), at(0, H), at(0, 0)}
}

// pixelSize is the length of a pixel's side along a row.
func pixelSize(gt [6]float64) float64 { return math.Hypot(gt[1], gt[4]) }

func ringArea(r [][2]float64) float64 {
	a := 0.0
	for k := 0; k+1 < len(r); k++ {
		a += r[k][0]*r[k+1][1] - r[k+1][0]*r[k][1]
	}
	return math.Abs(a) / 2
}
