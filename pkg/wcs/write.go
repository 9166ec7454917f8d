package wcs

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/cog"
)

// write cuts the window with GDAL into a temporary GeoTIFF and streams it.
func (h *Handler) write(w http.ResponseWriter, ci coverageInfo, c cut) error {
	dir, err := os.MkdirTemp(h.TempDir, "wcs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "out.tif")
	if err := h.cutFile(name, ci, c); err != nil {
		return err
	}
	return h.stream(w, name, ci.ID)
}

// cutFile writes the cut of the coverage to a GeoTIFF named name: a
// translate when the output CRS is the coverage's own, else a translate to
// a VRT then a warp.
func (h *Handler) cutFile(name string, ci coverageInfo, c cut) error {
	logger := godal.ErrLogger(cog.Errors(h.Log))
	src, err := cog.Open(h.Backend.GDALPath(ci.Cov.Location), godal.RasterOnly(), logger)
	if err != nil {
		return fmt.Errorf("open %s: %w", ci.Cov.Location, err)
	}
	defer src.Close()
	creation := []string{"-co", "TILED=YES", "-co", "COMPRESS=DEFLATE", "-co", "BIGTIFF=IF_SAFER"}
	switches := []string{"-srcwin", strconv.Itoa(c.win.X), strconv.Itoa(c.win.Y), strconv.Itoa(c.win.W), strconv.Itoa(c.win.H),
		"-outsize", strconv.Itoa(c.width), strconv.Itoa(c.height), "-r", c.resampling}
	for _, b := range c.bands {
		switches = append(switches, "-b", strconv.Itoa(b))
	}
	if c.outCode == ci.EPSG {
		out, err := src.Translate(name, append(append(switches, "-of", "GTiff"), creation...), logger)
		if err != nil {
			return fmt.Errorf("translate: %w", err)
		}
		return out.Close()
	}
	vrt, err := src.Translate("", append(switches, "-of", "VRT"), logger)
	if err != nil {
		return fmt.Errorf("translate: %w", err)
	}
	defer vrt.Close()
	ws := append([]string{"-of", "GTiff", "-t_srs", "EPSG:" + strconv.Itoa(c.outCode), "-r", c.resampling}, creation...)
	out, err := vrt.Warp(name, ws, logger)
	if err != nil {
		return errorf(CodeOutputCRSNotSupported, "outputcrs", http.StatusBadRequest, "the coverage cannot be warped to EPSG:%d: %v", c.outCode, err)
	}
	return out.Close()
}

// stream sends the GeoTIFF named name as the response. Once the headers
// are out, a failure can no longer become an exception report; it is
// logged and the client sees a short body.
func (h *Handler) stream(w http.ResponseWriter, name, id string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/tiff")
	w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s.tif"`, url.PathEscape(id)))
	if _, err := io.Copy(w, f); err != nil {
		h.Log.Warn("wcs: sending coverage", "coverage", id, "err", err)
	}
	return nil
}
