package metadata

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Product is the normalised description of one product.
type Product struct {
	Identifier string
	// Collection is the collection part of ParentIdentifier (see
	// CollectionOf); empty when the metadata names none.
	Collection string
	// ParentIdentifier is eop:parentIdentifier as the metadata gives it:
	// the collection, optionally followed by "/" and a series within it
	// ("Emergency/DM02_RGB_1B").
	ParentIdentifier string
	// ProductType is eop:productType; empty when the format has none
	// (the collection's type extractors then decide).
	ProductType string
	BeginTime   time.Time
	EndTime     time.Time
	// Footprint is a list of polygons, each a list of rings (outer first),
	// each ring closed, coordinates lon/lat in EPSG:4326.
	Footprint [][][][2]float64
	// Properties holds further EO properties found in the metadata
	// (platform, instrument, cloudCover, ...).
	Properties map[string]string
}

// Validate checks the fields every product needs.
func (p *Product) Validate() error {
	if p.Identifier == "" {
		return errors.New("metadata has no identifier")
	}
	if strings.ContainsAny(p.Identifier, "/\\\x00") || p.Identifier == "." || p.Identifier == ".." {
		return fmt.Errorf("identifier %q contains a path separator", p.Identifier)
	}
	if p.BeginTime.IsZero() || p.EndTime.IsZero() {
		return errors.New("metadata has no begin/end time")
	}
	if p.EndTime.Before(p.BeginTime) {
		return fmt.Errorf("end time %s is before begin time %s", p.EndTime.Format(time.RFC3339), p.BeginTime.Format(time.RFC3339))
	}
	for i, poly := range p.Footprint {
		for j, ring := range poly {
			if len(ring) < 4 {
				return fmt.Errorf("footprint polygon %d ring %d has %d points, want at least 4", i, j, len(ring))
			}
			for _, pt := range ring {
				if pt[0] < -180 || pt[0] > 180 || pt[1] < -90 || pt[1] > 90 {
					return fmt.Errorf("footprint point %v is outside lon/lat range", pt)
				}
			}
		}
	}
	return nil
}

// node is an element of a parsed XML document.
type node struct {
	space, local string
	attrs        []xml.Attr
	text         strings.Builder
	children     []*node
}

// Limits bound the metadata documents that are parsed. Packages are
// untrusted: without them, one document could hold the whole memory of a
// worker, or nest elements deep enough to make the recursive walks over
// the tree exhaust the stack.
type Limits struct {
	MaxBytes int64 // document size
	MaxDepth int   // element nesting
}

// DefaultLimits are far above any real EO metadata document: the largest
// Sentinel-2 MTD_TL.xml are a few MiB and nest about 10 levels.
var DefaultLimits = Limits{MaxBytes: MaxDocumentSize, MaxDepth: 256}

// MaxDocumentSize is DefaultLimits.MaxBytes.
const MaxDocumentSize = 16 << 20

// ErrTooLarge and ErrTooDeep report a document past Limits.
var (
	ErrTooLarge = errors.New("metadata document too large")
	ErrTooDeep  = errors.New("metadata document nested too deep")
)

// orDefault fills zero fields from DefaultLimits.
func (l Limits) orDefault() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	return l
}

// ReadAll reads a whole document, refusing one past l.MaxBytes without
// reading more than one byte beyond it.
func (l Limits) ReadAll(r io.Reader) ([]byte, error) {
	l = l.orDefault()
	data, err := io.ReadAll(io.LimitReader(r, l.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read metadata: %w", err)
	}
	if int64(len(data)) > l.MaxBytes {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, l.MaxBytes)
	}
	return data, nil
}

// depthDecoder is an xml.Decoder that refuses elements nested deeper than
// max. encoding/xml keeps its own stack of open elements without bound, so
// the count has to be kept as the tokens go by.
type depthDecoder struct {
	*xml.Decoder
	depth, max int
}

func (d *depthDecoder) Token() (xml.Token, error) {
	tok, err := d.Decoder.Token()
	if err != nil {
		return tok, err
	}
	switch tok.(type) {
	case xml.StartElement:
		d.depth++
		if d.depth > d.max {
			return nil, fmt.Errorf("%w: more than %d levels of elements", ErrTooDeep, d.max)
		}
	case xml.EndElement:
		d.depth--
	}
	return tok, nil
}

