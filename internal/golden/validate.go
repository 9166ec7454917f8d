package golden

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// A schema is what a document with a given root element must satisfy: an
// XSD under the schemas folder, or the DTD its own DOCTYPE names.
type schema struct {
	xsd string // path under the schemas folder; empty: the DOCTYPE's DTD
}

// schemas maps a root element ("namespace local") to its schema. WMS 1.3.0
// goes through the local wrapper that adds the SLD 1.1.0 capabilities
// extension, since the documents advertise sld:GetLegendGraphic.
var schemas = map[string]schema{
	" WMT_MS_Capabilities":                                {},
	"http://www.opengis.net/wms WMS_Capabilities":         {xsd: "wms-1.3.0-with-sld.xsd"},
	"http://www.opengis.net/wmts/1.0 Capabilities":        {xsd: "schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd"},
	"http://www.opengis.net/wcs/2.0 Capabilities":         {xsd: "schemas.opengis.net/wcs/2.0/wcsGetCapabilities.xsd"},
	"http://www.opengis.net/wcs/2.0 CoverageDescriptions": {xsd: "schemas.opengis.net/wcs/2.0/wcsDescribeCoverage.xsd"},
}

// ErrNoSchema is returned by Validate for a document whose root element
// has no schema here (an OpenSearch description, say).
var ErrNoSchema = errors.New("no schema known for the root element")

// SchemasDir returns the offline copy of the OGC schemas with its XML
// catalog: $PVS_SCHEMAS, or ../shared/schemas beside the module's root
// (where CI puts a copy of shared/).
func SchemasDir() (string, error) {
	if d := os.Getenv("PVS_SCHEMAS"); d != "" {
		return filepath.Abs(d)
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(root), "shared", "schemas"), nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Valid fails the test unless doc validates against the schema of its
// root element.
func Valid(t testing.TB, name string, doc []byte) {
	t.Helper()
	if err := Validate(Schemas(t), doc); err != nil {
		t.Errorf("%s: %v", name, err)
	}
}

// Schemas returns the schemas folder for Validate. Without xmllint or the
// schemas the test is skipped, unless PVS_INTEGRATION=1 (CI), where both
// must be present.
func Schemas(t testing.TB) string {
	t.Helper()
	dir, err := SchemasDir()
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "catalog.xml"))
	}
	if err == nil {
		_, err = exec.LookPath("xmllint")
	}
	if err != nil {
		if os.Getenv("PVS_INTEGRATION") == "1" {
			t.Fatalf("schema validation: %v (xmllint comes from libxml2-utils; the schemas from ../shared/schemas or $PVS_SCHEMAS)", err)
		}
		t.Skipf("schema validation: %v", err)
	}
	return dir
}

// Validate checks doc with xmllint against the schema of its root element,
// resolving every schema URL through the catalog in dir (no network).
func Validate(dir string, doc []byte) error {
	root, err := rootElement(doc)
	if err != nil {
		return err
	}
	s, ok := schemas[root]
	if !ok {
		return fmt.Errorf("%w %q", ErrNoSchema, root)
	}
	f, err := os.CreateTemp("", "pvs-validate-*.xml")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(doc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	args := []string{"--nonet", "--noout"}
	if s.xsd != "" {
		args = append(args, "--schema", filepath.Join(dir, s.xsd))
	} else {
		args = append(args, "--valid")
	}
	cmd := exec.Command("xmllint", append(args, f.Name())...)
	cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+filepath.Join(dir, "catalog.xml"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("not valid against %s: %v\n%s", schemaName(s), err, out)
	}
	return nil
}

func schemaName(s schema) string {
	if s.xsd == "" {
		return "its DTD"
	}
	return s.xsd
}

// rootElement returns "namespace local" of the document's first element.
func rootElement(doc []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return "", errors.New("no root element")
		}
		if err != nil {
			return "", fmt.Errorf("not XML: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Space + " " + se.Name.Local, nil
		}
	}
}
