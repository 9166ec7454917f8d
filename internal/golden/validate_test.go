package golden

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every capabilities document (and coverage description) the golden files
// hold validates against its OGC schema, as strict clients expect; a golden
// XML file with a root element no schema is known for must be listed here.
func TestGoldenDocumentsValidate(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "pkg", "*", "testdata", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	withoutSchema := map[string]bool{"pkg/opensearch/testdata/description.xml": true} // no OpenSearch schema offline
	validated := 0
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		rel = filepath.ToSlash(rel)
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if withoutSchema[rel] {
			continue
		}
		t.Run(strings.ReplaceAll(rel, "/", "_"), func(t *testing.T) {
			Valid(t, rel, doc)
		})
		validated++
	}
	if validated < 6 {
		t.Errorf("validated %d golden documents; the WMS, WMTS and WCS goldens should be at least 6", validated)
	}
}

// Broken documents are caught: the schema check is not vacuous.
func TestValidateRejects(t *testing.T) {
	dir := Schemas(t)
	for name, c := range map[string]struct {
		doc  string
		want string
	}{
		"1.1.1 with xmlns:xlink on the root": {`<?xml version="1.0"?>
<!DOCTYPE WMT_MS_Capabilities SYSTEM "http://schemas.opengis.net/wms/1.1.1/WMS_MS_Capabilities.dtd">
<WMT_MS_Capabilities version="1.1.1" xmlns:xlink="http://www.w3.org/1999/xlink"><Service><Name>OGC:WMS</Name><Title>t</Title><OnlineResource xlink:href="http://x/"/></Service></WMT_MS_Capabilities>`, "xmlns:xlink"},
		"WMTS with an unknown element": {`<?xml version="1.0"?>
<Capabilities xmlns="http://www.opengis.net/wmts/1.0" version="1.0.0"><Bogus/></Capabilities>`, "Bogus"},
		"no DOCTYPE":   {`<?xml version="1.0"?><WMT_MS_Capabilities version="1.1.1"/>`, "no DTD found"},
		"unknown root": {`<foo/>`, ""},
	} {
		err := Validate(dir, []byte(c.doc))
		switch {
		case err == nil:
			t.Errorf("%s: validates", name)
		case c.want == "" && !errors.Is(err, ErrNoSchema):
			t.Errorf("%s: %v, want ErrNoSchema", name, err)
		case !strings.Contains(err.Error(), c.want):
			t.Errorf("%s: %v, want it to mention %q", name, err, c.want)
		}
	}
}
