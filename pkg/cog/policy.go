package cog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrRefused reports an input that a conversion will not read: a driver
// that is not allowed, a file outside the package, a raster past the caps.
// It is the input's fault, so retrying cannot help.
var ErrRefused = errors.New("refused")

// DefaultDrivers open inputs when an InputPolicy names none: the plain
// raster formats of EO packages. COGs are read by GTiff.
var DefaultDrivers = []string{"GTiff", "JP2OpenJPEG"}

// NeverDrivers are refused for package content even when a policy lists
// them. Each makes GDAL read what the file names rather than the file: a
// VRT reads any local path (raw bytes of /etc/passwd as pixels) or
// /vsicurl/ URL, the others fetch from web services; what they read would
// then be served by WCS as the product's pixels.
var NeverDrivers = []string{"VRT", "DERIVED", "GTI", "WMS", "WMTS", "WCS", "HTTP", "DAAS", "EEDAI", "PLMOSAIC",
	"PLSCENES", "OGCAPI", "STACTA", "STACIT", "NGW", "ESRIC", "MBTiles", "Rasterlite"}

// scannedDrivers are looked for in every file of a package: a header that
// an allowed driver opens may name any file of the package, and GDAL opens
// what a header names with every driver it has.
var scannedDrivers = []string{"VRT", "WMS", "WMTS", "WCS"}

// namedDrivers are identified, besides the allowed and never drivers, only
// to name what a refused input is.
var namedDrivers = []string{"GTiff", "JP2OpenJPEG", "PNG", "JPEG", "GIF", "BMP", "netCDF", "HDF5", "HDF4", "Zarr", "SAFE", "DIMAP", "SENTINEL2"}

// InputPolicy says which rasters a conversion may read. Package content is
// untrusted: its file names say nothing of what GDAL will make of them.
type InputPolicy struct {
	// Drivers are the GDAL drivers allowed to open an input (short names,
	// as gdalinfo --formats lists them); empty: DefaultDrivers.
	// NeverDrivers are dropped from it.
	Drivers []string `json:"drivers,omitempty"`
	// Root, when set, is the directory every file GDAL reads for an input
	// must lie in (a DIMAP header names its image; that must be in the
	// package too).
	Root string `json:"root,omitempty"`
	// MaxSide caps the width and the height, MaxSamples width × height ×
	// bands, of each input and of the COG; zero: no cap.
	MaxSide    int   `json:"max_side,omitempty"`
	MaxSamples int64 `json:"max_samples,omitempty"`
}

// drivers returns the allowed drivers.
func (p InputPolicy) drivers() []string {
	d := p.Drivers
	if len(d) == 0 {
		d = DefaultDrivers
	}
	var out []string
	for _, name := range d {
		if !slices.Contains(NeverDrivers, name) {
			out = append(out, name)
		}
	}
	return out
}

// Check reads the header of the input at path and refuses it unless an
// allowed driver opens it, every file it reads is under Root and it is
// within the caps. No pixel is read.
func (p InputPolicy) Check(path string) error {
	allowed := p.drivers()
	name := filepath.Base(path)
	if drv := identify(path, allowed); referenceElements[drv] != nil {
		if err := checkReferences(path, drv); err != nil {
			return err
		}
	}
	h, err := readHeader(path, allowed)
	if err != nil {
		return p.explain(path, allowed, err)
	}
	if !slices.Contains(allowed, h.Driver) {
		return fmt.Errorf("%w: %s is read by GDAL driver %s, which is not allowed (allowed: %s)", ErrRefused, name, h.Driver, strings.Join(allowed, ", "))
	}
	if err := p.confined(name, h.Files); err != nil {
		return err
	}
	return p.CheckSize(name, h.Width, h.Height, h.Bands)
}

