package wcs

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/pvs/pvs/pkg/crs"
)

var profiles = []string{
	"http://www.opengis.net/spec/WCS/2.0/conf/core",
	"http://www.opengis.net/spec/WCS_protocol-binding_get-kvp/1.0/conf/get-kvp",
	"http://www.opengis.net/spec/GMLCOV/1.0/conf/gml-coverage",
	"http://www.opengis.net/spec/WCS_geotiff-coverages/1.0/conf/geotiff-coverage",
	"http://www.opengis.net/spec/WCS_service-extension_crs/1.0/conf/crs",
	"http://www.opengis.net/spec/WCS_service-extension_scaling/1.0/conf/scaling",
	"http://www.opengis.net/spec/WCS_service-extension_range-subsetting/1.0/conf/record-subsetting",
	"http://www.opengis.net/spec/WCS_service-extension_interpolation/1.0/conf/interpolation",
}

func (h *Handler) getCapabilities(w http.ResponseWriter, r *http.Request) {
	limit := h.Service.MaxListed
	if limit <= 0 {
		limit = 1000
	}
	recs, err := h.Backend.Coverages(r.Context(), limit)
	if err != nil {
		h.Log.Error("wcs capabilities", "err", err)
		writeException(w, errorf(CodeNoApplicableCode, "", http.StatusServiceUnavailable, "coverages are not available; the error is logged"))
		return
	}
	u := esc(h.endpoint(r))
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<wcs:Capabilities xmlns:wcs="http://www.opengis.net/wcs/2.0" xmlns:ows="http://www.opengis.net/ows/2.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:crs="http://www.opengis.net/wcs/service-extension/crs/1.0" xmlns:int="http://www.opengis.net/WCS_service-extension_interpolation/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/wcs/2.0 http://schemas.opengis.net/wcs/2.0/wcsGetCapabilities.xsd" version="2.0.1">` + "\n")
	fmt.Fprintf(&b, "<ows:ServiceIdentification><ows:Title>%s</ows:Title><ows:Abstract>%s</ows:Abstract><ows:ServiceType codeSpace=\"OGC\">OGC WCS</ows:ServiceType><ows:ServiceTypeVersion>2.0.1</ows:ServiceTypeVersion>",
		esc(h.Service.Title), esc(h.Service.Abstract))
	for _, pr := range profiles {
		fmt.Fprintf(&b, "<ows:Profile>%s</ows:Profile>", pr)
	}
	b.WriteString("</ows:ServiceIdentification>\n<ows:ServiceProvider><ows:ProviderName>pvs</ows:ProviderName><ows:ServiceContact/></ows:ServiceProvider>\n<ows:OperationsMetadata>")
	for _, op := range []string{"GetCapabilities", "DescribeCoverage", "GetCoverage"} {
		fmt.Fprintf(&b, `<ows:Operation name="%s"><ows:DCP><ows:HTTP><ows:Get xlink:href="%s?"/></ows:HTTP></ows:DCP></ows:Operation>`, op, u)
	}
	b.WriteString("</ows:OperationsMetadata>\n<wcs:ServiceMetadata><wcs:formatSupported>image/tiff</wcs:formatSupported><wcs:Extension>")
	b.WriteString("<int:InterpolationMetadata>")
	for _, m := range interpolations {
		fmt.Fprintf(&b, "<int:InterpolationSupported>%s</int:InterpolationSupported>", m.uri)
	}
	b.WriteString("</int:InterpolationMetadata><crs:CrsMetadata>")
	for _, c := range crs.SupportedCodes() {
		if c == "CRS:84" {
			continue
		}
		fmt.Fprintf(&b, "<crs:crsSupported>%s</crs:crsSupported>", srsURI(mustCode(c)))
	}
	b.WriteString("</crs:CrsMetadata></wcs:Extension></wcs:ServiceMetadata>\n<wcs:Contents>\n")
	for _, rec := range recs {
		if _, err := info(rec); err != nil {
			continue
		}
		id := rec.ID
		fmt.Fprintf(&b, "<wcs:CoverageSummary><wcs:CoverageId>%s</wcs:CoverageId><wcs:CoverageSubtype>RectifiedGridCoverage</wcs:CoverageSubtype><ows:WGS84BoundingBox><ows:LowerCorner>%s %s</ows:LowerCorner><ows:UpperCorner>%s %s</ows:UpperCorner></ows:WGS84BoundingBox></wcs:CoverageSummary>\n",
			esc(id), fmtf(rec.BBox[0]), fmtf(rec.BBox[1]), fmtf(rec.BBox[2]), fmtf(rec.BBox[3]))
	}
	b.WriteString("</wcs:Contents>\n</wcs:Capabilities>\n")
	w.Header().Set("Content-Type", "application/xml")
	w.Write(b.Bytes())
}

func mustCode(s string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(s, "EPSG:"))
	return n
}
