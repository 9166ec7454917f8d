package main

import (
	"os/exec"
	"strings"
	"testing"
)

// prometheus is the metrics library: only pkg/telemetry (and the daemons
// through it) know it; the queue, seeder and tile cache report through
// interfaces of their own (queue.Observer, seed.Observer).
const prometheus = "github.com/prometheus/client_golang/prometheus"

// pgx is the PostgreSQL driver: only pkg/registry (and the daemons that
// open it) know it.
const pgx = "github.com/jackc/pgx/v5"

// The dependency rule of docs/architecture.md: protocol packages never
// reach storage backends, the registry or the queue; domain packages never
// reach a concrete store; nothing but pkg/registry and the daemons reaches
// PostGIS: the catalogue's consumers speak pkg/catalog; telemetry sits beside the daemons and reaches
// only the queue's contract. A rule starting with pkg/ names a package of
// this module, any other a full import path.
func TestDependencyRule(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not available")
	}
	rules := map[string][]string{
		"github.com/pvs/pvs/pkg/catalog":    {"pkg/store", "pkg/registry", "pkg/queue", "pkg/tilecache", "pkg/render", "pkg/config", pgx},
		"github.com/pvs/pvs/pkg/backend":    {"pkg/store/file", "pkg/store/s3", "pkg/registry", "pkg/queue", "pkg/tilecache", pgx},
		"github.com/pvs/pvs/pkg/wms":        {"pkg/store/file", "pkg/store/s3", "pkg/registry", "pkg/queue", "pkg/tilecache", pgx},
		"github.com/pvs/pvs/pkg/wcs":        {"pkg/store/file", "pkg/store/s3", "pkg/registry", "pkg/queue", "pkg/tilecache", pgx},
		"github.com/pvs/pvs/pkg/opensearch": {"pkg/store/file", "pkg/store/s3", "pkg/registry", "pkg/queue", "pkg/tilecache", pgx},
		"github.com/pvs/pvs/pkg/stac":       {"pkg/store/file", "pkg/store/s3", "pkg/registry", "pkg/queue", "pkg/tilecache", pgx},
		"github.com/pvs/pvs/pkg/ingest":     {"pkg/store/file", "pkg/store/s3", "pkg/registry", "pkg/render", pgx, prometheus},
		"github.com/pvs/pvs/pkg/webclient":  {"pkg/store", "pkg/registry", "pkg/queue", "pkg/tilecache", "pkg/render", pgx},
		"github.com/pvs/pvs/pkg/ops":        {"pkg/store/file", "pkg/store/s3", "pkg/registry", "pkg/render", pgx},
		"github.com/pvs/pvs/pkg/admin":      {"pkg/store/file", "pkg/store/s3", "pkg/registry", "pkg/render", "pkg/tilecache", pgx},
		"github.com/pvs/pvs/pkg/wmts":       {"pkg/store/file", "pkg/store/s3", "pkg/registry", "pkg/queue", "pkg/tilecache", "pkg/render", pgx},
		"github.com/pvs/pvs/pkg/preprocess": {"pkg/store/file", "pkg/store/s3", "pkg/registry", pgx},
		"github.com/pvs/pvs/pkg/register":   {"pkg/store/file", "pkg/store/s3", "pkg/registry", pgx},
		"github.com/pvs/pvs/pkg/render":     {"pkg/store/file", "pkg/store/s3", "pkg/queue", "pkg/registry", pgx},
		"github.com/pvs/pvs/pkg/seed":       {"pkg/store/file", "pkg/store/s3", "pkg/tilecache", "pkg/registry", pgx, prometheus},
		"github.com/pvs/pvs/pkg/tilecache":  {"pkg/store/file", "pkg/store/s3", "pkg/registry", prometheus},
		"github.com/pvs/pvs/pkg/queue":      {prometheus},
		"github.com/pvs/pvs/pkg/telemetry": {"pkg/store", "pkg/store/file", "pkg/store/s3", "pkg/registry", "pkg/render",
			"pkg/tilecache", "pkg/seed", "pkg/wms", "pkg/wmts", "pkg/wcs", "pkg/opensearch", "pkg/preprocess", "pkg/register"},
		"github.com/pvs/pvs/pkg/legend":     {"pkg/store", "pkg/registry", "pkg/queue", "pkg/tilecache", "pkg/render"},
		"github.com/pvs/pvs/pkg/ows":        {"pkg/store", "pkg/store/file", "pkg/store/s3", "pkg/registry", "pkg/queue", "pkg/tilecache", "pkg/render"},
		"github.com/pvs/pvs/pkg/httpserver": {"pkg/store", "pkg/registry", "pkg/queue", "pkg/tilecache", "pkg/render", "pkg/telemetry"},
		"github.com/pvs/pvs/pkg/sysmem":     {"pkg/store", "pkg/registry", "pkg/queue", "pkg/config"},
	}
	for pkg, forbidden := range rules {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		for _, f := range forbidden {
			if strings.HasPrefix(f, "pkg/") {
				f = "github.com/pvs/pvs/" + f
			}
			for _, d := range deps {
				if d == f {
					t.Errorf("%s depends on %s", pkg, f)
				}
			}
		}
	}
}
