package metadata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// EOProperties are the properties the catalogue keeps in columns of its
// own (OpenSearch and STAC search by platform and cloud cover), under the
// names Product.Properties gives them. Any other property is kept with the
// product's metadata. The parent identifier, which names the collection
// and a series in it, has a field of its own (Product.ParentIdentifier);
// given as a property, parentIdentifier sets it.
var EOProperties = []string{"platform", "platformSerialIdentifier", "instrument", "sensorType",
	"acquisitionType", "orbitNumber", "orbitDirection", "cloudCover"}

// Bounds of the properties a preprocess-md_queue item gives: they end up
// in a row of the catalogue, and the item comes from outside.
const (
	MaxProperties       = 64
	MaxPropertyNameLen  = 64
	MaxPropertyValueLen = 1024
)

// PropertyMap is the JSON object of properties of a preprocess-md_queue
// item: each value a string, a number or a boolean, kept as its text (a
// number as written: 12.5, 30, 1e2).
type PropertyMap map[string]string

// UnmarshalJSON reads an object of scalars; an object or array as a value
// is refused with the property it belongs to, and so is null (leave the
// property out instead).
func (m *PropertyMap) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*m = nil
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return errors.New("properties must be a JSON object of strings, numbers and booleans")
	}
	out := make(PropertyMap, len(raw))
	for _, k := range sortedKeys(raw) {
		v, err := scalar(raw[k])
		if err != nil {
			return fmt.Errorf("property %q: %w", k, err)
		}
		out[k] = v
	}
	*m = out
	return nil
}

func scalar(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", errors.New("no value")
	}
	switch v[0] {
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", err
		}
		return s, nil
	case '{', '[':
		return "", errors.New("an object or array; want a string, a number or a boolean")
	case 'n':
		return "", errors.New("null; leave the property out instead")
	}
	// true, false or a number, which the decoder has checked already.
	return string(v), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var propertyName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.:-]*$`)

// fieldHints maps the folded names of the item's own fields (see fold) to
// where their value belongs: given as properties, they would be ignored.
var fieldHints = map[string]string{
	"identifier":  "give it as the item's identifier",
	"producttype": "give it as the item's product_type",
	"begintime":   "give it as the item's begin_time",
	"endtime":     "give it as the item's end_time",
	"footprint":   "give it as the item's footprint",
	"collection":  "the collection is the deployment's; parentIdentifier may name a series in it",
}

// fold reduces a property name to what tells it apart from a misspelling
// of another: "eo:cloud_cover", "Cloud-Cover" and "cloudCover" all fold to
// "cloudcover".
func fold(name string) string {
	if _, after, ok := strings.Cut(name, ":"); ok {
		name = after
	}
	return strings.ToLower(strings.NewReplacer("_", "", "-", "", ".", "").Replace(name))
}

// CheckProperties validates the properties of a preprocess-md_queue item
// as the registrar will store them: a name of a catalogue column spelled
// otherwise (cloud_cover for cloudCover) or of one of the item's own fields
// is refused, as are a cloud cover that is not a percentage, an orbit
// number that is not a whole number, an orbit direction other than
// ASCENDING or DESCENDING, empty values and the bounds above. Any other
// property is free.
func CheckProperties(props map[string]string) error {
	if len(props) > MaxProperties {
		return fmt.Errorf("%d properties; at most %d are allowed", len(props), MaxProperties)
	}
	known := map[string]string{fold("parentIdentifier"): "parentIdentifier"}
	for _, n := range EOProperties {
		known[fold(n)] = n
	}
	for _, name := range sortedKeys(props) {
		if err := checkProperty(name, props[name], known); err != nil {
			return err
		}
	}
	return nil
}

func checkProperty(name, v string, known map[string]string) error {
	f := fold(name)
	if hint, ok := fieldHints[f]; ok {
		return fmt.Errorf("property %q: %s", name, hint)
	}
	if k, ok := known[f]; ok && k != name {
		return fmt.Errorf("property %q: the catalogue's property is spelled %s", name, k)
	}
	if len(name) > MaxPropertyNameLen || !propertyName.MatchString(name) {
		return fmt.Errorf("property name %q: want a letter, then letters, digits, '_', '-', '.' or ':', at most %d in all", name, MaxPropertyNameLen)
	}
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("property %s is empty; leave it out instead", name)
	}
	if len(v) > MaxPropertyValueLen {
		return fmt.Errorf("property %s is %d bytes long; at most %d are allowed", name, len(v), MaxPropertyValueLen)
	}
	if strings.IndexFunc(v, unfit) >= 0 {
		return fmt.Errorf("property %s holds a control character or a non-character", name)
	}
	switch name {
	case "cloudCover":
		c, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(c) || c < 0 || c > 100 {
			return fmt.Errorf("property cloudCover %q is not a percentage (a number from 0 to 100)", v)
		}
	case "orbitNumber":
		if _, err := strconv.ParseUint(v, 10, 63); err != nil {
			return fmt.Errorf("property orbitNumber %q is not an orbit number (a whole number, 0 or more)", v)
		}
	case "orbitDirection":
		if v != "ASCENDING" && v != "DESCENDING" {
			return fmt.Errorf("property orbitDirection %q: want ASCENDING or DESCENDING", v)
		}
	}
	return nil
}

// unfit tells the characters a property value may not hold: controls, and
// the non-characters XML cannot carry (GSC would turn them into U+FFFD).
func unfit(r rune) bool {
	return unicode.IsControl(r) || r == 0xFFFE || r == 0xFFFF
}
