package cog

/*
#cgo pkg-config: gdal
#include <stdlib.h>
#include <string.h>
#include <gdal.h>
#include <cpl_error.h>
#include <cpl_string.h>

typedef struct {
	char driver[64];
	int width, height, bands;
	char **files;
	char *err;
} pvsHeader;

// pvsReadHeader opens name with only the allowed drivers, as godal.Open
// does (siblings: the file alone, so no sidecar is looked for), and copies
// what the header says. The error handler is pushed and the message read in
// the same call because both are per thread.
static void pvsReadHeader(const char *name, char **drivers, char **siblings, pvsHeader *h) {
	CPLPushErrorHandler(CPLQuietErrorHandler);
	CPLErrorReset();
	GDALDatasetH ds = GDALOpenEx(name, GDAL_OF_RASTER | GDAL_OF_READONLY,
		(const char *const *)drivers, NULL, (const char *const *)siblings);
	if (ds == NULL) {
		h->err = CPLStrdup(CPLGetLastErrorMsg());
		CPLPopErrorHandler();
		return;
	}
	GDALDriverH d = GDALGetDatasetDriver(ds);
	if (d != NULL) {
		strncpy(h->driver, GDALGetDriverShortName(d), sizeof(h->driver) - 1);
	}
	h->width = GDALGetRasterXSize(ds);
	h->height = GDALGetRasterYSize(ds);
	h->bands = GDALGetRasterCount(ds);
	h->files = GDALGetFileList(ds);
	GDALClose(ds);
	CPLPopErrorHandler();
}

// pvsIdentify names the first of the candidate drivers that recognises
// name, without opening it.
static const char *pvsIdentify(const char *name, char **candidates) {
	CPLPushErrorHandler(CPLQuietErrorHandler);
	GDALDriverH d = GDALIdentifyDriverEx(name, GDAL_OF_RASTER, (const char *const *)candidates, NULL);
	CPLPopErrorHandler();
	return d == NULL ? NULL : GDALGetDriverShortName(d);
}

static int pvsHasDriver(const char *name) {
	return GDALGetDriverByName(name) != NULL;
}
*/
import "C"

import (
	"errors"
	"path/filepath"
	"unsafe"
)

// header is what a raster's header says, read without reading a pixel.
type header struct {
	Driver        string
	Width, Height int
	Bands         int
	// Files are every file GDAL reads for the dataset (a DIMAP header and
	// its image, a VRT and its sources, ...).
	Files []string
}

// readHeader opens path with only the named drivers.
func readHeader(path string, drivers []string) (header, error) {
	Init()
	cname := C.CString(path)
	defer C.free(unsafe.Pointer(cname))
	cdrivers := cStrings(drivers)
	defer freeCStrings(cdrivers)
	siblings := cStrings([]string{filepath.Base(path)})
	defer freeCStrings(siblings)
	var h C.pvsHeader
	C.pvsReadHeader(cname, &cdrivers[0], &siblings[0], &h)
	if h.err != nil {
		msg := C.GoString(h.err)
		C.CPLFree(unsafe.Pointer(h.err))
		if msg == "" {
			msg = "no allowed GDAL driver recognises it"
		}
		return header{}, errors.New(msg)
	}
	out := header{Driver: C.GoString(&h.driver[0]), Width: int(h.width), Height: int(h.height), Bands: int(h.bands)}
	if h.files != nil {
		n := int(C.CSLCount(h.files))
		for _, p := range unsafe.Slice(h.files, n) {
			out.Files = append(out.Files, C.GoString(p))
		}
		C.CSLDestroy(h.files)
	}
	return out, nil
}

// identify names the first of candidates that recognises path, or "".
// Only the drivers' Identify runs (their Open, for the few without one):
// nothing is fetched or followed.
func identify(path string, candidates []string) string {
	Init()
	cname := C.CString(path)
	defer C.free(unsafe.Pointer(cname))
	cc := cStrings(candidates)
	defer freeCStrings(cc)
	if d := C.pvsIdentify(cname, &cc[0]); d != nil {
		return C.GoString(d)
	}
	return ""
}

// cStrings returns a NULL-terminated C string list.
func cStrings(s []string) []*C.char {
	out := make([]*C.char, len(s)+1)
	for i, v := range s {
		out[i] = C.CString(v)
	}
	return out
}

func freeCStrings(l []*C.char) {
	for _, p := range l {
		if p != nil {
			C.free(unsafe.Pointer(p))
		}
	}
}

// registered reports whether GDAL has the driver.
func registered(driver string) bool {
	Init()
	cname := C.CString(driver)
	defer C.free(unsafe.Pointer(cname))
	return C.pvsHasDriver(cname) != 0
}