// CheckPackage refuses a package (the files under Root) that holds a VRT
// or web-service description under any name: whatever the inputs are, a
// header among them could name it. Only the drivers' Identify runs.
func (p InputPolicy) CheckPackage() error {
	if p.Root == "" {
		return nil
	}
	var candidates []string
	for _, d := range scannedDrivers {
		if registered(d) {
			candidates = append(candidates, d)
		}
	}
	return filepath.WalkDir(p.Root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		drv := identify(path, candidates)
		if drv == "" {
			drv = sniff(path)
		}
		if drv != "" {
			rel, _ := filepath.Rel(p.Root, path)
			return fmt.Errorf("%w: package file %s is a %s dataset (GDAL driver %s), which makes GDAL read other files or URLs; packages may not hold one",
				ErrRefused, rel, drv, drv)
		}
		return nil
	})
}

// sniff names the scanned formats by their first bytes, as their drivers'
// Identify does, where GDAL cannot: the conversion child has none but VRT
// registered. It serves the reasons; GDAL_SKIP is what keeps them shut.
func sniff(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	head := make([]byte, 1024)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	for _, s := range []struct{ marker, driver string }{
		{"<VRTDataset", "VRT"}, {"<GDAL_WMS", "WMS"}, {"<GDAL_WMTS", "WMTS"}, {"<WCS_GDAL", "WCS"},
	} {
		if bytes.Contains(head, []byte(s.marker)) {
			return s.driver
		}
	}
	return ""
}

// explain turns the failure of the allowed drivers into a reason: what the
// file is when another driver recognises it, else GDAL's own message.
func (p InputPolicy) explain(path string, allowed []string, openErr error) error {
	name := filepath.Base(path)
	candidates := slices.Concat(allowed, NeverDrivers, namedDrivers)
	drv := identify(path, candidates)
	if drv == "" {
		drv = sniff(path)
	}
	switch {
	case slices.Contains(NeverDrivers, drv):
		return fmt.Errorf("%w: %s is a %s dataset (GDAL driver %s), which makes GDAL read other files or URLs; packages may not hold one (allowed: %s)",
			ErrRefused, name, drv, drv, strings.Join(allowed, ", "))
	case drv != "" && !slices.Contains(allowed, drv):
		return fmt.Errorf("%w: %s is read by GDAL driver %s, which is not allowed for this product type (allowed: %s)",
			ErrRefused, name, drv, strings.Join(allowed, ", "))
	}
	return fmt.Errorf("open %s: %w", name, openErr)
}

// confined refuses files outside Root, and any that GDAL would fetch.
// Links are followed: what counts is the file read.
func (p InputPolicy) confined(name string, files []string) error {
	if p.Root == "" {
		return nil
	}
	root, err := resolve(p.Root)
	if err != nil {
		return err
	}
	for _, f := range files {
		if strings.HasPrefix(f, "/vsi") {
			return fmt.Errorf("%w: %s makes GDAL read %s, outside the package", ErrRefused, name, f)
		}
		abs, err := resolve(f)
		if err != nil {
			return err
		}
		if rel, err := filepath.Rel(root, abs); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return fmt.Errorf("%w: %s makes GDAL read %s, outside the package", ErrRefused, name, f)
		}
	}
	return nil
}

// CheckSize refuses a raster past MaxSide or MaxSamples. The reasons name
// the settings, the operator's only way to let a genuine product through.
func (p InputPolicy) CheckSize(name string, width, height, bands int) error {
	if p.MaxSide > 0 && (width > p.MaxSide || height > p.MaxSide) {
		return fmt.Errorf("%w: %s is %d x %d pixels; the largest side allowed is %d (preprocessor.limits.raster_side)",
			ErrRefused, name, width, height, p.MaxSide)
	}
	// In float64: the three int32s of a hostile header overflow int64.
	if n := float64(width) * float64(height) * float64(bands); p.MaxSamples > 0 && n > float64(p.MaxSamples) {
		return fmt.Errorf("%w: %s is %d x %d pixels x %d bands = %.0f samples; at most %d are allowed (preprocessor.limits.raster_samples)",
			ErrRefused, name, width, height, bands, n, p.MaxSamples)
	}
	return nil
}

// resolve returns the absolute path of p with links followed; a path that
// does not exist (yet) is only made absolute.
func resolve(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r, nil
	}
	return abs, nil
}
