package crs

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// CRS is a coordinate reference system the renderer draws in.
type CRS struct {
	Code int // EPSG code; CRS:84 is 4326 with lon/lat order
	// LatLon reports that the CRS's official axis order is latitude first
	// (EPSG:4326 in WMS 1.3.0).
	LatLon bool
}

// String returns the CRS as EPSG:n.
func (c CRS) String() string { return "EPSG:" + strconv.Itoa(c.Code) }

// Parse accepts EPSG:n, CRS:84, and the OGC URN and URL forms of EPSG.
func Parse(s string) (CRS, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	switch u {
	case "CRS:84", "OGC:CRS84", "URN:OGC:DEF:CRS:OGC:1.3:CRS84", "HTTP://WWW.OPENGIS.NET/DEF/CRS/OGC/1.3/CRS84":
		return CRS{Code: 4326}, nil
	}
	var num string
	switch {
	case strings.HasPrefix(u, "EPSG:"):
		num = u[5:]
	case strings.HasPrefix(u, "URN:OGC:DEF:CRS:EPSG:"):
		num = u[strings.LastIndex(u, ":")+1:]
	case strings.HasPrefix(u, "HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/"):
		num = u[strings.LastIndex(u, "/")+1:]
	default:
		return CRS{}, fmt.Errorf("unsupported CRS %q", s)
	}
	code, err := strconv.Atoi(num)
	if err != nil || code <= 0 {
		return CRS{}, fmt.Errorf("unsupported CRS %q", s)
	}
	if !Supported(code) {
		return CRS{}, fmt.Errorf("unsupported CRS %q", s)
	}
	return CRS{Code: code, LatLon: code == 4326}, nil
}

// Supported reports whether the renderer serves the EPSG code: WGS 84,
// Web Mercator and the WGS 84 UTM zones.
func Supported(code int) bool {
	return code == 4326 || code == 3857 || (code >= 32601 && code <= 32660) || (code >= 32701 && code <= 32760)
}

// SupportedCodes lists the codes for capabilities documents.
func SupportedCodes() []string {
	out := []string{"EPSG:4326", "CRS:84", "EPSG:3857"}
	for z := 1; z <= 60; z++ {
		out = append(out, fmt.Sprintf("EPSG:%d", 32600+z))
	}
	for z := 1; z <= 60; z++ {
		out = append(out, fmt.Sprintf("EPSG:%d", 32700+z))
	}
	return out
}

// ParseBBox reads "minx,miny,maxx,maxy": four finite numbers with each
// minimum below its maximum.
func ParseBBox(s string) ([4]float64, error) {
	var b [4]float64
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return b, fmt.Errorf("bbox must be four comma-separated numbers, got %q", s)
	}
	for i, part := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return b, fmt.Errorf("bbox value %q is not a finite number", part)
		}
		b[i] = v
	}
	if b[0] >= b[2] || b[1] >= b[3] {
		return b, fmt.Errorf("bbox %q has min >= max", s)
	}
	return b, nil
}
