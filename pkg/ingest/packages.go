package ingest

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/pvs/pvs/pkg/store"
)

// Layout says how packages lie under a prefix of the source store.
type Layout struct {
	Prefix string
	// Directories: each prefix Depth levels below Prefix is a package
	// (an unpacked product, a SAFE folder); else each object whose name
	// matches Include is one.
	Directories bool
	Depth       int
	Include     []string
	// Marker must exist before a package is complete: a suffix of an
	// object package's key, or an object's name inside a directory one.
	Marker string
}

// Package is one package found under a prefix.
type Package struct {
	Path string // key of the object, or the prefix of the directory
	// Size and ModTime are the object's, or the sum of the sizes and the
	// latest time of the directory's objects.
	Size    int64
	ModTime time.Time
	Objects int
	// Marked: the completion marker exists (always true without one).
	Marked bool
}

// Fingerprint is the package's version: a change of size, time or object
// count is a new version.
func (p Package) Fingerprint() string {
	return fmt.Sprintf("%d:%d:%d", p.Size, p.ModTime.UnixMilli(), p.Objects)
}

// Packages groups a listing of l.Prefix into packages, in key order.
func (l Layout) Packages(objs []store.Object) []Package {
	if l.Directories {
		return l.directories(objs)
	}
	keys := make(map[string]bool, len(objs))
	if l.Marker != "" {
		for _, o := range objs {
			keys[o.Key] = true
		}
	}
	var out []Package
	for _, o := range objs {
		if !strings.HasPrefix(o.Key, l.Prefix) {
			continue
		}
		if l.Marker != "" && strings.HasSuffix(o.Key, l.Marker) {
			continue
		}
		if !l.included(path.Base(o.Key)) {
			continue
		}
		out = append(out, Package{Path: o.Key, Size: o.Size, ModTime: o.ModTime, Objects: 1,
			Marked: l.Marker == "" || keys[o.Key+l.Marker]})
	}
	return out
}

func (l Layout) included(name string) bool {
	if len(l.Include) == 0 {
		return true
	}
	for _, g := range l.Include {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

func (l Layout) directories(objs []store.Object) []Package {
	depth := max(l.Depth, 1)
	base := l.Prefix
	if base != "" && !strings.HasSuffix(base, "/") {
		base += "/"
	}
	var out []Package
	index := map[string]int{}
	for _, o := range objs {
		rest, ok := strings.CutPrefix(o.Key, base)
		if !ok {
			continue
		}
		parts := strings.SplitN(rest, "/", depth+1)
		if len(parts) <= depth {
			continue // an object above the package level
		}
		dir := base + strings.Join(parts[:depth], "/")
		i, seen := index[dir]
		if !seen {
			i = len(out)
			index[dir] = i
			out = append(out, Package{Path: dir, Marked: l.Marker == ""})
		}
		p := &out[i]
		if l.Marker != "" && parts[depth] == l.Marker {
			p.Marked = true
		}
		p.Size += o.Size
		p.Objects++
		if o.ModTime.After(p.ModTime) {
			p.ModTime = o.ModTime
		}
	}
	return out
}
