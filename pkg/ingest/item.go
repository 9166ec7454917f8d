package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/metadata"
)

// Document is a preprocess-md_queue item, as the preprocessor reads it
// (metadata.MDItem's layout, docs/queues.md): the package's path plus
// metadata that takes precedence over the package's own.
type Document metadata.MDItem

// Metadata reports whether the document says more than where the package
// is (else the package goes to preprocess_queue as its bare path).
func (d Document) Metadata() bool {
	return d.Identifier != "" || d.ProductType != "" || d.BeginTime != "" || d.EndTime != "" || len(d.Footprint) > 0 ||
		len(d.Properties) > 0
}

// Request is the request that queues the document: its bare path on
// preprocess_queue when it has no metadata, else the document itself,
// encoded always the same way, on preprocess-md_queue.
func (d Document) Request(origin string) Request {
	// A directory package is one path, with or without its slash.
	d.Path = strings.TrimSuffix(d.Path, "/")
	if !d.Metadata() {
		return PathRequest(d.Path, origin)
	}
	if len(d.Footprint) > 0 {
		var b bytes.Buffer
		if json.Compact(&b, d.Footprint) == nil {
			d.Footprint = b.Bytes()
		}
	}
	raw, _ := json.Marshal(d)
	return Request{Path: d.Path, Queue: MetadataQueue, Item: string(raw), Origin: origin}
}

// ParseDocument decodes a preprocess-md_queue item strictly: unknown
// fields are refused, as the preprocessor refuses them.
func ParseDocument(raw []byte) (Document, error) {
	var d Document
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, fmt.Errorf("not a preprocess-md_queue document: %w", err)
	}
	if dec.More() {
		return d, errors.New("not a preprocess-md_queue document: more than one JSON value")
	}
	return d, nil
}

// CheckPath refuses what cannot be a key of the source store.
func CheckPath(p string) error {
	switch {
	case p == "":
		return errors.New("path is empty")
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("path %q: a key of the source store, without a leading /", p)
	case strings.Contains(p, "://"):
		return fmt.Errorf("path %q: a key of the source store, not a URL", p)
	case strings.ContainsAny(p, "\x00\n\r\\"):
		return fmt.Errorf("path %q holds a NUL, a line break or a backslash", p)
	}
	for _, seg := range strings.Split(strings.TrimSuffix(p, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("path %q has an empty, . or .. segment", p)
		}
	}
	if path.Clean(p) != strings.TrimSuffix(p, "/") {
		return fmt.Errorf("path %q is not clean", p)
	}
	return nil
}

// Check validates the document as the preprocessor will read it, so that
// a bad one is refused at the door with its reason instead of failing in
// the queue: the path, the identifier, the times and the footprint, a
// product type the collection lists, and the properties (a parentIdentifier
// must name the collection).
func (d Document) Check(coll config.Collection) error {
	if err := CheckPath(d.Path); err != nil {
		return err
	}
	if d.Identifier != "" && (strings.ContainsAny(d.Identifier, "/\\\x00") || d.Identifier == "." || d.Identifier == "..") {
		return fmt.Errorf("identifier %q contains a path separator", d.Identifier)
	}
	if d.ProductType != "" && len(coll.ProductTypes) > 0 && !slices.Contains(coll.ProductTypeNames(), d.ProductType) {
		return fmt.Errorf("product_type %q is not one of collection %s (it lists %s)", d.ProductType, coll.Name,
			strings.Join(coll.ProductTypeNames(), ", "))
	}
	if err := metadata.CheckProperties(d.Properties); err != nil {
		return err
	}
	// The preprocessor's rule (config.Collection.Accepts) for the
	// collection a parentIdentifier names.
	if parent := strings.TrimSpace(d.Properties["parentIdentifier"]); parent != "" && metadata.CollectionOf(parent) != coll.Name {
		id := d.Identifier
		if id == "" {
			id = d.Path
		}
		other := metadata.CollectionOf(parent)
		return fmt.Errorf("product %s belongs to collection %s (parentIdentifier %s), not %s; enqueue it to the %s deployment",
			id, other, parent, coll.Name, other)
	}
	var begin, end time.Time
	for _, f := range []struct {
		name, v string
		t       *time.Time
	}{{"begin_time", d.BeginTime, &begin}, {"end_time", d.EndTime, &end}} {
		if f.v == "" {
			continue
		}
		t, err := metadata.ParseTime(f.v)
		if err != nil {
			return fmt.Errorf("%s: %w (want RFC 3339, e.g. 2018-06-15T10:00:00Z)", f.name, err)
		}
		*f.t = t
	}
	if !begin.IsZero() && !end.IsZero() && end.Before(begin) {
		return fmt.Errorf("end_time %s is before begin_time %s", d.EndTime, d.BeginTime)
	}
	if len(d.Footprint) > 0 {
		fp, err := metadata.ParseGeoJSONPolygons(d.Footprint)
		if err != nil {
			return fmt.Errorf("footprint: %w", err)
		}
		p := metadata.Product{Identifier: "x", Footprint: fp}
		p.BeginTime, p.EndTime = metadataEpoch, metadataEpoch
		if err := p.Validate(); err != nil {
			return fmt.Errorf("footprint: %w", err)
		}
	}
	return nil
}

// metadataEpoch fills the times a footprint check does not look at.
var metadataEpoch = time.Unix(0, 0).UTC()
