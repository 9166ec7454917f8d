package metadata

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// nested returns a document whose elements nest depth levels deep.
func nested(depth int) string {
	return strings.Repeat("<a>", depth) + strings.Repeat("</a>", depth)
}

func TestLimits(t *testing.T) {
	t.Parallel()
	eop := `<eop:EarthObservation xmlns:eop="http://www.opengis.net/eop/2.1"><x>` + nested(5) + `</x></eop:EarthObservation>`
	for _, c := range []struct {
		name   string
		doc    io.Reader
		limits Limits
		want   error // nil: refused for another reason than the limits, or parsed
	}{
		{name: "depth 10000", doc: strings.NewReader(nested(10000)), want: ErrTooDeep},
		{name: "depth at the limit", doc: strings.NewReader(nested(256)), want: nil},
		{name: "depth past a small limit", doc: strings.NewReader(eop), limits: Limits{MaxDepth: 6}, want: ErrTooDeep},
		{name: "size over the default", doc: io.MultiReader(strings.NewReader("<a>"), zeros(MaxDocumentSize)), want: ErrTooLarge},
		{name: "size over a small limit", doc: strings.NewReader(eop), limits: Limits{MaxBytes: 64}, want: ErrTooLarge},
		{name: "size at a small limit", doc: strings.NewReader(eop), limits: Limits{MaxBytes: int64(len(eop))}, want: nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.limits.ParseXML(c.doc)
			if c.want != nil {
				if !errors.Is(err, c.want) {
					t.Fatalf("err = %v, want %v", err, c.want)
				}
				return
			}
			// Within the limits: whatever the parse says, it is not a limit.
			if errors.Is(err, ErrTooDeep) || errors.Is(err, ErrTooLarge) {
				t.Fatalf("refused within the limits: %v", err)
			}
		})
	}
}

func TestExtractWithinLimits(t *testing.T) {
	t.Parallel()
	doc := []byte("<r>" + nested(300) + "<v>x</v></r>")
	if _, err := Extract(doc, "v"); !errors.Is(err, ErrTooDeep) {
		t.Errorf("Extract of a 300-deep document: %v", err)
	}
	got, err := Limits{MaxDepth: 400}.Extract(doc, "v")
	if err != nil || len(got) != 1 || got[0] != "x" {
		t.Errorf("Extract with a raised depth = %q, %v", got, err)
	}
}

func zeros(n int64) io.Reader { return io.LimitReader(zeroReader{}, n) }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// FuzzXMLLimits checks the guards on hostile documents: parsing never
// panics, and a document nesting deeper than the limit is always refused.
// The seed corpus is in testdata/fuzz/FuzzXMLLimits.
func FuzzXMLLimits(f *testing.F) {
	f.Add([]byte(nested(20)))
	lim := Limits{MaxBytes: 1 << 16, MaxDepth: 16}
	f.Fuzz(func(t *testing.T, doc []byte) {
		_, err := lim.ParseXML(bytes.NewReader(doc))
		if depth := maxDepth(doc); depth > lim.MaxDepth && err == nil {
			t.Fatalf("a document %d levels deep was accepted", depth)
		}
		if int64(len(doc)) > lim.MaxBytes && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("a %d-byte document: %v", len(doc), err)
		}
	})
}

// maxDepth is the nesting of doc's elements as encoding/xml sees them, up
// to the first syntax error.
func maxDepth(doc []byte) int {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return deepest
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
			deepest = max(deepest, depth)
		case xml.EndElement:
			depth--
		}
	}
}
