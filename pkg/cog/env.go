package cog

import (
	"slices"
	"strings"
)

// childKeep are the variables a conversion child takes from its parent:
// what the Go runtime, the C library, GDAL and PROJ need to run.
var childKeep = []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL", "LD_LIBRARY_PATH",
	"GOMAXPROCS", "GOMEMLIMIT", "GOTRACEBACK", "GODEBUG"}

// childKeepPrefixes are the families of GDAL and PROJ settings it takes,
// except those below.
var childKeepPrefixes = []string{"GDAL_", "CPL_", "PROJ_", "OGR_"}

// childDropPrefixes are GDAL's network settings (proxy and HTTP
// credentials among them): the child has no network to use them on.
var childDropPrefixes = []string{"GDAL_HTTP_", "CPL_VSIL_CURL_", "GDAL_SKIP"}

// childIsolation refuses the child network access: NoNetwork for every
// /vsicurl/-based file system, no web-service or indirection driver
// registered at all (GDAL_SKIP is read when drivers are registered, so
// not even a file that an allowed driver opens in turn reaches them), no
// PROJ grid downloads, no directory listing of the package (every
// sidecar file would be looked for). VRT is the one indirection driver
// left: the conversion builds VRTs, and Check keeps package VRTs out.
func childIsolation() []string {
	var skip []string
	for _, d := range NeverDrivers {
		// GDAL warns of each name it does not have, on stderr, which is
		// where the child's reasons go.
		if d != "VRT" && registered(d) {
			skip = append(skip, d)
		}
	}
	return append(slices.Clone(NoNetwork),
		"GDAL_SKIP="+strings.Join(skip, " "),
		"PROJ_NETWORK=OFF",
		"GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR",
	)
}

// ChildEnv returns the environment of a conversion child: from parent only
// what childKeep and childKeepPrefixes name, then the isolation settings,
// then extra. The inputs are local files in the package, so the child has
// no use for the S3 (or any other) credentials the parent holds, and a
// conversion that GDAL is tricked into making cannot use them.
func ChildEnv(parent, extra []string) []string {
	var env []string
	for _, kv := range parent {
		name, _, _ := strings.Cut(kv, "=")
		if keepForChild(name) {
			env = append(env, kv)
		}
	}
	env = append(env, childIsolation()...)
	return append(env, extra...)
}

func keepForChild(name string) bool {
	for _, p := range childDropPrefixes {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	if slices.Contains(childKeep, name) {
		return true
	}
	for _, p := range childKeepPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
