package metadata

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestPropertyMapJSON(t *testing.T) {
	t.Parallel()
	var m PropertyMap
	if err := json.Unmarshal([]byte(`{"platform":"PHR1A","cloudCover":12.5,"orbitNumber":12345,"night":false}`), &m); err != nil {
		t.Fatal(err)
	}
	want := PropertyMap{"platform": "PHR1A", "cloudCover": "12.5", "orbitNumber": "12345", "night": "false"}
	if len(m) != len(want) {
		t.Fatalf("got %v, want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	for doc, wantErr := range map[string]string{
		`{"bands":[1,2]}`:                 `property "bands": an object or array`,
		`{"x":{"y":1}}`:                   `property "x": an object or array`,
		`{"platform":null}`:               `property "platform": null; leave the property out`,
		`["platform"]`:                    "properties must be a JSON object",
		`"platform"`:                      "properties must be a JSON object",
		`{"cloudCover":12.5,"a":` + "[]}": `property "a"`,
	} {
		var m PropertyMap
		if err := json.Unmarshal([]byte(doc), &m); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: %v, want an error with %q", doc, err, wantErr)
		}
	}
	if err := json.Unmarshal([]byte(`null`), &m); err != nil || m != nil {
		t.Errorf("null properties: %v, %v", m, err)
	}
}

func TestCheckProperties(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		props map[string]string
		want  string // "" for valid
	}{
		{"none", nil, ""},
		{"every EO property", map[string]string{"platform": "PHR", "platformSerialIdentifier": "1A", "instrument": "PHR",
			"sensorType": "OPTICAL", "acquisitionType": "NOMINAL", "orbitNumber": "12345", "orbitDirection": "DESCENDING",
			"cloudCover": "12.5", "parentIdentifier": "VHR_IMAGE_2018/PHR"}, ""},
		{"unknown names are free", map[string]string{"constellation": "pleiades", "sat:relative_orbit": "42", "processing.level": "L2A"}, ""},
		{"cloud cover not a number", map[string]string{"cloudCover": "cloudy"}, `property cloudCover "cloudy" is not a percentage`},
		{"cloud cover over 100", map[string]string{"cloudCover": "150"}, `property cloudCover "150" is not a percentage`},
		{"cloud cover NaN", map[string]string{"cloudCover": "NaN"}, "is not a percentage"},
		{"orbit number with a fraction", map[string]string{"orbitNumber": "12.5"}, `property orbitNumber "12.5" is not an orbit number`},
		{"negative orbit number", map[string]string{"orbitNumber": "-1"}, "is not an orbit number"},
		{"orbit direction", map[string]string{"orbitDirection": "ascending"}, "want ASCENDING or DESCENDING"},
		{"misspelt cloud cover", map[string]string{"cloud_cover": "3"}, `property "cloud_cover": the catalogue's property is spelled cloudCover`},
		{"STAC name", map[string]string{"eo:cloud_cover": "3"}, "spelled cloudCover"},
		{"case", map[string]string{"Platform": "PHR"}, "spelled platform"},
		{"parent", map[string]string{"parent_identifier": "X"}, "spelled parentIdentifier"},
		{"product type", map[string]string{"productType": "VHR_OPTICAL"}, "give it as the item's product_type"},
		{"product type, other spelling", map[string]string{"product_type": "VHR_OPTICAL"}, "give it as the item's product_type"},
		{"identifier", map[string]string{"identifier": "A"}, "give it as the item's identifier"},
		{"collection", map[string]string{"collection": "Emergency"}, "the collection is the deployment's"},
		{"bad name", map[string]string{"cloud cover": "3"}, `property name "cloud cover"`},
		{"name from a digit", map[string]string{"1a": "3"}, `property name "1a"`},
		{"long name", map[string]string{"a" + strings.Repeat("b", MaxPropertyNameLen): "3"}, "property name"},
		{"empty value", map[string]string{"platform": " "}, "property platform is empty"},
		{"long value", map[string]string{"note": strings.Repeat("x", MaxPropertyValueLen+1)}, "property note is 1025 bytes long"},
		{"control character", map[string]string{"note": "a\x01b"}, "property note holds a control character"},
		{"line break", map[string]string{"note": "a\nb"}, "control character"},
	}
	many := map[string]string{}
	for i := range MaxProperties + 1 {
		many["p"+strings.Repeat("x", i)] = "1"
	}
	tests = append(tests, struct {
		name  string
		props map[string]string
		want  string
	}{"too many", many, "65 properties; at most 64"})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckProperties(tc.props)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// Every property survives the GSC document the registrar reads: the EO
