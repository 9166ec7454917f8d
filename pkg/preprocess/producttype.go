package preprocess

import (
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/metadata"
)

// declarations caches what each metadata file of a package declares, so
// that trying product types in turn parses each file once.
type declarations struct {
	lim   Limits
	files map[string]metadata.Product
}

// of returns what the metadata file meta declares. A file that does not
// parse declares nothing here: it may not be EO metadata at all (an
// aux.xml), and if it is the type's metadata, reading it later says why
// it is unreadable.
func (d *declarations) of(meta string) metadata.Product {
	if d.files == nil {
		d.files = map[string]metadata.Product{}
	}
	if p, ok := d.files[meta]; ok {
		return p
	}
	p, _ := readMetadata(meta, d.lim)
	d.files[meta] = p
	return p
}

// checkDeclared refuses a package whose metadata names another collection
// or a product type the collection does not list; nil when it names
// neither (formats without eop:productType, recognised by globs and type
// extractors as before) or when they are the collection's.
func checkDeclared(c config.Collection, p metadata.Product) error {
	if p.Collection == "" && p.ProductType == "" {
		return nil
	}
	if p.ProductType == "" && len(c.ProductTypes) > 0 {
		// Only the collection to check: any type of it will do.
		return c.Accepts(p.Identifier, p.Collection, p.ParentIdentifier, c.ProductTypes[0].Name)
	}
	return c.Accepts(p.Identifier, p.Collection, p.ParentIdentifier, p.ProductType)
}
