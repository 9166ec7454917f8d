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

// NoNetwork are GDAL configuration options that refuse every network
// access while package content is converted: every /vsicurl/-based file
// system (/vsis3/, /vsigs/, /vsiaz/, ...) opens only this one impossible
// name. The driver allow-list is the primary guard; this one catches a URL
// that a file an allowed driver reads might still name. The conversion
// child also has them in its environment.
var NoNetwork = []string{"CPL_VSIL_CURL_ALLOWED_FILENAME=/pvs/network-access-refused"}

// gdalOption is what the calls of a conversion all take: GDAL messages as
// errors, NoNetwork.
type gdalOption interface {
	godal.OpenOption
	godal.BuildVRTOption
	godal.DatasetTranslateOption
	godal.DatasetWarpOption
}

// Convert writes the COG dst from inputs: one raster, or several
// single-band rasters stacked in order. The package and each input are
// checked against in before any pixel is read, and the COG against its
// size caps before it is written. Intermediate steps are VRTs next to dst
// (stream, no full-size copy).
func Convert(inputs []string, dst string, st Steps, o Options, in InputPolicy, log *slog.Logger) error {
	Init()
	if len(inputs) == 0 {
		return errors.New("no input raster")
	}
	if err := in.CheckPackage(); err != nil {
		return err
	}
	for _, path := range inputs {
		if err := in.Check(path); err != nil {
			return err
		}
	}
	c := &chain{dst: dst, errs: godal.ErrLogger(Errors(log)), cfg: godal.ConfigOption(NoNetwork...)}
	defer c.close()
	if err := c.open(inputs, in); err != nil {
		return err
	}
	if err := c.selectBands(st.Bands); err != nil {
		return err
	}
	if err := c.georeference(st); err != nil {
		return err
	}
	// Warping decides the output size; a hostile georeferencing can make
	// it far larger than the input.
	size := c.src.Structure()
	if err := in.CheckSize("the COG", size.SizeX, size.SizeY, size.NBands); err != nil {
		return err
	}
	return c.write(st, o)
}

// chain is the sequence of datasets of a conversion, each a VRT over the
// one before: all stay open until the COG is written.
type chain struct {
	dst  string // the COG; intermediate VRTs are named after it
	sets []*godal.Dataset
	src  *godal.Dataset // the last of sets
	errs interface {
		gdalOption
		godal.GetGeoTransformOption
		godal.SetGeoTransformOption
		godal.SetSpatialRefOption
		godal.CloseOption
	}
	cfg gdalOption
}

func (c *chain) push(ds *godal.Dataset) {
	c.sets = append(c.sets, ds)
	c.src = ds
}

func (c *chain) close() {
	for i := len(c.sets) - 1; i >= 0; i-- {
		c.sets[i].Close()
	}
}

// open opens the input, or stacks the band files. BuildVRT opens the band
// files again without a driver list; each was checked to open with an
// allowed driver, and none of the formats allowed can also pass for a VRT
// (their first bytes are binary).
func (c *chain) open(inputs []string, in InputPolicy) error {
	if len(inputs) > 1 {
		ds, err := godal.BuildVRT(c.dst+".stack.vrt", inputs, []string{"-separate"}, c.errs, c.cfg)
		if err != nil {
			return fmt.Errorf("stack %d band files: %w", len(inputs), err)
		}
		c.push(ds)
		return nil
	}
	ds, err := godal.Open(inputs[0], godal.RasterOnly(), godal.Drivers(in.drivers()...), c.errs, c.cfg)
	if err != nil {
		return fmt.Errorf("open %s: %w", inputs[0], err)
	}
	c.push(ds)
	return nil
}

// selectBands selects and orders bands (1-based).
func (c *chain) selectBands(bands []int) error {
	if len(bands) == 0 {
		return nil
	}
	nb := len(c.src.Bands())
	sw := []string{"-of", "VRT"}
	for _, b := range bands {
		if b < 1 || b > nb {
			return fmt.Errorf("band %d selected, but the input has %d bands", b, nb)
		}
		sw = append(sw, "-b", strconv.Itoa(b))
	}
	sel, err := c.src.Translate(c.dst+".bands.vrt", sw, c.errs, c.cfg)
	if err != nil {
		return fmt.Errorf("select bands: %w", err)
	}
	c.push(sel)
	return nil
}

// georeference warps to st.TargetCRS, or makes a raster georeferenced only
// by GCPs or RPCs north-up.
func (c *chain) georeference(st Steps) error {
	target := st.TargetCRS
	rpc := false
	if _, gterr := c.src.GeoTransform(godal.ErrLogger(Errors(nil))); gterr != nil && target == "" {
		gcps := c.src.GCPs()
		switch {
		case len(gcps) > 0 && len(gcps) < 3:
			// Too few points to warp by, but enough for GDAL's north-up
			// fit: assign it, and no pixel is resampled.
			return c.fitGCPs(gcps)
		case len(gcps) > 0:
			sr := c.src.GCPSpatialRef()
			if sr == nil {
				return errors.New("the input has GCPs without a coordinate reference system")
			}
			target = CRSName(sr)
			sr.Close()
		case len(c.src.Metadatas(godal.Domain("RPC"))) > 0:
			target, rpc = "EPSG:4326", true
		default:
			return errors.New("the input is not georeferenced (no geotransform, GCPs or RPCs)")
		}
	}
	if target == "" {
		return nil
	}
	return c.warp(target, rpc, st)
}

func (c *chain) fitGCPs(gcps []godal.GCP) error {
	gt, err := godal.GCPsToGeoTransform(gcps)
	if err != nil {
		return fmt.Errorf("geotransform from %d GCPs: %w", len(gcps), err)
	}
	sr := c.src.GCPSpatialRef()
	if sr == nil {
		return errors.New("the input has GCPs without a coordinate reference system")
	}
	defer sr.Close()
	fit, err := c.src.Translate(c.dst+".georef.vrt", []string{"-of", "VRT"}, c.errs, c.cfg)
	if err != nil {
		return err
	}
	c.push(fit)
	err = fit.SetGeoTransform(gt, c.errs)
	if err == nil {
		err = fit.SetSpatialRef(sr, c.errs)
	}
	if err != nil {
		return fmt.Errorf("georeference from GCPs: %w", err)
	}
	return nil
}

func (c *chain) warp(target string, rpc bool, st Steps) error {
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
	} else if !hasNoData(c.src) {
		// Warping leaves corners without data: mark them with alpha.
		sw = append(sw, "-dstalpha")
	}
	warped, err := godal.Warp(c.dst+".warp.vrt", []*godal.Dataset{c.src}, sw, c.errs, c.cfg)
	if err != nil {
		return fmt.Errorf("warp to %s: %w", target, err)
	}
	c.push(warped)
	return nil
}

// write translates the end of the chain to the COG.
func (c *chain) write(st Steps, o Options) error {
	sw := o.Switches()
	if nbits := c.src.Bands()[0].Metadata("NBITS", godal.Domain("IMAGE_STRUCTURE")); nbits != "" && nbits != "8" && nbits != "16" && nbits != "32" && nbits != "64" {
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
	out, err := c.src.Translate(c.dst, sw, c.errs, c.cfg)
	if err != nil {
		return fmt.Errorf("gdal: %w", err)
	}
	if err := out.Close(c.errs); err != nil {
		return fmt.Errorf("write COG %s: %w", c.dst, err)
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
