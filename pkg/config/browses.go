package config

import "fmt"

// BrowseFor is browse name as products of productType are drawn: the
// collection's browse with what the type's own entry of that name sets
// (bands or an expression, range, resampling) in its place. ok is false
// when the collection has no such browse.
func (c Collection) BrowseFor(productType, name string) (b Browse, ok bool) {
	for _, cb := range c.Browses {
		if cb.Name == name {
			b, ok = cb, true
			break
		}
	}
	if !ok {
		return Browse{}, false
	}
	for _, pt := range c.ProductTypes {
		if pt.Name != productType {
			continue
		}
		for _, tb := range pt.Browses {
			if tb.Name == name {
				return merge(b, tb), true
			}
		}
	}
	return b, true
}

// TypeBrowses lists, by product type, the browse name as drawn for the
// types that change it.
func (c Collection) TypeBrowses(name string) map[string]Browse {
	var out map[string]Browse
	for _, pt := range c.ProductTypes {
		for _, tb := range pt.Browses {
			if tb.Name != name {
				continue
			}
			if b, ok := c.BrowseFor(pt.Name, name); ok {
				if out == nil {
					out = map[string]Browse{}
				}
				out[pt.Name] = b
			}
		}
	}
	return out
}

// merge overlays what a product type's browse sets on the collection's.
func merge(b, tb Browse) Browse {
	switch {
	case len(tb.Bands) > 0:
		b.Bands, b.Expression = tb.Bands, ""
	case tb.Expression != "":
		b.Bands, b.Expression = nil, tb.Expression
	}
	if len(tb.Range) > 0 {
		b.Range = tb.Range
	}
	if tb.Resampling != "" {
		b.Resampling = tb.Resampling
	}
	return b
}

// validateTypeBrowses checks that each product type's browses name a
// browse of the collection and that the browse they make is valid.
func (c Collection) validateTypeBrowses(bad func(field, format string, args ...any)) {
	for i, pt := range c.ProductTypes {
		for j, tb := range pt.Browses {
			f := fmt.Sprintf("collection.product_types[%d].browses[%d]", i, j)
			b, ok := c.BrowseFor(pt.Name, tb.Name)
			if !ok {
				bad(f+".name", "%q is not a browse of the collection (%v)", tb.Name, c.BrowseNames())
				continue
			}
			validateBrowse(f, b, bad)
		}
	}
}
