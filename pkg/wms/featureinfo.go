package wms

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pvs/pvs/pkg/ows"
)

// Feature is a product found at a queried pixel.
type Feature struct {
	Identifier  string
	Collection  string
	ProductType string
	BeginTime   time.Time
	EndTime     time.Time
	Properties  map[string]string
	// Footprint is GeoJSON (EPSG:4326), when known.
	Footprint json.RawMessage
}

// FeatureInfoer finds the products at a point.
type FeatureInfoer interface {
	// FeatureInfo returns up to count products of the request's layer and
	// times whose footprint holds point (x/y in the request's CRS), newest
	// first.
	FeatureInfo(ctx context.Context, req MapRequest, point [2]float64, count int) ([]Feature, error)
}

// infoFormats are the INFO_FORMATs served, the first the default.
var infoFormats = []string{"text/html", "application/json", "text/xml", "text/plain"}

// Codes of WMS 1.3.0 for GetFeatureInfo.
const (
	CodeLayerNotQueryable = "LayerNotQueryable"
	CodeInvalidPoint      = "InvalidPoint"
)

func (h *Handler) getFeatureInfo(w http.ResponseWriter, r *http.Request, p params, version string) {
	fail := func(e *ows.Exception) { writeException(w, e, version, p.get("EXCEPTIONS"), 0, 0, "", bgWhite, false) }
	fi, ok := h.Backend.(FeatureInfoer)
	if !ok {
		fail(errorf(CodeOperationNotSupported, "request", "GetFeatureInfo is not served"))
		return
	}
	// The map the client drew: the same parameters as GetMap.
	if p.get("FORMAT") == "" {
		p["FORMAT"] = "image/png"
	}
	mr, e := h.parseGetMap(r.Context(), p, version)
	if e != nil {
		fail(e)
		return
	}
	ql := p.get("QUERY_LAYERS")
	if ql == "" {
		fail(errorf(CodeMissingParameterValue, "query_layers", "QUERY_LAYERS is missing"))
		return
	}
	if ql != mr.layer.Name {
		fail(errorf(CodeLayerNotQueryable, "query_layers", "layer %q is not among LAYERS", ql))
		return
	}
	format := p.get("INFO_FORMAT")
	if format == "" {
		format = infoFormats[0]
	}
	known := false
	for _, f := range infoFormats {
		known = known || f == format
	}
	if !known {
		fail(errorf(CodeInvalidFormat, "info_format", "INFO_FORMAT %q is not served; use one of %s", format, strings.Join(infoFormats, ", ")))
		return
	}
	ik, jk := "I", "J"
	if version == "1.1.1" {
		ik, jk = "X", "Y"
	}
	i, err1 := strconv.Atoi(p.get(ik))
	j, err2 := strconv.Atoi(p.get(jk))
	if p.get(ik) == "" || p.get(jk) == "" {
		fail(errorf(CodeMissingParameterValue, strings.ToLower(ik), "%s and %s are required", ik, jk))
		return
	}
	req := mr.req
	if err1 != nil || err2 != nil || i < 0 || j < 0 || i >= req.Width || j >= req.Height {
		code := CodeInvalidPoint
		if version == "1.1.1" {
			code = CodeInvalidParameterValue
		}
		fail(errorf(code, strings.ToLower(ik), "%s=%s %s=%s is not a pixel of the %dx%d map", ik, p.get(ik), jk, p.get(jk), req.Width, req.Height))
		return
	}
	count := 1
	if c := p.get("FEATURE_COUNT"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 1 {
			fail(errorf(CodeInvalidParameterValue, "feature_count", "FEATURE_COUNT must be a positive integer"))
			return
		}
		count = min(n, 50)
	}
	b := req.BBox
	pt := [2]float64{b[0] + (float64(i)+0.5)*(b[2]-b[0])/float64(req.Width), b[3] - (float64(j)+0.5)*(b[3]-b[1])/float64(req.Height)}
	feats, err := fi.FeatureInfo(r.Context(), req, pt, count)
	if err != nil {
		h.Log.Error("feature info", "layer", mr.layer.Name, "err", err)
		fail(&ows.Exception{Code: CodeNoApplicableCode, Message: "the query failed; the error is logged", Status: http.StatusInternalServerError})
		return
	}
	w.Header().Set("Content-Type", format+"; charset=utf-8")
	switch format {
	case "application/json":
		writeFeatureJSON(w, feats)
	case "text/xml":
		writeFeatureXML(w, mr.layer.Name, feats)
	case "text/plain":
		for _, f := range feats {
			fmt.Fprintf(w, "%s\t%s\t%s/%s\n", f.Identifier, f.ProductType, f.BeginTime.UTC().Format(time.RFC3339), f.EndTime.UTC().Format(time.RFC3339))
		}
	default:
		featureHTML.Execute(w, struct {
			Layer    string
			Features []Feature
		}{mr.layer.Name, feats})
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func writeFeatureJSON(w http.ResponseWriter, feats []Feature) {
	type feature struct {
		Type       string          `json:"type"`
		ID         string          `json:"id"`
		Geometry   json.RawMessage `json:"geometry"`
		Properties map[string]any  `json:"properties"`
	}
	fc := struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}{Type: "FeatureCollection", Features: []feature{}}
	for _, f := range feats {
		props := map[string]any{"collection": f.Collection, "productType": f.ProductType,
			"beginTime": f.BeginTime.UTC().Format(time.RFC3339Nano), "endTime": f.EndTime.UTC().Format(time.RFC3339Nano)}
		for k, v := range f.Properties {
			props[k] = v
		}
		geom := f.Footprint
		if len(geom) == 0 {
			geom = json.RawMessage("null")
		}
		fc.Features = append(fc.Features, feature{Type: "Feature", ID: f.Identifier, Geometry: geom, Properties: props})
	}
	json.NewEncoder(w).Encode(fc)
}

func writeFeatureXML(w http.ResponseWriter, layer string, feats []Feature) {
	type prop struct {
		Name  string `xml:"name,attr"`
		Value string `xml:",chardata"`
	}
	type feature struct {
		Identifier  string `xml:"identifier"`
		Collection  string `xml:"collection"`
		ProductType string `xml:"productType"`
		BeginTime   string `xml:"beginTime"`
		EndTime     string `xml:"endTime"`
		Properties  []prop `xml:"property"`
	}
	doc := struct {
		XMLName  xml.Name  `xml:"FeatureInfoResponse"`
		Layer    string    `xml:"layer,attr"`
		Features []feature `xml:"Feature"`
	}{Layer: layer}
	for _, f := range feats {
		fx := feature{Identifier: f.Identifier, Collection: f.Collection, ProductType: f.ProductType,
			BeginTime: f.BeginTime.UTC().Format(time.RFC3339Nano), EndTime: f.EndTime.UTC().Format(time.RFC3339Nano)}
		for _, k := range sortedKeys(f.Properties) {
			fx.Properties = append(fx.Properties, prop{Name: k, Value: f.Properties[k]})
		}
		doc.Features = append(doc.Features, fx)
	}
	w.Write([]byte(xml.Header))
	xml.NewEncoder(w).Encode(doc)
}

var featureHTML = template.Must(template.New("fi").Funcs(template.FuncMap{"keys": sortedKeys,
	"t": func(t time.Time) string { return t.UTC().Format(time.RFC3339) }}).Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Layer}}</title></head><body>
{{- if not .Features}}<p>No product here.</p>{{end}}
{{- range .Features}}
<table>
<tr><th>identifier</th><td>{{.Identifier}}</td></tr>
<tr><th>collection</th><td>{{.Collection}}</td></tr>
<tr><th>product type</th><td>{{.ProductType}}</td></tr>
<tr><th>time</th><td>{{t .BeginTime}} / {{t .EndTime}}</td></tr>
{{- $p := .Properties}}{{range keys $p}}
<tr><th>{{.}}</th><td>{{index $p .}}</td></tr>
{{- end}}
</table>
{{- end}}
</body></html>
`))
