package metadata

import "encoding/json"

// MDItem is the document of a preprocess-md_queue item (docs/queues.md):
// where the package is, plus metadata that takes precedence over what the
// package's own metadata says. The preprocessor reads it and the ingestor
// writes it, each with methods of its own on a type of this layout.
type MDItem struct {
	Path       string `json:"path"`
	Identifier string `json:"identifier,omitempty"`
	// ProductType picks the collection's product type of that name, as
	// the metadata's eop:productType does, and overrides it.
	ProductType string          `json:"product_type,omitempty"`
	BeginTime   string          `json:"begin_time,omitempty"`
	EndTime     string          `json:"end_time,omitempty"`
	Footprint   json.RawMessage `json:"footprint,omitempty"`
	// Properties are EO properties by their metadata names (platform,
	// cloudCover, ..., see EOProperties), each overriding the package's;
	// others are kept with the product's metadata. parentIdentifier sets
	// the parent identifier.
	Properties PropertyMap `json:"properties,omitempty"`
}
