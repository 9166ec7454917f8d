package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The dependency rule of docs/architecture.md: protocol packages never
// reach storage backends, the registry or the queue; domain packages never
// reach a concrete store.
func TestDependencyRule(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not available")
	}
	rules := map[string][]string{
		"github.com/pvs/pvs/pkg/wms":        {"pkg/store/file", "pkg/store/s3", "pkg/registry", "pkg/queue", "pkg/tilecache"},
		"github.com/pvs/pvs/pkg/wcs":        {"pkg/store/file", "pkg/store/s3", "pkg/registry", "pkg/queue", "pkg/tilecache"},
		"github.com/pvs/pvs/pkg/opensearch": {"pkg/store/file", "pkg/store/s3", "pkg/registry", "pkg/queue", "pkg/tilecache"},
		"github.com/pvs/pvs/pkg/wmts":       {"pkg/store/file", "pkg/store/s3", "pkg/registry", "pkg/queue", "pkg/tilecache", "pkg/render"},
		"github.com/pvs/pvs/pkg/preprocess": {"pkg/store/file", "pkg/store/s3", "pkg/registry"},
		"github.com/pvs/pvs/pkg/register":   {"pkg/store/file", "pkg/store/s3"},
		"github.com/pvs/pvs/pkg/render":     {"pkg/store/file", "pkg/store/s3", "pkg/queue"},
		"github.com/pvs/pvs/pkg/seed":       {"pkg/store/file", "pkg/store/s3", "pkg/tilecache"},
		"github.com/pvs/pvs/pkg/tilecache":  {"pkg/store/file", "pkg/store/s3", "pkg/registry"},
	}
	for pkg, forbidden := range rules {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		for _, f := range forbidden {
			for _, d := range deps {
				if d == "github.com/pvs/pvs/"+f {
					t.Errorf("%s depends on %s", pkg, f)
				}
			}
		}
	}
}
