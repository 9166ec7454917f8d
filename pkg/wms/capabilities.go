package wms

import (
	"bytes"
	"image/color"
	"net/http"
	"strconv"
	"text/template"

	"github.com/pvs/pvs/internal/xmltext"
	"github.com/pvs/pvs/pkg/crs"
	"github.com/pvs/pvs/pkg/legend"
	"github.com/pvs/pvs/pkg/ows"
	"github.com/pvs/pvs/pkg/period"
)

type capsLayer struct {
	Layer
	MinX, MinY, MaxX, MaxY  string
	TimeExtent, TimeDefault string
	// The legend of the default style: GetLegendGraphic and its size.
	LegendURL                 string
	LegendWidth, LegendHeight int
}

type capsData struct {
	Service
	URL    string
	CRS    []string
	Layers []capsLayer
}

func fmtf(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func (h *Handler) getCapabilities(w http.ResponseWriter, r *http.Request, p params) {
	version := negotiate(p.get("VERSION"), p.get("WMTVER"))
	layers, err := h.Backend.Layers(r.Context())
	if err != nil {
		h.Log.Error("list layers", "err", err)
		writeException(w, &ows.Exception{Code: CodeNoApplicableCode, Message: "layers are not available; the error is logged", Status: http.StatusServiceUnavailable}, version, "", 0, 0, "", bgWhite, false)
		return
	}
	d := capsData{Service: h.Service, CRS: crs.SupportedCodes()}
	d.URL = h.Service.PublicURL
	if d.URL == "" {
		d.URL = ows.Origin(r) + r.URL.Path
	}
	for _, l := range layers {
		cl := capsLayer{Layer: l}
		b := [4]float64{-180, -90, 180, 90}
		if l.BBox != nil {
			b = *l.BBox
		}
		cl.MinX, cl.MinY, cl.MaxX, cl.MaxY = fmtf(b[0]), fmtf(b[1]), fmtf(b[2]), fmtf(b[3])
		cl.LegendURL = legendURL(d.URL, version, l.Name)
		cl.LegendWidth, cl.LegendHeight = legend.For(l).Size()
		if !l.Start.IsZero() {
			cl.TimeExtent = period.Period{Start: l.Start, End: l.End}.String()
			cl.TimeDefault = l.End.UTC().Format(period.Layout)
		}
		d.Layers = append(d.Layers, cl)
	}
	tmpl := caps130
	ctype := "text/xml"
	if version == "1.1.1" {
		tmpl = caps111
		ctype = "application/vnd.ogc.wms_xml"
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, d); err != nil {
		h.Log.Error("capabilities", "err", err)
		writeException(w, &ows.Exception{Code: CodeNoApplicableCode, Message: "capabilities could not be written", Status: http.StatusInternalServerError}, version, "", 0, 0, "", bgWhite, false)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Write(buf.Bytes())
}

var funcs = template.FuncMap{"x": xmlAttr}

// caps130 declares GetLegendGraphic in the SLD namespace, as the SLD 1.1.0
// capabilities extension defines it: the document validates against WMS
// 1.3.0 together with sld_capabilities.xsd.
var caps130 = template.Must(template.New("130").Funcs(funcs).Parse(`<?xml version="1.0" encoding="UTF-8"?>
<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms" xmlns:sld="http://www.opengis.net/sld" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/wms http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/sld_capabilities.xsd">
  <Service>
    <Name>WMS</Name>
    <Title>{{x .Title}}</Title>
    <Abstract>{{x .Abstract}}</Abstract>
    <OnlineResource xlink:type="simple" xlink:href="{{x .URL}}"/>
    <MaxWidth>{{.MaxSize}}</MaxWidth>
    <MaxHeight>{{.MaxSize}}</MaxHeight>
  </Service>
  <Capability>
    <Request>
      <GetCapabilities>
        <Format>text/xml</Format>
        <DCPType><HTTP><Get><OnlineResource xlink:type="simple" xlink:href="{{x .URL}}?"/></Get></HTTP></DCPType>
      </GetCapabilities>
      <GetMap>
        <Format>image/png</Format>
        <Format>image/png; mode=8bit</Format>
        <Format>image/jpeg</Format>
        <DCPType><HTTP><Get><OnlineResource xlink:type="simple" xlink:href="{{x .URL}}?"/></Get></HTTP></DCPType>
      </GetMap>
      <GetFeatureInfo>
        <Format>text/html</Format>
        <Format>application/json</Format>
        <Format>text/xml</Format>
        <Format>text/plain</Format>
        <DCPType><HTTP><Get><OnlineResource xlink:type="simple" xlink:href="{{x .URL}}?"/></Get></HTTP></DCPType>
      </GetFeatureInfo>
      <sld:GetLegendGraphic>
        <Format>image/png</Format>
        <DCPType><HTTP><Get><OnlineResource xlink:type="simple" xlink:href="{{x .URL}}?"/></Get></HTTP></DCPType>
      </sld:GetLegendGraphic>
    </Request>
    <Exception>
      <Format>XML</Format>
      <Format>INIMAGE</Format>
      <Format>BLANK</Format>
    </Exception>
    <Layer>
      <Title>{{x .Title}}</Title>
{{- range .CRS}}
      <CRS>{{.}}</CRS>
{{- end}}
      <EX_GeographicBoundingBox>
        <westBoundLongitude>-180</westBoundLongitude>
        <eastBoundLongitude>180</eastBoundLongitude>
        <southBoundLatitude>-90</southBoundLatitude>
        <northBoundLatitude>90</northBoundLatitude>
      </EX_GeographicBoundingBox>
{{- range .Layers}}
      <Layer queryable="1" opaque="0">
        <Name>{{x .Name}}</Name>
        <Title>{{x .Title}}</Title>
        <EX_GeographicBoundingBox>
          <westBoundLongitude>{{.MinX}}</westBoundLongitude>
          <eastBoundLongitude>{{.MaxX}}</eastBoundLongitude>
          <southBoundLatitude>{{.MinY}}</southBoundLatitude>
          <northBoundLatitude>{{.MaxY}}</northBoundLatitude>
        </EX_GeographicBoundingBox>
        <BoundingBox CRS="CRS:84" minx="{{.MinX}}" miny="{{.MinY}}" maxx="{{.MaxX}}" maxy="{{.MaxY}}"/>
        <BoundingBox CRS="EPSG:4326" minx="{{.MinY}}" miny="{{.MinX}}" maxx="{{.MaxY}}" maxy="{{.MaxX}}"/>
{{- if .TimeExtent}}
        <Dimension name="time" units="ISO8601" default="{{.TimeDefault}}" nearestValue="0">{{.TimeExtent}}</Dimension>
{{- end}}
        <Style>
          <Name>default</Name>
          <Title>default</Title>
          <LegendURL width="{{.LegendWidth}}" height="{{.LegendHeight}}">
            <Format>image/png</Format>
            <OnlineResource xlink:type="simple" xlink:href="{{x .LegendURL}}"/>
          </LegendURL>
        </Style>
      </Layer>
{{- end}}
    </Layer>
  </Capability>
</WMS_Capabilities>
`))

// caps111 is valid against its DTD, which declares xmlns:xlink (fixed) on
// OnlineResource and nowhere else: the root may not carry it. Every
// OnlineResource declares it, as MapServer and GeoServer write them, so
// that parsers that do not read the DTD still resolve the xlink prefix.
var caps111 = template.Must(template.New("111").Funcs(funcs).Parse(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE WMT_MS_Capabilities SYSTEM "http://schemas.opengis.net/wms/1.1.1/WMS_MS_Capabilities.dtd">
<WMT_MS_Capabilities version="1.1.1">
  <Service>
    <Name>OGC:WMS</Name>
    <Title>{{x .Title}}</Title>
    <Abstract>{{x .Abstract}}</Abstract>
    <OnlineResource xmlns:xlink="http://www.w3.org/1999/xlink" xlink:type="simple" xlink:href="{{x .URL}}"/>
  </Service>
  <Capability>
    <Request>
      <GetCapabilities>
        <Format>application/vnd.ogc.wms_xml</Format>
        <DCPType><HTTP><Get><OnlineResource xmlns:xlink="http://www.w3.org/1999/xlink" xlink:type="simple" xlink:href="{{x .URL}}?"/></Get></HTTP></DCPType>
      </GetCapabilities>
      <GetMap>
        <Format>image/png</Format>
        <Format>image/png; mode=8bit</Format>
        <Format>image/jpeg</Format>
        <DCPType><HTTP><Get><OnlineResource xmlns:xlink="http://www.w3.org/1999/xlink" xlink:type="simple" xlink:href="{{x .URL}}?"/></Get></HTTP></DCPType>
      </GetMap>
      <GetFeatureInfo>
        <Format>text/html</Format>
        <Format>application/json</Format>
        <Format>text/xml</Format>
        <Format>text/plain</Format>
        <DCPType><HTTP><Get><OnlineResource xmlns:xlink="http://www.w3.org/1999/xlink" xlink:type="simple" xlink:href="{{x .URL}}?"/></Get></HTTP></DCPType>
      </GetFeatureInfo>
      <GetLegendGraphic>
        <Format>image/png</Format>
        <DCPType><HTTP><Get><OnlineResource xmlns:xlink="http://www.w3.org/1999/xlink" xlink:type="simple" xlink:href="{{x .URL}}?"/></Get></HTTP></DCPType>
      </GetLegendGraphic>
    </Request>
    <Exception>
      <Format>application/vnd.ogc.se_xml</Format>
      <Format>application/vnd.ogc.se_inimage</Format>
      <Format>application/vnd.ogc.se_blank</Format>
    </Exception>
    <Layer>
      <Title>{{x .Title}}</Title>
{{- range .CRS}}
      <SRS>{{.}}</SRS>
{{- end}}
      <LatLonBoundingBox minx="-180" miny="-90" maxx="180" maxy="90"/>
{{- range .Layers}}
      <Layer queryable="1" opaque="0">
        <Name>{{x .Name}}</Name>
        <Title>{{x .Title}}</Title>
        <LatLonBoundingBox minx="{{.MinX}}" miny="{{.MinY}}" maxx="{{.MaxX}}" maxy="{{.MaxY}}"/>
        <BoundingBox SRS="EPSG:4326" minx="{{.MinX}}" miny="{{.MinY}}" maxx="{{.MaxX}}" maxy="{{.MaxY}}"/>
{{- if .TimeExtent}}
        <Dimension name="time" units="ISO8601"/>
        <Extent name="time" default="{{.TimeDefault}}" nearestValue="0">{{.TimeExtent}}</Extent>
{{- end}}
        <Style>
          <Name>default</Name>
          <Title>default</Title>
          <LegendURL width="{{.LegendWidth}}" height="{{.LegendHeight}}">
            <Format>image/png</Format>
            <OnlineResource xmlns:xlink="http://www.w3.org/1999/xlink" xlink:type="simple" xlink:href="{{x .LegendURL}}"/>
          </LegendURL>
        </Style>
      </Layer>
{{- end}}
    </Layer>
  </Capability>
</WMT_MS_Capabilities>
`))

var bgWhite = color.NRGBA{255, 255, 255, 255}

// xmlAttr escapes XML text.
var xmlAttr = xmltext.Escape
