package metadata

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func parseFile(t *testing.T, name string) Product {
	t.Helper()
	f, err := os.Open("../../testdata/metadata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := ParseXML(f)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return p
}

func TestEOPMERIS(t *testing.T) {
	p := parseFile(t, "meris_eop20.xml")
	if p.Identifier != "mosaic_MER_FRS_1PNPDE20060816_090929_000001972050_00222_23322_0058_RGB_reduced" {
		t.Errorf("identifier = %q", p.Identifier)
	}
	if want := time.Date(2006, 8, 16, 9, 9, 29, 0, time.UTC); !p.BeginTime.Equal(want) {
		t.Errorf("begin = %s", p.BeginTime)
	}
	if want := time.Date(2006, 8, 16, 9, 12, 46, 0, time.UTC); !p.EndTime.Equal(want) {
		t.Errorf("end = %s", p.EndTime)
	}
	if len(p.Footprint) != 1 || len(p.Footprint[0]) != 1 {
		t.Fatalf("footprint = %d polygons", len(p.Footprint))
	}
	ring := p.Footprint[0][0]
	// The posList is lat lon; the footprint is lon/lat.
	if first := ring[0]; first != [2]float64{14.322575965570632, 46.216558117161831} {
		t.Errorf("first point = %v, want lon/lat", first)
	}
	if ring[0] != ring[len(ring)-1] {
		t.Error("ring not closed")
	}
	if p.Properties["platform"] != "ENVISAT" || p.Properties["instrument"] != "MERIS" {
		t.Errorf("properties = %v", p.Properties)
	}
	if err := p.Validate(); err != nil {
		t.Error(err)
	}
}

func TestEOPOpticalExample(t *testing.T) {
	p := parseFile(t, "eop20_opt_example.xml")
	if p.Identifier != "DS_PHR1A_20010822110247_TLS_PX_E123N45_0101_01234" {
		t.Errorf("identifier = %q", p.Identifier)
	}
	if p.Properties["cloudCover"] != "30" {
		t.Errorf("cloud cover = %q", p.Properties["cloudCover"])
	}
	if got := p.Footprint[0][0][0]; got != [2]float64{43.516667, 2.1025} {
		t.Errorf("first point = %v", got)
	}
}

func TestGSCRoundTrip(t *testing.T) {
	in := Product{
		Identifier: "P1 & <co>", Collection: "VHR_IMAGE_2018", ProductType: "VHR_OPTICAL",
		BeginTime: time.Date(2018, 6, 15, 15, 20, 0, 0, time.UTC), EndTime: time.Date(2018, 6, 15, 15, 20, 30, 500e6, time.UTC),
		Footprint:  [][][][2]float64{{{{10, 40}, {11, 40}, {11, 41}, {10, 41}, {10, 40}}}},
		Properties: map[string]string{"platform": "PHR1A", "instrument": "PHR", "cloudCover": "12.5"},
	}
	var buf bytes.Buffer
	if err := WriteGSC(&buf, in); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "<gml:posList>40 10 40 11") {
		t.Errorf("GSC posList must be lat lon:\n%s", buf.String())
	}
	out, err := ParseXML(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if out.Identifier != in.Identifier || out.Collection != in.Collection || out.ProductType != in.ProductType ||
		!out.BeginTime.Equal(in.BeginTime) || !out.EndTime.Equal(in.EndTime) {
		t.Errorf("round trip: %+v", out)
	}
	if len(out.Footprint) != 1 || len(out.Footprint[0][0]) != 5 || out.Footprint[0][0][1] != [2]float64{11, 40} {
		t.Errorf("footprint: %v", out.Footprint)
	}
	for k, v := range in.Properties {
		if out.Properties[k] != v {
			t.Errorf("property %s = %q, want %q", k, out.Properties[k], v)
		}
	}
}

func TestMalformed(t *testing.T) {
	for name, doc := range map[string]string{
		"not xml":         "this is not XML",
		"truncated":       `<eop:EarthObservation xmlns:eop="http://www.opengis.net/eop/2.0"><eop:a>`,
		"external entity": `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>`,
		"entity bomb":     `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><r>&b;</r>`,
		"other document":  `<kml xmlns="http://www.opengis.net/kml/2.2"/>`,
		"bad time": `<eop:EarthObservation xmlns:eop="http://www.opengis.net/eop/2.0" xmlns:om="http://www.opengis.net/om/2.0" xmlns:gml="http://www.opengis.net/gml/3.2">
			<om:phenomenonTime><gml:TimePeriod><gml:beginPosition>yesterday</gml:beginPosition><gml:endPosition>today</gml:endPosition></gml:TimePeriod></om:phenomenonTime></eop:EarthObservation>`,
	} {
		if _, err := ParseXML(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Product{Identifier: "x", BeginTime: time.Unix(0, 0), EndTime: time.Unix(10, 0)}
	for name, mut := range map[string]func(p *Product){
		"no identifier":  func(p *Product) { p.Identifier = "" },
		"slash":          func(p *Product) { p.Identifier = "a/b" },
		"dotdot":         func(p *Product) { p.Identifier = ".." },
		"no time":        func(p *Product) { p.BeginTime = time.Time{} },
		"end before":     func(p *Product) { p.EndTime = time.Unix(-5, 0) },
		"short ring":     func(p *Product) { p.Footprint = [][][][2]float64{{{{0, 0}, {1, 1}, {0, 0}}}} },
		"lat over range": func(p *Product) { p.Footprint = [][][][2]float64{{{{0, 0}, {1, 95}, {1, 0}, {0, 0}}}} },
	} {
		p := ok
		mut(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: valid", name)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid product rejected: %v", err)
	}
}

func FuzzParseXML(f *testing.F) {
	for _, name := range []string{"meris_eop20.xml", "eop20_opt_example.xml"} {
		b, err := os.ReadFile("../../testdata/metadata/" + name)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`<gsc:report xmlns:gsc="http://earth.esa.int/gsc"><gsc:opt_metadata/></gsc:report>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := ParseXML(bytes.NewReader(doc))
		if err != nil {
			return
		}
		// Whatever parses must survive validation and a GSC round trip
		// without panicking.
		_ = p.Validate()
		var buf bytes.Buffer
		_ = WriteGSC(&buf, p)
	})
}

func TestUnwrapAntimeridian(t *testing.T) {
	p := Product{Footprint: [][][][2]float64{
		{{{179, 10}, {-179, 10}, {-179, 11}, {179, 11}, {179, 10}}}, // crosses
		{{{10, 10}, {11, 10}, {11, 11}, {10, 10}}},                  // does not
	}}
	p.UnwrapAntimeridian()
	if got := p.Footprint[0][0]; got[1] != [2]float64{181, 10} || got[0] != [2]float64{179, 10} {
		t.Errorf("crossing ring = %v", got)
	}
	if got := p.Footprint[1][0]; got[1] != [2]float64{11, 10} {
		t.Errorf("ordinary ring changed: %v", got)
	}
}

func TestSentinel2SAFE(t *testing.T) {
	p := parseFile(t, "s2_MTD_MSIL1C.xml")
	if p.Identifier != "S2B_MSIL1C_20230823T095559_N0509_R122_T34UCF_20230823T120234" {
		t.Errorf("identifier = %q", p.Identifier)
	}
	if want := time.Date(2023, 8, 23, 9, 55, 59, 24e6, time.UTC); !p.BeginTime.Equal(want) || !p.EndTime.Equal(want) {
		t.Errorf("times = %s %s", p.BeginTime, p.EndTime)
	}
	if got := p.Footprint[0][0][0]; got != [2]float64{17.87240396241576, 55.00678356187177} {
		t.Errorf("first footprint point = %v, want lon/lat", got)
	}
	if p.Properties["platform"] != "Sentinel-2B" || !strings.HasPrefix(p.Properties["cloudCover"], "3.34") {
		t.Errorf("properties = %v", p.Properties)
	}
	if err := p.Validate(); err != nil {
		t.Error(err)
	}
}

func TestSPOTDIMAP(t *testing.T) {
	p := parseFile(t, "spot_METADATA.DIM")
	if p.Identifier != "SCENE_4_048-261_5_01_11_29_10_30_38_1_M" {
		t.Errorf("identifier = %q", p.Identifier)
	}
	if want := time.Date(2001, 11, 29, 10, 30, 43, 0, time.UTC); !p.BeginTime.Equal(want) {
		t.Errorf("time = %s", p.BeginTime)
	}
	if len(p.Footprint[0][0]) != 5 || p.Footprint[0][0][0] != [2]float64{4.3641728203, 44.208225461} {
		t.Errorf("footprint = %v", p.Footprint)
	}
	if p.Properties["platform"] != "SPOT 4" || p.Properties["instrument"] != "HRVIR" {
		t.Errorf("properties = %v", p.Properties)
	}
	if err := p.Validate(); err != nil {
		t.Error(err)
	}
}

func TestExtract(t *testing.T) {
	b, _ := os.ReadFile("../../testdata/metadata/eop20_opt_example.xml")
	got, err := Extract(b, "EarthObservationMetaData/productType")
	if err != nil || len(got) != 1 || got[0] != "TBD" {
		t.Errorf("Extract = %v, %v", got, err)
	}
	b, _ = os.ReadFile("../../testdata/metadata/s2_MTD_MSIL1C.xml")
	if got, _ := Extract(b, "Level-1C_User_Product/PRODUCT_TYPE"); len(got) != 1 || got[0] != "S2MSI1C" {
		t.Errorf("Extract from the root = %v", got)
	}
	if _, err := Extract([]byte("<a>"), "a"); err == nil {
		t.Error("broken XML accepted")
	}
}