func parseTree(r io.Reader, l Limits) (*node, error) {
	l = l.orDefault()
	data, err := l.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := &depthDecoder{Decoder: xml.NewDecoder(bytes.NewReader(data)), max: l.MaxDepth}
	root := &node{}
	stack := []*node{root}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if errors.Is(err, ErrTooDeep) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("invalid XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			if bytes.HasPrefix(bytes.TrimSpace(t), []byte("DOCTYPE")) {
				return nil, errors.New("invalid XML: DOCTYPE declarations (and so entities) are refused")
			}
		case xml.StartElement:
			n := &node{space: t.Name.Space, local: t.Name.Local, attrs: t.Attr}
			top := stack[len(stack)-1]
			top.children = append(top.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			stack[len(stack)-1].text.Write(t)
		}
	}
	if len(root.children) != 1 {
		return nil, errors.New("invalid XML: no root element")
	}
	return root.children[0], nil
}

func (n *node) Text() string { return strings.TrimSpace(n.text.String()) }

func (n *node) attr(local string) string {
	for _, a := range n.attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// find returns the descendants reached by following local names, each step
// matching at any depth below the previous.
func (n *node) find(path ...string) []*node {
	cur := []*node{n}
	for _, step := range path {
		var next []*node
		for _, c := range cur {
			c.walk(func(d *node) {
				if d.local == step {
					next = append(next, d)
				}
			})
		}
		cur = next
	}
	return cur
}

// walk visits the descendants of n (not n itself) in document order.
func (n *node) walk(fn func(*node)) {
	for _, c := range n.children {
		fn(c)
		c.walk(fn)
	}
}

func (n *node) first(path ...string) string {
	if f := n.find(path...); len(f) > 0 {
		return f[0].Text()
	}
	return ""
}

// ParseXML reads an EOP 2.x (eop:EarthObservation and its opt/sar/...
// variants), GSC (gsc:report), Sentinel-2 SAFE (MTD_MSIL1C.xml,
// MTD_MSIL2A.xml) or SPOT/Pleiades DIMAP document within DefaultLimits.
func ParseXML(r io.Reader) (Product, error) { return DefaultLimits.ParseXML(r) }

// ParseXML is the package's ParseXML within l.
func (l Limits) ParseXML(r io.Reader) (Product, error) {
	root, err := parseTree(r, l)
	if err != nil {
		return Product{}, err
	}
	var p Product
	switch {
	case root.local == "EarthObservation":
		err = readEOP(root, &p)
	case root.local == "report" && strings.Contains(root.space, "earth.esa.int/gsc"):
		err = readGSC(root, &p)
	case root.local == "Level-1C_User_Product" || root.local == "Level-2A_User_Product":
		err = readSAFE(root, &p)
	case root.local == "Dimap_Document":
		err = readDIMAP(root, &p)
	default:
		return Product{}, fmt.Errorf("unsupported metadata document: root element {%s}%s", root.space, root.local)
	}
	if err != nil {
		return Product{}, err
	}
	return p, nil
}

func readEOP(root *node, p *Product) error {
	p.Identifier = root.first("EarthObservationMetaData", "identifier")
	p.ProductType = root.first("EarthObservationMetaData", "productType")
	p.setParent(root.first("EarthObservationMetaData", "parentIdentifier"))
	var err error
	if p.BeginTime, p.EndTime, err = readPeriod(root, "phenomenonTime"); err != nil {
		return err
	}
	if p.Footprint, err = readFootprint(root); err != nil {
		return err
	}
	p.Properties = readProperties(root)
	return nil
}

func readGSC(root *node, p *Product) error {
	md := root.find("opt_metadata")
	if len(md) == 0 {
		md = root.find("sar_metadata")
	}
	if len(md) == 0 {
		return errors.New("GSC report has neither opt_metadata nor sar_metadata")
	}
	m := md[0]
	p.Identifier = m.first("metaDataProperty", "EarthObservationMetaData", "identifier")
	p.ProductType = m.first("metaDataProperty", "EarthObservationMetaData", "productType")
	p.setParent(m.first("metaDataProperty", "EarthObservationMetaData", "parentIdentifier"))
	var err error
	if p.BeginTime, p.EndTime, err = readPeriod(m, "validTime"); err != nil {
		return err
	}
	if p.Footprint, err = readFootprint(m); err != nil {
		return err
	}
	p.Properties = readProperties(m)
	return nil
}

// setParent records a parentIdentifier and the collection it names.
func (p *Product) setParent(parent string) {
	p.ParentIdentifier = parent
	p.Collection = CollectionOf(parent)
}

// CollectionOf is the collection a parentIdentifier names: the part before
// the first "/". PVS deployments name a product's parent
// "<collection>/<series>" (Emergency/DM02_RGB_1B), or the bare collection.
func CollectionOf(parentIdentifier string) string {
	c, _, _ := strings.Cut(strings.TrimSpace(parentIdentifier), "/")
	return c
}

func readPeriod(n *node, container string) (time.Time, time.Time, error) {
	c := n.find(container)
	if len(c) == 0 {
		return time.Time{}, time.Time{}, fmt.Errorf("metadata has no %s", container)
	}
	b, e := c[0].first("beginPosition"), c[0].first("endPosition")
	if b == "" {
		b = c[0].first("timePosition")
		e = b
	}
	begin, err := ParseTime(b)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("%s begin: %w", container, err)
	}
	end, err := ParseTime(e)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("%s end: %w", container, err)
	}
	return begin, end, nil
}

