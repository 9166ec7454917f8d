package wmts

import (
	"testing"

	"github.com/pvs/pvs/internal/golden"
)

// The capabilities document is compared whole with a reviewed copy; run
// `go test ./pkg/wmts -update` after an intended change and review the diff.
// It validates against wmtsGetCapabilities_response.xsd.
func TestCapabilitiesGolden(t *testing.T) {
	h, _ := handler()
	body := do(h, "/wmts/1.0.0/WMTSCapabilities.xml").Body.Bytes()
	golden.Check(t, "capabilities.xml", body)
	golden.Valid(t, "capabilities.xml", body)
}
