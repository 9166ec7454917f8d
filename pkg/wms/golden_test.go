package wms

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// Capabilities documents are compared whole with reviewed copies; run
// `go test ./pkg/wms -update` after an intended change and review the diff.
func TestCapabilitiesGolden(t *testing.T) {
	h, _ := newHandler()
	for name, q := range map[string]string{
		"capabilities_130.xml": "SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0",
		"capabilities_111.xml": "SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.1.1",
	} {
		got := get(h, q).Body.Bytes()
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from the golden file; run go test ./pkg/wms -update and review the diff", name)
		}
	}
}