// properties in their EOP elements, the others as vendorSpecific entries.
func TestGSCCarriesEveryProperty(t *testing.T) {
	t.Parallel()
	props := map[string]string{"platform": "PHR", "platformSerialIdentifier": "1A", "instrument": "PHR",
		"sensorType": "OPTICAL", "acquisitionType": "CALIBRATION", "orbitNumber": "12345", "orbitDirection": "DESCENDING",
		"cloudCover": "12.5", "constellation": "pleiades", "sat:relative_orbit": "42", "note": "a < b & c"}
	in := Product{Identifier: "P1", Collection: "VHR_IMAGE_2018", ParentIdentifier: "VHR_IMAGE_2018/PHR", ProductType: "VHR_OPTICAL",
		BeginTime: time.Date(2018, 6, 15, 15, 20, 0, 0, time.UTC), EndTime: time.Date(2018, 6, 15, 15, 20, 30, 0, time.UTC),
		Footprint: [][][][2]float64{{{{10, 40}, {11, 40}, {11, 41}, {10, 41}, {10, 40}}}}, Properties: props}
	var buf bytes.Buffer
	if err := WriteGSC(&buf, in); err != nil {
		t.Fatal(err)
	}
	doc := buf.String()
	for _, want := range []string{"<eop:acquisitionType>CALIBRATION</eop:acquisitionType>",
		"<eop:Sensor><eop:sensorType>OPTICAL</eop:sensorType></eop:Sensor>",
		"<eop:Acquisition><eop:orbitNumber>12345</eop:orbitNumber><eop:orbitDirection>DESCENDING</eop:orbitDirection></eop:Acquisition>",
		"<eop:localAttribute>constellation</eop:localAttribute><eop:localValue>pleiades</eop:localValue>"} {
		if !strings.Contains(doc, want) {
			t.Errorf("GSC lacks %s:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "<eop:localAttribute>cloudCover<") {
		t.Errorf("an EO property written as vendorSpecific:\n%s", doc)
	}
	out, err := ParseXML(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Properties) != len(props) {
		t.Errorf("properties read back: %v, want %v", out.Properties, props)
	}
	for k, v := range props {
		if out.Properties[k] != v {
			t.Errorf("property %s = %q, want %q", k, out.Properties[k], v)
		}
	}
	if out.ParentIdentifier != in.ParentIdentifier {
		t.Errorf("parent identifier %q", out.ParentIdentifier)
	}

	// Without one, the acquisition type stays NOMINAL, and a serial
	// without a platform is kept.
	buf.Reset()
	in.Properties = map[string]string{"platformSerialIdentifier": "1B"}
	if err := WriteGSC(&buf, in); err != nil {
		t.Fatal(err)
	}
	out, err = ParseXML(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if out.Properties["acquisitionType"] != "NOMINAL" || out.Properties["platformSerialIdentifier"] != "1B" || out.Properties["platform"] != "" {
		t.Errorf("properties read back: %v", out.Properties)
	}
}

// A vendorSpecific entry named like an EO property does not override the
// property's own element.
func TestVendorSpecificDoesNotOverride(t *testing.T) {
	t.Parallel()
	doc := `<gsc:report xmlns:gsc="http://earth.esa.int/gsc" xmlns:gml="http://www.opengis.net/gml" xmlns:eop="http://earth.esa.int/eop" xmlns:opt="http://earth.esa.int/opt">
  <gsc:opt_metadata><gml:metaDataProperty><gsc:EarthObservationMetaData><eop:identifier>P</eop:identifier>
    <eop:vendorSpecific><eop:SpecificInformation><eop:localAttribute>cloudCover</eop:localAttribute><eop:localValue>99</eop:localValue></eop:SpecificInformation></eop:vendorSpecific>
    <eop:vendorSpecific><eop:SpecificInformation><eop:localAttribute>tile</eop:localAttribute><eop:localValue>31TCJ</eop:localValue></eop:SpecificInformation></eop:vendorSpecific>
  </gsc:EarthObservationMetaData></gml:metaDataProperty>
  <gml:validTime><gml:TimePeriod><gml:beginPosition>2018-06-15T10:00:00Z</gml:beginPosition><gml:endPosition>2018-06-15T10:00:00Z</gml:endPosition></gml:TimePeriod></gml:validTime>
  <gml:resultOf><opt:EarthObservationResult><opt:cloudCoverPercentage>5</opt:cloudCoverPercentage></opt:EarthObservationResult></gml:resultOf>
  </gsc:opt_metadata></gsc:report>`
	p, err := ParseXML(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if p.Properties["cloudCover"] != "5" || p.Properties["tile"] != "31TCJ" {
		t.Errorf("properties %v", p.Properties)
	}
}

// Whatever properties CheckProperties lets through reach the registrar
// unchanged through the GSC document.
func FuzzPropertiesThroughGSC(f *testing.F) {
	f.Add([]byte(`{"platform":"PHR","cloudCover":12.5,"constellation":"pleiades","note":"a < b & c"}`))
	f.Add([]byte(`{"orbitNumber":1,"orbitDirection":"ASCENDING","x:y":"ü"}`))
	f.Add([]byte(`{"note":"\ufffe \ud800"}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var m PropertyMap
		if json.Unmarshal(doc, &m) != nil || CheckProperties(m) != nil {
			return
		}
		delete(m, "parentIdentifier") // a field of its own
		for k, v := range m {
			m[k] = strings.TrimSpace(v)
		}
		p := Product{Identifier: "P", BeginTime: time.Unix(0, 0), EndTime: time.Unix(0, 0), Properties: m}
		var buf bytes.Buffer
		if err := WriteGSC(&buf, p); err != nil {
			t.Fatal(err)
		}
		out, err := ParseXML(&buf)
		if err != nil {
			t.Fatalf("GSC of %v unreadable: %v", m, err)
		}
		for k, v := range m {
			if out.Properties[k] != v {
				t.Fatalf("property %s = %q read back as %q", k, v, out.Properties[k])
			}
		}
	})
}
