package metadata

import (
	"strings"
	"testing"
	"time"
)

// dimapV2 is a Pleiades DIM_*.XML cut to the elements read here; parts
// replaces whole elements of it by name, so that each case says only what
// differs.
func dimapV2(parts map[string]string) string {
	el := map[string]string{
		"Dataset_Identification": `<Dataset_Identification><DATASET_NAME version="1.0">DS_PHR1A_201203161005426_FR1_PX_E007N43_0911_01307</DATASET_NAME><DATASET_TYPE>RASTER_ORTHO</DATASET_TYPE></Dataset_Identification>`,
		"Dataset_Extent": `<Dataset_Extent><EXTENT_TYPE>Polygon</EXTENT_TYPE>
			<Vertex><LON>7.0</LON><LAT>43.1</LAT><ROW>1</ROW><COL>1</COL></Vertex>
			<Vertex><LON>7.1</LON><LAT>43.1</LAT><ROW>1</ROW><COL>20</COL></Vertex>
			<Vertex><LON>7.1</LON><LAT>43.0</LAT><ROW>20</ROW><COL>20</COL></Vertex>
			<Vertex><LON>7.0</LON><LAT>43.0</LAT><ROW>20</ROW><COL>1</COL></Vertex></Dataset_Extent>`,
		"SPECTRAL_PROCESSING": `<SPECTRAL_PROCESSING>MS</SPECTRAL_PROCESSING>`,
		"Geometric_Data": `<Geometric_Data><Use_Area>
			<Located_Geometric_Values><LOCATION_TYPE>Center</LOCATION_TYPE><TIME>2012-03-16T10:05:43.1Z</TIME></Located_Geometric_Values>
			<Located_Geometric_Values><LOCATION_TYPE>Top</LOCATION_TYPE><TIME>2012-03-16T10:05:42.0Z</TIME></Located_Geometric_Values>
			<Located_Geometric_Values><LOCATION_TYPE>Bottom</LOCATION_TYPE><TIME>2012-03-16T10:05:44.2Z</TIME></Located_Geometric_Values>
			</Use_Area></Geometric_Data>`,
		"Strip_Source": `<Strip_Source><MISSION>PHR</MISSION><MISSION_INDEX>1A</MISSION_INDEX><INSTRUMENT>PHR</INSTRUMENT><INSTRUMENT_INDEX>1A</INSTRUMENT_INDEX>
			<IMAGING_DATE>2012-03-16</IMAGING_DATE><IMAGING_TIME>10:05:42.6</IMAGING_TIME><BAND_MODE>MS</BAND_MODE></Strip_Source>`,
	}
	for k, v := range parts {
		el[k] = v
	}
	return `<?xml version="1.0" encoding="UTF-8"?>
<Dimap_Document>
 <Metadata_Identification><METADATA_FORMAT version="2.0">DIMAP</METADATA_FORMAT><METADATA_PROFILE>PHR_ORTHO</METADATA_PROFILE></Metadata_Identification>
 ` + el["Dataset_Identification"] + `
 <Dataset_Content><CLOUD_COVERAGE unit="percent">3.5</CLOUD_COVERAGE>` + el["Dataset_Extent"] + `</Dataset_Content>
 <Processing_Information><Product_Settings><PROCESSING_LEVEL>ORTHO</PROCESSING_LEVEL>` + el["SPECTRAL_PROCESSING"] + `</Product_Settings></Processing_Information>
 ` + el["Geometric_Data"] + `
 <Dataset_Sources><Source_Identification><SOURCE_ID>DS_PHR1A_201203161005426_FR1_PX</SOURCE_ID>` + el["Strip_Source"] + `</Source_Identification></Dataset_Sources>
</Dimap_Document>`
}

