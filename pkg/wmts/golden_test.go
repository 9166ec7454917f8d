package wmts

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// The capabilities document is compared whole with a reviewed copy; run
// `go test ./pkg/wmts -update` after an intended change and review the diff.
func TestCapabilitiesGolden(t *testing.T) {
	h, _ := handler()
	got := do(h, "/wmts/1.0.0/WMTSCapabilities.xml").Body.Bytes()
	path := filepath.Join("testdata", "capabilities.xml")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Error("capabilities differ from the golden file; run go test ./pkg/wmts -update and review the diff")
	}
}
