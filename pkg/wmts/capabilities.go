package wmts

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"text/template"

	"github.com/pvs/pvs/internal/xmltext"
	"github.com/pvs/pvs/pkg/legend"
	"github.com/pvs/pvs/pkg/ows"
	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/tile"
)

type capsMatrix struct {
	ID                   string
	Scale                string
	TopLeft              string
	TileSize, Cols, Rows int
}

type capsGrid struct {
	Name, CRS, WKSS string
	BBox            capsBBox // the whole set
	Matrices        []capsMatrix
}

// capsBBox is an ows:BoundingBox: corners in the CRS's axis order.
type capsBBox struct{ CRS, Lower, Upper string }

type capsLayer struct {
	Name, Title            string
	MinX, MinY, MaxX, MaxY string
	// BBoxes are the layer's extent in each TileMatrixSet's CRS.
	BBoxes []capsBBox
	Time   string
	// Legend is the WMS GetLegendGraphic of the default style; empty
	// without a WMS behind the cache.
	Legend                    string
	LegendWidth, LegendHeight int
}

type capsData struct {
	URL         string
	Layers      []capsLayer
	Grids       []capsGrid
	InfoFormats []infoFormat // empty when GetFeatureInfo is not offered
}

func ff(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func (h *Handler) capabilities(w http.ResponseWriter, r *http.Request) {
	layers, err := h.Layers.Layers(r.Context())
	if err != nil {
		h.Log.Error("list layers", "err", err)
		writeError(w, &ows.Exception{Status: http.StatusServiceUnavailable, Code: "NoApplicableCode", Message: "layers are not available; the error is logged"})
		return
	}
	base := h.PublicURL
	if base == "" {
		base = "http://" + r.Host
	}
	d := capsData{URL: base + h.Prefix}
	if h.Info != nil {
		d.InfoFormats = infoFormats
	}
	for _, l := range layers {
		b := [4]float64{-180, -85.0511287798066, 180, 85.0511287798066}
		if l.BBox != nil {
			b = *l.BBox
			// Web Mercator cannot show the poles; GDAL and others size the
			// raster from this box.
			b[1] = max(b[1], -85.0511287798066)
			b[3] = min(b[3], 85.0511287798066)
		}
		cl := capsLayer{Name: l.Name, Title: l.Title, MinX: ff(b[0]), MinY: ff(b[1]), MaxX: ff(b[2]), MaxY: ff(b[3])}
		for _, g := range tile.Grids {
			cl.BBoxes = append(cl.BBoxes, gridBBox(g, l.BBox))
		}
		if !l.Start.IsZero() {
			cl.Time = period.Period{Start: l.Start, End: l.End}.Key()
		}
		if h.Fallback != nil {
			cl.Legend = legendURL(d.URL, l.Name)
			cl.LegendWidth, cl.LegendHeight = legend.For(l).Size()
		}
		d.Layers = append(d.Layers, cl)
	}
	for _, g := range tile.Grids {
		cg := capsGrid{Name: g.Name, CRS: crsURN(g), WKSS: g.WellKnownScaleSet, BBox: gridBBox(g, nil)}
		for z := 0; z <= g.MaxZoom; z++ {
			cols, rows := g.MatrixSize(z)
			tl := ff(g.MinX) + " " + ff(g.MaxY)
			if g.EPSG == 4326 {
				tl = ff(g.MaxY) + " " + ff(g.MinX) // EPSG:4326 is lat/lon
			}
			cg.Matrices = append(cg.Matrices, capsMatrix{ID: strconv.Itoa(z), Scale: ff(g.ScaleDenominator(z)),
				TopLeft: tl, TileSize: g.TileSize, Cols: cols, Rows: rows})
		}
		d.Grids = append(d.Grids, cg)
	}
	var buf bytes.Buffer
	if err := capsTmpl.Execute(&buf, d); err != nil {
		h.Log.Error("capabilities", "err", err)
		writeError(w, &ows.Exception{Status: http.StatusInternalServerError, Code: "NoApplicableCode", Message: "capabilities could not be written"})
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Write(buf.Bytes())
}

func crsURN(g tile.Grid) string { return "urn:ogc:def:crs:EPSG::" + strconv.Itoa(g.EPSG) }

// gridBBox is a lon/lat extent in the grid's CRS, clamped to the grid (nil:
// the whole grid). OpenLayers takes a tile grid's extent from this box, not
// from the WGS84 one; in Web Mercator it also keeps latitudes within
// ±85.0511°, where the CRS ends.
func gridBBox(g tile.Grid, lonlat *[4]float64) capsBBox {
	b := [4]float64{g.MinX, g.MinY, g.MaxX, g.MaxY}
	if lonlat != nil {
		p := g.FromWGS84(*lonlat)
		b = [4]float64{max(p[0], g.MinX), max(p[1], g.MinY), min(p[2], g.MaxX), min(p[3], g.MaxY)}
	}
	lower, upper := ff(b[0])+" "+ff(b[1]), ff(b[2])+" "+ff(b[3])
	if g.EPSG == 4326 { // lat/lon, as the TopLeftCorner
		lower, upper = ff(b[1])+" "+ff(b[0]), ff(b[3])+" "+ff(b[2])
	}
	return capsBBox{CRS: crsURN(g), Lower: lower, Upper: upper}
}

// legendURL asks the WMS behind the cache (on the same path, see tiledWMS)
// for the legend of a layer's default style.
func legendURL(base, layerName string) string {
	q := url.Values{"SERVICE": {"WMS"}, "VERSION": {"1.3.0"}, "REQUEST": {"GetLegendGraphic"}, "FORMAT": {"image/png"},
		"LAYER": {layerName}, "STYLE": {"default"}, "SLD_VERSION": {"1.1.0"}}
	return base + "?" + q.Encode()
}

var capsTmpl = template.Must(template.New("wmts").Funcs(template.FuncMap{"x": esc}).Parse(`<?xml version="1.0" encoding="UTF-8"?>
<Capabilities xmlns="http://www.opengis.net/wmts/1.0" xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:gml="http://www.opengis.net/gml" xsi:schemaLocation="http://www.opengis.net/wmts/1.0 http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd" version="1.0.0">
  <ows:ServiceIdentification>
    <ows:Title>pvs WMTS</ows:Title>
    <ows:ServiceType>OGC WMTS</ows:ServiceType>
    <ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion>
  </ows:ServiceIdentification>
  <ows:OperationsMetadata>
    <ows:Operation name="GetCapabilities">
      <ows:DCP><ows:HTTP><ows:Get xlink:href="{{x .URL}}?"><ows:Constraint name="GetEncoding"><ows:AllowedValues><ows:Value>KVP</ows:Value></ows:AllowedValues></ows:Constraint></ows:Get></ows:HTTP></ows:DCP>
    </ows:Operation>
    <ows:Operation name="GetTile">
      <ows:DCP><ows:HTTP><ows:Get xlink:href="{{x .URL}}?"><ows:Constraint name="GetEncoding"><ows:AllowedValues><ows:Value>KVP</ows:Value></ows:AllowedValues></ows:Constraint></ows:Get></ows:HTTP></ows:DCP>
    </ows:Operation>
{{- if .InfoFormats}}
    <ows:Operation name="GetFeatureInfo">
      <ows:DCP><ows:HTTP><ows:Get xlink:href="{{x .URL}}?"><ows:Constraint name="GetEncoding"><ows:AllowedValues><ows:Value>KVP</ows:Value></ows:AllowedValues></ows:Constraint></ows:Get></ows:HTTP></ows:DCP>
    </ows:Operation>
{{- end}}
  </ows:OperationsMetadata>
  <Contents>
{{- range .Layers}}
    <Layer>
      <ows:Title>{{x .Title}}</ows:Title>
      <ows:WGS84BoundingBox><ows:LowerCorner>{{.MinX}} {{.MinY}}</ows:LowerCorner><ows:UpperCorner>{{.MaxX}} {{.MaxY}}</ows:UpperCorner></ows:WGS84BoundingBox>
      <ows:Identifier>{{x .Name}}</ows:Identifier>
{{- range .BBoxes}}
      <ows:BoundingBox crs="{{.CRS}}"><ows:LowerCorner>{{.Lower}}</ows:LowerCorner><ows:UpperCorner>{{.Upper}}</ows:UpperCorner></ows:BoundingBox>
{{- end}}
{{- if .Legend}}
      <Style isDefault="true"><ows:Identifier>default</ows:Identifier><LegendURL format="image/png" xlink:href="{{x .Legend}}" width="{{.LegendWidth}}" height="{{.LegendHeight}}"/></Style>
{{- else}}
      <Style isDefault="true"><ows:Identifier>default</ows:Identifier></Style>
{{- end}}
      <Format>image/png</Format>
      <Format>image/jpeg</Format>
{{- range $.InfoFormats}}
      <InfoFormat>{{.Type}}</InfoFormat>
{{- end}}
{{- if .Time}}
      <Dimension><ows:Identifier>time</ows:Identifier><ows:UOM>ISO8601</ows:UOM><Default>{{.Time}}</Default><Value>{{.Time}}</Value></Dimension>
{{- end}}
{{- range $.Grids}}
      <TileMatrixSetLink><TileMatrixSet>{{.Name}}</TileMatrixSet></TileMatrixSetLink>
{{- end}}
{{- $l := .}}
{{- if .Time}}
      <ResourceURL format="image/png" resourceType="tile" template="{{x $.URL}}/1.0.0/{{x $l.Name}}/{Style}/{Time}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}.png"/>
      <ResourceURL format="image/jpeg" resourceType="tile" template="{{x $.URL}}/1.0.0/{{x $l.Name}}/{Style}/{Time}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}.jpeg"/>
{{- range $.InfoFormats}}
      <ResourceURL format="{{.Type}}" resourceType="FeatureInfo" template="{{x $.URL}}/1.0.0/{{x $l.Name}}/{Style}/{Time}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}/{J}/{I}.{{.Ext}}"/>
{{- end}}
{{- else}}
      <ResourceURL format="image/png" resourceType="tile" template="{{x $.URL}}/1.0.0/{{x $l.Name}}/{Style}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}.png"/>
      <ResourceURL format="image/jpeg" resourceType="tile" template="{{x $.URL}}/1.0.0/{{x $l.Name}}/{Style}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}.jpeg"/>
{{- range $.InfoFormats}}
      <ResourceURL format="{{.Type}}" resourceType="FeatureInfo" template="{{x $.URL}}/1.0.0/{{x $l.Name}}/{Style}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}/{J}/{I}.{{.Ext}}"/>
{{- end}}
{{- end}}
    </Layer>
{{- end}}
{{- range .Grids}}
    <TileMatrixSet>
      <ows:Identifier>{{.Name}}</ows:Identifier>
      <ows:BoundingBox crs="{{.BBox.CRS}}"><ows:LowerCorner>{{.BBox.Lower}}</ows:LowerCorner><ows:UpperCorner>{{.BBox.Upper}}</ows:UpperCorner></ows:BoundingBox>
      <ows:SupportedCRS>{{.CRS}}</ows:SupportedCRS>
      <WellKnownScaleSet>{{.WKSS}}</WellKnownScaleSet>
{{- range .Matrices}}
      <TileMatrix><ows:Identifier>{{.ID}}</ows:Identifier><ScaleDenominator>{{.Scale}}</ScaleDenominator><TopLeftCorner>{{.TopLeft}}</TopLeftCorner><TileWidth>{{.TileSize}}</TileWidth><TileHeight>{{.TileSize}}</TileHeight><MatrixWidth>{{.Cols}}</MatrixWidth><MatrixHeight>{{.Rows}}</MatrixHeight></TileMatrix>
{{- end}}
    </TileMatrixSet>
{{- end}}
  </Contents>
</Capabilities>
`))

// esc escapes XML text.
var esc = xmltext.Escape
