package wms

import (
	"testing"

	"github.com/pvs/pvs/internal/golden"
)

// Capabilities documents are compared whole with reviewed copies; run
// `go test ./pkg/wms -update` after an intended change and review the diff.
// Both validate against their OGC schemas: 1.1.1 against its DTD, 1.3.0
// against the XSD with the SLD extension (for GetLegendGraphic).
func TestCapabilitiesGolden(t *testing.T) {
	h, _ := newHandler()
	for name, q := range map[string]string{
		"capabilities_130.xml": "SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0",
		"capabilities_111.xml": "SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.1.1",
	} {
		body := get(h, q).Body.Bytes()
		golden.Check(t, name, body)
		golden.Valid(t, name, body)
	}
}

// Legends are compared byte for byte with reviewed PNGs; look at the
// rewritten testdata/legend_*.png after -update.
func TestLegendGolden(t *testing.T) {
	h, _ := newHandler()
	for _, name := range []string{"TRUE_COLOR", "GREY", "FALSE_COLOR", "NDVI", "outlines", "outlined"} {
		rec := get(h, "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&FORMAT=image/png&SLD_VERSION=1.1.0&LAYER=VHR_IMAGE_2018__"+name)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/png" {
			t.Fatalf("%s: %d %s %s", name, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		golden.Check(t, "legend_"+name+".png", rec.Body.Bytes())
	}
}
