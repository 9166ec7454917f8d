// Package metadata reads product metadata (OGC EO O&M 2.x "EOP" and ESA GSC
// documents) into one normalised Product, and writes the GSC-style document
// that the preprocessor hands to the registrar. Parsing refuses DOCTYPEs, so
// entity tricks (external entities, expansion bombs) never reach the parser.
package metadata
