package wcs

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
)

func (h *Handler) describeCoverage(w http.ResponseWriter, r *http.Request, p map[string]string) error {
	ids := p["COVERAGEID"]
	if ids == "" {
		return errorf(CodeMissingParameterValue, "coverageid", http.StatusBadRequest, "COVERAGEID is missing")
	}
	var infos []coverageInfo
	for _, id := range strings.Split(ids, ",") {
		ci, err := h.lookup(r.Context(), strings.TrimSpace(id))
		if err != nil {
			return err
		}
		infos = append(infos, ci)
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<wcs:CoverageDescriptions xmlns:wcs="http://www.opengis.net/wcs/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:gmlcov="http://www.opengis.net/gmlcov/1.0" xmlns:swe="http://www.opengis.net/swe/2.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/wcs/2.0 http://schemas.opengis.net/wcs/2.0/wcsDescribeCoverage.xsd">` + "\n")
	for _, ci := range infos {
		labels, _, _ := ci.axes()
		uom := "m m"
		if ci.LatLon {
			uom = "deg deg"
		}
		srs := srsURI(ci.EPSG)
		bb := ci.Grid.Bounds()
		gt := ci.Grid.GeoTransform
		id := esc(ci.ID)
		gid := gmlID(ci.ID)
		fmt.Fprintf(&b, `<wcs:CoverageDescription gml:id="%s">`, gid)
		fmt.Fprintf(&b, `<gml:boundedBy><gml:Envelope srsName="%s" axisLabels="%s %s" uomLabels="%s" srsDimension="2"><gml:lowerCorner>%s</gml:lowerCorner><gml:upperCorner>%s</gml:upperCorner></gml:Envelope></gml:boundedBy>`,
			srs, labels[0], labels[1], uom, ci.pair(bb[0], bb[1]), ci.pair(bb[2], bb[3]))
		fmt.Fprintf(&b, `<wcs:CoverageId>%s</wcs:CoverageId>`, id)
		fmt.Fprintf(&b, `<gml:domainSet><gml:RectifiedGrid dimension="2" gml:id="%s_grid"><gml:limits><gml:GridEnvelope><gml:low>0 0</gml:low><gml:high>%d %d</gml:high></gml:GridEnvelope></gml:limits><gml:axisLabels>i j</gml:axisLabels>`,
			gid, ci.Grid.Width-1, ci.Grid.Height-1)
		// The origin is the centre of the first pixel.
		fmt.Fprintf(&b, `<gml:origin><gml:Point gml:id="%s_origin" srsName="%s"><gml:pos>%s</gml:pos></gml:Point></gml:origin>`,
			gid, srs, ci.pair(gt[0]+gt[1]/2, gt[3]+gt[5]/2))
		fmt.Fprintf(&b, `<gml:offsetVector srsName="%s">%s</gml:offsetVector><gml:offsetVector srsName="%s">%s</gml:offsetVector></gml:RectifiedGrid></gml:domainSet>`,
			srs, ci.pair(gt[1], 0), srs, ci.pair(0, gt[5]))
		b.WriteString(`<gmlcov:rangeType><swe:DataRecord>`)
		for i, band := range ci.Cov.Bands {
			dt, ok := dataTypes[band.DataType]
			if !ok {
				dt = dataTypes["Float64"]
			}
			fmt.Fprintf(&b, `<swe:field name="band%d"><swe:Quantity definition="http://www.opengis.net/def/dataType/OGC/0/%s"><swe:description>band %d (%s, %s)</swe:description>`,
				i+1, dt.name, i+1, esc(band.DataType), esc(band.Color))
			if band.NoData != nil {
				fmt.Fprintf(&b, `<swe:nilValues><swe:NilValues><swe:nilValue reason="http://www.opengis.net/def/nil/OGC/0/unknown">%s</swe:nilValue></swe:NilValues></swe:nilValues>`, fmtf(*band.NoData))
			}
			fmt.Fprintf(&b, `<swe:uom code="10^0"/><swe:constraint><swe:AllowedValues><swe:interval>%s</swe:interval></swe:AllowedValues></swe:constraint></swe:Quantity></swe:field>`, dt.interval)
		}
		b.WriteString(`</swe:DataRecord></gmlcov:rangeType><wcs:ServiceParameters><wcs:CoverageSubtype>RectifiedGridCoverage</wcs:CoverageSubtype><wcs:nativeFormat>image/tiff</wcs:nativeFormat></wcs:ServiceParameters></wcs:CoverageDescription>` + "\n")
	}
	b.WriteString("</wcs:CoverageDescriptions>\n")
	w.Header().Set("Content-Type", "application/xml")
	_, err := w.Write(b.Bytes())
	return err
}

// dataTypes maps GDAL's type names to OGC data type names and value ranges.
var dataTypes = map[string]struct{ name, interval string }{
	"Byte":    {"unsignedByte", "0 255"},
	"UInt16":  {"unsignedShort", "0 65535"},
	"Int16":   {"signedShort", "-32768 32767"},
	"UInt32":  {"unsignedInt", "0 4294967295"},
	"Int32":   {"signedInt", "-2147483648 2147483647"},
	"Float32": {"float32", "-3.4028234663852886e+38 3.4028234663852886e+38"},
	"Float64": {"float64", "-1.7976931348623157e+308 1.7976931348623157e+308"},
}

// gmlID makes an identifier a valid xs:ID (an NCName).
func gmlID(s string) string {
	var b strings.Builder
	for i, c := range s {
		ok := c == '_' || c == '-' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if i == 0 && !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			b.WriteByte('_')
		}
		if ok {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