func TestDIMAPv2(t *testing.T) {
	at := func(s string) time.Time { tm, _ := ParseTime(s); return tm }
	cases := []struct {
		name        string
		parts       map[string]string
		remove      string // text cut from the document
		id, ptype   string
		begin, end  time.Time
		platform    string
		footprint   bool
		errContains string
	}{
		{name: "Pleiades MS ortho", id: "DS_PHR1A_201203161005426_FR1_PX_E007N43_0911_01307", ptype: "PHR_MS___2A",
			begin: at("2012-03-16T10:05:42.6Z"), end: at("2012-03-16T10:05:42.6Z"), platform: "PHR", footprint: true},
		{name: "pan-sharpened variant", parts: map[string]string{"SPECTRAL_PROCESSING": "<SPECTRAL_PROCESSING>PMS-N</SPECTRAL_PROCESSING>"},
			id: "DS_PHR1A_201203161005426_FR1_PX_E007N43_0911_01307", ptype: "PHR_FUS__2A",
			begin: at("2012-03-16T10:05:42.6Z"), end: at("2012-03-16T10:05:42.6Z"), platform: "PHR", footprint: true},
		{name: "SPOT 6 panchromatic", parts: map[string]string{"SPECTRAL_PROCESSING": "<SPECTRAL_PROCESSING>P</SPECTRAL_PROCESSING>",
			"Strip_Source": "<Strip_Source><MISSION>SPOT</MISSION><MISSION_INDEX>6</MISSION_INDEX><IMAGING_DATE>2014-05-02</IMAGING_DATE><IMAGING_TIME>10:11:12.5Z</IMAGING_TIME></Strip_Source>"},
			id: "DS_PHR1A_201203161005426_FR1_PX_E007N43_0911_01307", ptype: "SPOT_PAN__2A",
			begin: at("2014-05-02T10:11:12.5Z"), end: at("2014-05-02T10:11:12.5Z"), platform: "SPOT", footprint: true},
		{name: "times from the located geometric values", parts: map[string]string{"Strip_Source": "<Strip_Source><MISSION>PHR</MISSION></Strip_Source>"},
			id: "DS_PHR1A_201203161005426_FR1_PX_E007N43_0911_01307", ptype: "PHR_MS___2A",
			begin: at("2012-03-16T10:05:42Z"), end: at("2012-03-16T10:05:44.2Z"), platform: "PHR", footprint: true},
		{name: "no dataset name: the source strip's id", parts: map[string]string{"Dataset_Identification": ""},
			id: "DS_PHR1A_201203161005426_FR1_PX", ptype: "PHR_MS___2A",
			begin: at("2012-03-16T10:05:42.6Z"), end: at("2012-03-16T10:05:42.6Z"), platform: "PHR", footprint: true},
		{name: "unknown mission: no type, the globs decide", parts: map[string]string{"Strip_Source": "<Strip_Source><MISSION>PNEO</MISSION><MISSION_INDEX>3</MISSION_INDEX><IMAGING_DATE>2022-01-01</IMAGING_DATE></Strip_Source>"},
			id: "DS_PHR1A_201203161005426_FR1_PX_E007N43_0911_01307", ptype: "",
			begin: at("2022-01-01T00:00:00Z"), end: at("2022-01-01T00:00:00Z"), platform: "PNEO", footprint: true},
		{name: "no extent: no footprint", parts: map[string]string{"Dataset_Extent": ""},
			id: "DS_PHR1A_201203161005426_FR1_PX_E007N43_0911_01307", ptype: "PHR_MS___2A",
			begin: at("2012-03-16T10:05:42.6Z"), end: at("2012-03-16T10:05:42.6Z"), platform: "PHR"},
		{name: "no time at all", parts: map[string]string{"Geometric_Data": "", "Strip_Source": "<Strip_Source><MISSION>PHR</MISSION></Strip_Source>"},
			errContains: "no acquisition time"},
		{name: "placeholder date (GDAL's stripped test header)", parts: map[string]string{"Strip_Source": "<Strip_Source><IMAGING_DATE>IMAGING_DATE</IMAGING_DATE><IMAGING_TIME>IMAGING_TIME</IMAGING_TIME></Strip_Source>"},
			errContains: "IMAGING_DATE/IMAGING_TIME"},
		{name: "a STRIP_ or RPC_ file is not the product header",
			parts:       map[string]string{"Dataset_Identification": "", "Strip_Source": ""},
			remove:      "<SOURCE_ID>DS_PHR1A_201203161005426_FR1_PX</SOURCE_ID>",
			errContains: "DIM_*.XML"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := dimapV2(c.parts)
			if c.remove != "" {
				doc = strings.Replace(doc, c.remove, "", 1)
			}
			p, err := ParseXML(strings.NewReader(doc))
			if c.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), c.errContains) {
					t.Fatalf("error %v, want one saying %q", err, c.errContains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Identifier != c.id || p.ProductType != c.ptype {
				t.Errorf("identifier %q type %q, want %q %q", p.Identifier, p.ProductType, c.id, c.ptype)
			}
			if !p.BeginTime.Equal(c.begin) || !p.EndTime.Equal(c.end) {
				t.Errorf("times %s %s, want %s %s", p.BeginTime, p.EndTime, c.begin, c.end)
			}
			if p.Properties["platform"] != c.platform {
				t.Errorf("properties %v, want platform %q", p.Properties, c.platform)
			}
			if c.footprint {
				if len(p.Footprint) != 1 || len(p.Footprint[0][0]) != 5 || p.Footprint[0][0][0] != [2]float64{7.0, 43.1} {
					t.Errorf("footprint %v, want the closed lon/lat extent", p.Footprint)
				}
			} else if p.Footprint != nil {
				t.Errorf("footprint %v from no extent", p.Footprint)
			}
			if err := p.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}
