package cog

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/airbusgeo/godal"
)

// Steps are the per-product-type conversion steps applied before the COG is
// written.
type Steps struct {
	// Bands selects and orders bands (1-based) of the (stacked) input.
	Bands []int `json:"bands,omitempty"`
	// NoData, when set, is assigned to every band.
	NoData *float64 `json:"nodata,omitempty"`
	// Scale and Offset, when set, are assigned to every band.
	Scale  *float64 `json:"scale,omitempty"`
	Offset *float64 `json:"offset,omitempty"`
	// TargetCRS reprojects to this CRS ("EPSG:4326", ...). Empty keeps the
	// native CRS; inputs georeferenced only by GCPs or RPCs are then warped
	// to the GCPs' CRS (EPSG:4326 for RPCs).
	TargetCRS string `json:"target_crs,omitempty"`
	// Resampling for warping; default bilinear.
	Resampling string `json:"resampling,omitempty"`
}

// Convert writes the COG dst from inputs: one raster, or several
// single-band rasters stacked in order. Intermediate steps are VRTs next to
// dst (stream, no full-size copy); work is the prefix for their names.
func Convert(inputs []string, dst string, st Steps, o Options, log *slog.Logger) error {
	Init()
	if len(inputs) == 0 {
		return errors.New("no input raster")
	}
	errs := godal.ErrLogger(Errors(log))
	var src *godal.Dataset
	var err error
	if len(inputs) > 1 {
		src, err = godal.BuildVRT(dst+".stack.vrt", inputs, []string{"-separate"}, errs)
		if err != nil {
			return fmt.Errorf("stack %d band files: %w", len(inputs), err)
		}
	} else {
		src, err = godal.Open(inputs[0], godal.RasterOnly(), errs)
		if err != nil {
			return fmt.Errorf("open %s: %w", inputs[0], err)
		}
	}
	// Each VRT step refers to the dataset before it: all stay open until
	// the COG is written.
	chain := []*godal.Dataset{src}
	defer func() {
		for i := len(chain) - 1; i >= 0; i-- {
			chain[i].Close()
		}
	}()
	nb := len(src.Bands())
	if len(st.Bands) > 0 {
		sw := []string{"-of", "VRT"}
		for _, b := range st.Bands {
			if b < 1 || b > nb {
				return fmt.Errorf("band %d selected, but the input has %d bands", b, nb)
			}
			sw = append(sw, "-b", strconv.Itoa(b))
		}
		sel, err := src.Translate(dst+".bands.vrt", sw, errs)
		if err != nil {
			return fmt.Errorf("select bands: %w", err)
		}
		chain = append(chain, sel)
		src = sel
	}
	target := st.TargetCRS
	rpc := false
	if _, gterr := src.GeoTransform(godal.ErrLogger(Errors(nil))); gterr != nil && target == "" {
		gcps := src.GCPs()
		switch {
		case len(gcps) > 0 && len(gcps) < 3:
			// Too few points to warp by, but enough for GDAL's north-up
			// fit: assign it, and no pixel is resampled.
			gt, err := godal.GCPsToGeoTransform(gcps)
			if err != nil {
				return fmt.Errorf("geotransform from %d GCPs: %w", len(gcps), err)
			}
			sr := src.GCPSpatialRef()
			if sr == nil {
				return errors.New("the input has GCPs without a coordinate reference system")
			}
			fit, err := src.Translate(dst+".georef.vrt", []string{"-of", "VRT"}, errs)
			if err != nil {
				sr.Close()
				return err
			}
			chain = append(chain, fit)
			err = fit.SetGeoTransform(gt, errs)
			if err == nil {
				err = fit.SetSpatialRef(sr, errs)
			}
			sr.Close()
			if err != nil {
				return fmt.Errorf("georeference from GCPs: %w", err)
			}
			src = fit
		case len(gcps) > 0:
			sr := src.GCPSpatialRef()
			if sr == nil {
				return errors.New("the input has GCPs without a coordinate reference system")
			}
			target = CRSName(sr)
			sr.Close()
		case len(src.Metadatas(godal.Domain("RPC"))) > 0:
			target, rpc = "EPSG:4326", true
		default:
			return errors.New("the input is not georeferenced (no geotransform, GCPs or RPCs)")
		}
	}
	if target != "" {
		r := st.Resampling
		if r == "" {
			r = "bilinear"
		}
		sw := []string{"-of", "VRT", "-t_srs", target, "-r", r}
		if rpc {
			sw = append(sw, "-rpc")
		}
		if st.NoData != nil {
			sw = append(sw, "-dstnodata", strconv.FormatFloat(*st.NoData, 'g', -1, 64))
		} else if !hasNoData(src) {
			// Warping leaves corners without data: mark them with alpha.
			sw = append(sw, "-dstalpha")
		}
		warped, err := godal.Warp(dst+".warp.vrt", []*godal.Dataset{src}, sw, errs)
		if err != nil {
			return fmt.Errorf("warp to %s: %w", target, err)
		}
		chain = append(chain, warped)
		src = warped
	}
	sw := o.Switches()
	if nbits := src.Bands()[0].Metadata("NBITS", godal.Domain("IMAGE_STRUCTURE")); nbits != "" && nbits != "8" && nbits != "16" && nbits != "32" && nbits != "64" {
		// Packed samples (e.g. 10-bit JPEG2000) take no predictor.
		for i, v := range sw {
			if v == "PREDICTOR=YES" {
				sw[i] = "PREDICTOR=NO"
			}
		}
	}
	if st.NoData != nil {
		sw = append(sw, "-a_nodata", strconv.FormatFloat(*st.NoData, 'g', -1, 64))
	}
	if st.Scale != nil {
		sw = append(sw, "-a_scale", strconv.FormatFloat(*st.Scale, 'g', -1, 64))
	}
	if st.Offset != nil {
		sw = append(sw, "-a_offset", strconv.FormatFloat(*st.Offset, 'g', -1, 64))
	}
	out, err := src.Translate(dst, sw, errs)
	if err != nil {
		return fmt.Errorf("gdal: %w", err)
	}
	if err := out.Close(errs); err != nil {
		return fmt.Errorf("write COG %s: %w", dst, err)
	}
	return nil
}

func hasNoData(ds *godal.Dataset) bool {
	bands := ds.Bands()
	if len(bands) == 0 {
		return false
	}
	if _, ok := bands[0].NoData(); ok {
		return true
	}
	return bands[len(bands)-1].ColorInterp() == godal.CIAlpha
}