// ParseTime parses the ISO 8601 forms found in EO metadata.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05Z0700", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q", s)
}

// readFootprint reads gml posLists (lat lon order, as EOP and GSC write
// them) of the footprint's polygons; no footprint is not an error.
func readFootprint(n *node) ([][][][2]float64, error) {
	fps := n.find("Footprint")
	if len(fps) == 0 {
		return nil, nil
	}
	var out [][][][2]float64
	for _, poly := range fps[0].find("Polygon") {
		var rings [][][2]float64
		for _, part := range []string{"exterior", "interior"} {
			for _, ringNode := range poly.find(part) {
				pl := ringNode.first("posList")
				ring, err := parsePosList(pl, poly.attr("srsDimension"))
				if err != nil {
					return nil, fmt.Errorf("footprint: %w", err)
				}
				rings = append(rings, ring)
			}
		}
		if len(rings) > 0 {
			out = append(out, rings)
		}
	}
	return out, nil
}

func parsePosList(s, dim string) ([][2]float64, error) {
	f := strings.Fields(s)
	step := 2
	if dim == "3" {
		step = 3
	}
	if len(f) == 0 || len(f)%step != 0 {
		return nil, fmt.Errorf("posList has %d numbers, not pairs", len(f))
	}
	ring := make([][2]float64, 0, len(f)/step)
	for i := 0; i < len(f); i += step {
		lat, err1 := strconv.ParseFloat(f[i], 64)
		lon, err2 := strconv.ParseFloat(f[i+1], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("posList has a non-number near %q", f[i])
		}
		ring = append(ring, [2]float64{lon, lat})
	}
	if ring[0] != ring[len(ring)-1] {
		ring = append(ring, ring[0])
	}
	return ring, nil
}

func readProperties(n *node) map[string]string {
	props := map[string]string{}
	take := func(key string, path ...string) {
		if v := n.first(path...); v != "" {
			props[key] = v
		}
	}
	take("platform", "Platform", "shortName")
	take("platformSerialIdentifier", "Platform", "serialIdentifier")
	take("instrument", "Instrument", "shortName")
	take("sensorType", "Sensor", "sensorType")
	take("orbitNumber", "Acquisition", "orbitNumber")
	take("orbitDirection", "Acquisition", "orbitDirection")
	take("cloudCover", "cloudCoverPercentage")
	take("acquisitionType", "EarthObservationMetaData", "acquisitionType")
	// Further properties (EOP's vendorSpecific), unless named like one
	// read above.
	for _, si := range n.find("EarthObservationMetaData", "vendorSpecific", "SpecificInformation") {
		k, v := si.first("localAttribute"), si.first("localValue")
		if _, ok := props[k]; !ok && k != "" && v != "" {
			props[k] = v
		}
	}
	return props
}
