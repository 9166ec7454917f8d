package wms

import (
	"testing"

	"github.com/pvs/pvs/internal/golden"
)

// Capabilities documents are compared whole with reviewed copies; run
// `go test ./pkg/wms -update` after an intended change and review the diff.
func TestCapabilitiesGolden(t *testing.T) {
	h, _ := newHandler()
	for name, q := range map[string]string{
		"capabilities_130.xml": "SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0",
		"capabilities_111.xml": "SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.1.1",
	} {
		golden.Check(t, name, get(h, q).Body.Bytes())
	}
}
