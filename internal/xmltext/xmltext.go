// Package xmltext escapes text for XML documents written by hand (the
// OGC capabilities, descriptions, exceptions and feeds).
package xmltext

import (
	"bytes"
	"encoding/xml"
)

// Escape returns s with the XML special characters escaped, fit for both
// element text and attribute values.
func Escape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
