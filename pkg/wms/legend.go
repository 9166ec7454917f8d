package wms

import (
	"bytes"
	"context"
	"image/color"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pvs/pvs/pkg/legend"
	"github.com/pvs/pvs/pkg/ows"
)

// legendFormat is the one format legends come in: they are small, and
// text and ramps would smear in JPEG.
const legendFormat = "image/png"

// getLegendGraphic answers the SLD GetLegendGraphic request of WMS 1.1.1
// and 1.3.0 with the PNG legend of a layer. WIDTH, HEIGHT, SCALE and RULE
// are hints about symbol sizes for vector styles; a raster legend has one
// size, the one capabilities advertise, so they are ignored.
func (h *Handler) getLegendGraphic(w http.ResponseWriter, r *http.Request, p params, version string) {
	lyr, bg, e := h.parseLegend(r.Context(), p)
	if e != nil {
		writeException(w, e, version, "", 0, 0, "", bgWhite, false)
		return
	}
	var buf bytes.Buffer
	if err := pngEncoder.Encode(&buf, legend.For(lyr).Draw(bg)); err != nil {
		h.Log.Error("encode legend", "layer", lyr.Name, "err", err)
		writeException(w, &ows.Exception{Code: CodeNoApplicableCode, Message: "the legend could not be encoded", Status: http.StatusInternalServerError}, version, "", 0, 0, "", bgWhite, false)
		return
	}
	w.Header().Set("Content-Type", legendFormat)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
}

// parseLegend checks a GetLegendGraphic and returns its layer and the
// background to draw on (transparent for TRANSPARENT=TRUE).
func (h *Handler) parseLegend(ctx context.Context, p params) (Layer, color.NRGBA, *ows.Exception) {
	name := p.get("LAYER")
	if name == "" {
		return Layer{}, color.NRGBA{}, errorf(CodeMissingParameterValue, "layer", "LAYER is missing")
	}
	if p.get("SLD") != "" || p.get("SLD_BODY") != "" {
		return Layer{}, color.NRGBA{}, errorf(CodeInvalidParameterValue, "sld", "SLD and SLD_BODY are not supported; legends are those of the layers' own styles")
	}
	if v := p.get("SLD_VERSION"); v != "" && v != "1.0.0" && v != "1.1.0" {
		return Layer{}, color.NRGBA{}, errorf(CodeInvalidParameterValue, "sld_version", "SLD_VERSION %q is not supported; use 1.1.0", v)
	}
	if f := p.get("FORMAT"); f != "" && f != legendFormat {
		return Layer{}, color.NRGBA{}, errorf(CodeInvalidFormat, "format", "legend format %q is not served; use %s", f, legendFormat)
	}
	bg := bgWhite
	switch t := p.get("TRANSPARENT"); {
	case strings.EqualFold(t, "TRUE"):
		bg = color.NRGBA{}
	case t != "" && !strings.EqualFold(t, "FALSE"):
		return Layer{}, color.NRGBA{}, errorf(CodeInvalidParameterValue, "transparent", "TRANSPARENT must be TRUE or FALSE")
	case p.get("BGCOLOR") != "":
		c, err := parseColor(p.get("BGCOLOR"))
		if err != nil {
			return Layer{}, color.NRGBA{}, errorf(CodeInvalidParameterValue, "bgcolor", "%v", err)
		}
		bg = c
	}
	lyr, e := h.findLayer(ctx, name)
	if e != nil {
		e.Locator = "layer"
		return Layer{}, color.NRGBA{}, e
	}
	if s := p.get("STYLE"); s != "" && !strings.EqualFold(s, "default") {
		return Layer{}, color.NRGBA{}, errorf(CodeStyleNotDefined, "style", "style %q is not defined for layer %s", s, lyr.Name)
	}
	return lyr, bg, nil
}

// legendURL is the GetLegendGraphic request of a layer's default style,
// as capabilities advertise it.
func legendURL(base, version, layerName string) string {
	sld := "1.1.0"
	if version == "1.1.1" {
		sld = "1.0.0"
	}
	q := url.Values{"SERVICE": {"WMS"}, "VERSION": {version}, "REQUEST": {"GetLegendGraphic"}, "FORMAT": {legendFormat},
		"LAYER": {layerName}, "STYLE": {"default"}, "SLD_VERSION": {sld}}
	return base + "?" + q.Encode()
}
