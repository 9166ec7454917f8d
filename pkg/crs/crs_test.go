package crs

import "testing"

func TestParse(t *testing.T) {
	for in, want := range map[string]CRS{
		"EPSG:4326":                  {Code: 4326, LatLon: true},
		"epsg:3857":                  {Code: 3857},
		"CRS:84":                     {Code: 4326},
		"EPSG:32618":                 {Code: 32618},
		"EPSG:32760":                 {Code: 32760},
		"urn:ogc:def:crs:EPSG::3857": {Code: 3857},
		"http://www.opengis.net/def/crs/EPSG/0/4326": {Code: 4326, LatLon: true},
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "EPSG:", "EPSG:-1", "EPSG:2154", "EPSG:32661", "EPSG:4326 OR 1=1", "WGS84"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if n := len(SupportedCodes()); n != 123 {
		t.Errorf("%d supported codes, want 3 + 120 UTM zones", n)
	}
}

func TestParseBBox(t *testing.T) {
	if b, err := ParseBBox(" -79, 23.5,-76,26 "); err != nil || b != [4]float64{-79, 23.5, -76, 26} {
		t.Errorf("%v %v", b, err)
	}
	for _, bad := range []string{"", "1,2,3", "1,2,3,4,5", "NaN,0,1,1", "0,0,Inf,1", "a,0,1,1", "1,0,0,1", "0,1,1,1"} {
		if _, err := ParseBBox(bad); err == nil {
			t.Errorf("ParseBBox(%q) accepted", bad)
		}
	}
}
