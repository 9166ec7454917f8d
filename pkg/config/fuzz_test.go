package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: any collection file either loads, with defaults set and
// validated, or is refused with an error; it never panics.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../../config/*.yaml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("collection:\n  name: C\n  product_types: [{name: T, data_globs: ['*.tif']}]\n  browses: [{name: B, bands: [1, 2, 3], range: [0, 4000]}]\n")
	f.Add("collection: {name: C, browses: [{name: N, expression: (B4-B1)/(B4+B1)}]}\nrenderer: {max_size: -1}\n")
	f.Add("redis: {url: 'redis://:secret@h:1/0'}\n")
	f.Fuzz(func(t *testing.T, raw string) {
		// Secret files are read as given: an operator's path, not fuzz
		// input (a fuzzed /dev/zero would never end).
		if strings.Contains(raw, "file") || strings.Contains(raw, "${") {
			return
		}
		c, err := Parse([]byte(raw), func(string) (string, bool) { return "", false })
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("a loaded configuration fails validation: %v", err)
		}
		if c.Collection.Name == "" {
			t.Fatal("a loaded configuration has no collection name")
		}
	})
}
