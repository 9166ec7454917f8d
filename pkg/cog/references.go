package cog

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Header drivers open an XML product header that names the image files;
// GDAL opens those with every driver, while the header is being opened.
// referenceElements are, per driver, the elements that name them: a href
// attribute (DIMAP's DATA_FILE_PATH) or the element's text (Sentinel-2's
// IMAGE_FILE, a path without extension).
var referenceElements = map[string][]string{
	"DIMAP":     {"DATA_FILE_PATH"},
	"SENTINEL2": {"IMAGE_FILE", "IMAGE_FILE_2A"},
}

// maxHeaderBytes bounds the product headers scanned for references: real
// ones are well under 1 MiB.
const maxHeaderBytes = 16 << 20

// checkReferences refuses a product header that names a file outside its
// own directory tree before GDAL opens it: the file list checked after
// opening comes too late to keep GDAL from opening what the header names
// (a FIFO that blocks, a device, another product's raster).
func checkReferences(p, driver string) error {
	elems := referenceElements[driver]
	if len(elems) == 0 {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := xml.NewDecoder(io.LimitReader(f, maxHeaderBytes))
	// A header is read by GDAL, whatever its encoding declaration says;
	// only the names matter here.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	name := filepath.Base(p)
	var inRef bool
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %s is not a readable %s header: %v", ErrRefused, name, driver, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			inRef = slices.Contains(elems, t.Name.Local)
			for _, a := range t.Attr {
				if inRef && a.Name.Local == "href" {
					if err := relativeInside(name, a.Value); err != nil {
						return err
					}
				}
			}
		case xml.CharData:
			if ref := strings.TrimSpace(string(t)); inRef && ref != "" {
				if err := relativeInside(name, ref); err != nil {
					return err
				}
			}
		case xml.EndElement:
			inRef = false
		}
	}
}

// relativeInside refuses a reference that is absolute, climbs out of the
// header's directory, or names a virtual file system or a URL.
func relativeInside(header, ref string) error {
	r := strings.ReplaceAll(ref, "\\", "/")
	clean := path.Clean(r)
	if path.IsAbs(r) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(r, ":") {
		return fmt.Errorf("%w: %s names %q, outside the package", ErrRefused, header, ref)
	}
	return nil
}
