package metadata

import (
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// WriteGSC writes p as a GSC opt_metadata report, the normalised form the
// registrar reads. Footprint coordinates are written lat lon, as GSC wants.
func WriteGSC(w io.Writer, p Product) error {
	var b strings.Builder
	esc := func(s string) string {
		var e strings.Builder
		_ = xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	t := func(tt time.Time) string { return tt.UTC().Format("2006-01-02T15:04:05.999Z07:00") }
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
        <eop:acquisitionType>NOMINAL</eop:acquisitionType>
        <eop:productType>%s</eop:productType>
        <eop:status>ARCHIVED</eop:status>
      </gsc:EarthObservationMetaData>
    </gml:metaDataProperty>
    <gml:validTime>
      <gml:TimePeriod>
        <gml:beginPosition>%s</gml:beginPosition>
        <gml:endPosition>%s</gml:endPosition>
      </gml:TimePeriod>
    </gml:validTime>
`, t(time.Now()), esc(p.Identifier), esc(parentOf(p)), esc(p.ProductType), t(p.BeginTime), t(p.EndTime))
	b.WriteString("    <gml:using>\n      <eop:EarthObservationEquipment>\n")
	if v := p.Properties["platform"]; v != "" {
		// The serial (PHR "1A", "1B") tells the satellites of a platform
		// apart; OpenSearch and the catalogue keep both.
		serial := ""
		if sv := p.Properties["platformSerialIdentifier"]; sv != "" {
			serial = "<eop:serialIdentifier>" + esc(sv) + "</eop:serialIdentifier>"
		}
		fmt.Fprintf(&b, "        <eop:platform><eop:Platform><eop:shortName>%s</eop:shortName>%s</eop:Platform></eop:platform>\n", esc(v), serial)
	}
	if v := p.Properties["instrument"]; v != "" {
		fmt.Fprintf(&b, "        <eop:instrument><eop:Instrument><eop:shortName>%s</eop:shortName></eop:Instrument></eop:instrument>\n", esc(v))
	}
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
	// Remaining properties, for the registrar's JSON column.
	keys := make([]string, 0, len(p.Properties))
	for k := range p.Properties {
		if k != "platform" && k != "instrument" && k != "platformSerialIdentifier" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		b.WriteString("    <gml:resultOf>\n      <opt:EarthObservationResult>\n")
		for _, k := range keys {
			if k == "cloudCover" {
				fmt.Fprintf(&b, "        <opt:cloudCoverPercentage>%s</opt:cloudCoverPercentage>\n", esc(p.Properties[k]))
			}
		}
		b.WriteString("      </opt:EarthObservationResult>\n    </gml:resultOf>\n")
	}
	b.WriteString("  </gsc:opt_metadata>\n</gsc:report>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// parentOf is the parentIdentifier written for p: the metadata's own when
// it names p's collection (it may name a series within it), else the
// collection.
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
