package stac

import (
	"encoding/json"
	"slices"
	"strings"
)

// fieldSet is the fields extension's selection: dotted paths to include
// (all when none) and to exclude.
type fieldSet struct {
	include, exclude []string
}

// kept are the fields every item keeps whatever the selection: without
// them it is no longer a STAC Item a client can recognise.
var kept = []string{"type", "stac_version", "id"}

// apply returns the item with only the selected fields. An include and an
// exclude of the same path keep it; a path the item lacks is no error.
func (fs *fieldSet) apply(it Item) (map[string]any, error) {
	b, err := json.Marshal(it)
	if err != nil {
		return nil, err
	}
	var full map[string]any
	if err := json.Unmarshal(b, &full); err != nil {
		return nil, err
	}
	out := full
	if len(fs.include) > 0 {
		out = map[string]any{}
		for _, k := range kept {
			out[k] = full[k]
		}
		for _, p := range fs.include {
			copyPath(full, out, strings.Split(p, "."))
		}
	}
	for _, p := range fs.exclude {
		if slices.Contains(fs.include, p) || slices.Contains(kept, p) {
			continue
		}
		deletePath(out, strings.Split(p, "."))
	}
	return out, nil
}

// copyPath copies the value at path from src into dst, creating the
// objects on the way.
func copyPath(src, dst map[string]any, path []string) {
	v, ok := src[path[0]]
	if !ok {
		return
	}
	if len(path) == 1 {
		dst[path[0]] = v
		return
	}
	sub, ok := v.(map[string]any)
	if !ok {
		return
	}
	next, ok := dst[path[0]].(map[string]any)
	if !ok {
		next = map[string]any{}
		dst[path[0]] = next
	}
	copyPath(sub, next, path[1:])
}

func deletePath(m map[string]any, path []string) {
	if len(path) == 1 {
		delete(m, path[0])
		return
	}
	if sub, ok := m[path[0]].(map[string]any); ok {
		deletePath(sub, path[1:])
	}
}
