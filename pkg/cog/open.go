package cog

/*
#cgo pkg-config: gdal
#include <stdlib.h>
#include <cpl_vsi.h>
*/
import "C"

import (
	"strings"
	"unsafe"

	"github.com/airbusgeo/godal"
)

// Open opens a raster for reading. On an object-store path (/vsis3/ and
// the other network file systems) a failure is tried once more after GDAL
// forgets what it cached about the path: GDAL remembers "does not exist"
// from a lookup made while the store was down, and would refuse the
// product until the process restarts.
func Open(path string, opts ...godal.OpenOption) (*godal.Dataset, error) {
	ds, err := godal.Open(path, opts...)
	if err == nil || !networkPath(path) {
		return ds, err
	}
	ForgetCached(path)
	if ds, err2 := godal.Open(path, opts...); err2 == nil {
		return ds, nil
	}
	return nil, err
}

// ForgetCached drops GDAL's cached knowledge (existence, size, blocks) of
// the network files under prefix.
func ForgetCached(prefix string) {
	cs := C.CString(prefix)
	defer C.free(unsafe.Pointer(cs))
	C.VSICurlPartialClearCache(cs)
}

func networkPath(p string) bool {
	for _, fs := range []string{"/vsis3/", "/vsicurl/", "/vsigs/", "/vsiaz/", "/vsiadls/", "/vsioss/", "/vsiswift/"} {
		if strings.HasPrefix(p, fs) {
			return true
		}
	}
	return false
}
