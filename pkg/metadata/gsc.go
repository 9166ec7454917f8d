package metadata

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WriteGSC writes p as a GSC opt_metadata report, the normalised form the
// registrar reads. Footprint coordinates are written lat lon, as GSC wants.
func WriteGSC(w io.Writer, p Product) error {
	var b strings.Builder
	t := func(tt time.Time) string { return tt.UTC().Format("2006-01-02T15:04:05.999Z07:00") }
	acquisitionType := p.Properties["acquisitionType"]
	if acquisitionType == "" {
		acquisitionType = "NOMINAL"
	}
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<gsc:report xmlns:gsc="http://earth.esa.int/gsc" xmlns:gml="http://www.opengis.net/gml" xmlns:eop="http://earth.esa.int/eop" xmlns:opt="http://earth.esa.int/opt" version="2.0">
  <gsc:responsibleOrgName>pvs</gsc:responsibleOrgName>
  <gsc:reportType>CIRCULATION</gsc:reportType>
  <gsc:dateTime>%s</gsc:dateTime>
  <gsc:opt_metadata version="1.2.1">
    <gml:metaDataProperty>
      <gsc:EarthObservationMetaData>
        <eop:identifier>%s</eop:identifier>
        <eop:parentIdentifier>%s</eop:parentIdentifier>
        <eop:acquisitionType>%s</eop:acquisitionType>
        <eop:productType>%s</eop:productType>
        <eop:status>ARCHIVED</eop:status>
`, t(time.Now()), esc(p.Identifier), esc(parentOf(p)), esc(acquisitionType), esc(p.ProductType))
	// The EO properties have elements of their own (below); the others go
	// where EOP carries them, one vendorSpecific entry each.
	for _, k := range sortedKeys(p.Properties) {
		if !slices.Contains(EOProperties, k) {
			fmt.Fprintf(&b, "        <eop:vendorSpecific><eop:SpecificInformation><eop:localAttribute>%s</eop:localAttribute><eop:localValue>%s</eop:localValue></eop:SpecificInformation></eop:vendorSpecific>\n",
				esc(k), esc(p.Properties[k]))
		}
	}
	fmt.Fprintf(&b, `      </gsc:EarthObservationMetaData>
    </gml:metaDataProperty>
    <gml:validTime>
      <gml:TimePeriod>
        <gml:beginPosition>%s</gml:beginPosition>
        <gml:endPosition>%s</gml:endPosition>
      </gml:TimePeriod>
    </gml:validTime>
`, t(p.BeginTime), t(p.EndTime))
	b.WriteString("    <gml:using>\n      <eop:EarthObservationEquipment>\n")
	// The serial (PHR "1A", "1B") tells the satellites of a platform
	// apart; OpenSearch and the catalogue keep both.
	writeGroup(&b, "eop:platform", "eop:Platform", [2]string{"eop:shortName", p.Properties["platform"]},
		[2]string{"eop:serialIdentifier", p.Properties["platformSerialIdentifier"]})
	if v := p.Properties["instrument"]; v != "" {
		fmt.Fprintf(&b, "        <eop:instrument><eop:Instrument><eop:shortName>%s</eop:shortName></eop:Instrument></eop:instrument>\n", esc(v))
	}
	if v := p.Properties["sensorType"]; v != "" {
		fmt.Fprintf(&b, "        <eop:sensor><eop:Sensor><eop:sensorType>%s</eop:sensorType></eop:Sensor></eop:sensor>\n", esc(v))
	}
	writeGroup(&b, "eop:acquisitionParameters", "eop:Acquisition", [2]string{"eop:orbitNumber", p.Properties["orbitNumber"]},
		[2]string{"eop:orbitDirection", p.Properties["orbitDirection"]})
	b.WriteString("      </eop:EarthObservationEquipment>\n    </gml:using>\n")
	b.WriteString("    <gml:target>\n      <eop:Footprint>\n        <gml:multiExtentOf>\n          <gml:MultiSurface srsName=\"EPSG:4326\">\n            <gml:surfaceMembers>\n")
	for _, poly := range p.Footprint {
		b.WriteString("              <gml:Polygon>\n")
		for i, ring := range poly {
			tag := "exterior"
			if i > 0 {
				tag = "interior"
			}
			fmt.Fprintf(&b, "                <gml:%s><gml:LinearRing><gml:posList>%s</gml:posList></gml:LinearRing></gml:%s>\n", tag, posList(ring), tag)
		}
		b.WriteString("              </gml:Polygon>\n")
	}
	b.WriteString("            </gml:surfaceMembers>\n          </gml:MultiSurface>\n        </gml:multiExtentOf>\n      </eop:Footprint>\n    </gml:target>\n")
	if v := p.Properties["cloudCover"]; v != "" {
		fmt.Fprintf(&b, "    <gml:resultOf>\n      <opt:EarthObservationResult>\n        <opt:cloudCoverPercentage>%s</opt:cloudCoverPercentage>\n      </opt:EarthObservationResult>\n    </gml:resultOf>\n",
			esc(v))
	}
	b.WriteString("  </gsc:opt_metadata>\n</gsc:report>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// parentOf is the parentIdentifier written for p: the metadata's own when
// it names p's collection (it may name a series within it), else the
// collection.
// esc escapes text for an XML element.
func esc(s string) string {
	var e strings.Builder
	_ = xml.EscapeText(&e, []byte(s))
	return e.String()
}

// writeGroup writes a property element wrapping an object element with
// the fields (name, value) that have a value, in their order; nothing
// when none has.
func writeGroup(b *strings.Builder, property, object string, fields ...[2]string) {
	var inner strings.Builder
	for _, f := range fields {
		if f[1] != "" {
			fmt.Fprintf(&inner, "<%s>%s</%s>", f[0], esc(f[1]), f[0])
		}
	}
	if inner.Len() > 0 {
		fmt.Fprintf(b, "        <%s><%s>%s</%s></%s>\n", property, object, inner.String(), object, property)
	}
}

func parentOf(p Product) string {
	if p.ParentIdentifier != "" && CollectionOf(p.ParentIdentifier) == p.Collection {
		return p.ParentIdentifier
	}
	return p.Collection
}

func posList(ring [][2]float64) string {
	parts := make([]string, 0, 2*len(ring))
	for _, pt := range ring {
		parts = append(parts, strconv.FormatFloat(pt[1], 'f', -1, 64), strconv.FormatFloat(pt[0], 'f', -1, 64))
	}
	return strings.Join(parts, " ")
}
