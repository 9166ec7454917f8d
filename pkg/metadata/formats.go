package metadata

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// readSAFE reads a Sentinel-2 product's MTD_MSIL1C.xml / MTD_MSIL2A.xml.
func readSAFE(root *node, p *Product) error {
	p.Identifier = strings.TrimSuffix(root.first("Product_Info", "PRODUCT_URI"), ".SAFE")
	if p.Identifier == "" {
		return errors.New("SAFE metadata has no PRODUCT_URI")
	}
	var err error
	if p.BeginTime, err = ParseTime(root.first("Product_Info", "PRODUCT_START_TIME")); err != nil {
		return fmt.Errorf("PRODUCT_START_TIME: %w", err)
	}
	if p.EndTime, err = ParseTime(root.first("Product_Info", "PRODUCT_STOP_TIME")); err != nil {
		return fmt.Errorf("PRODUCT_STOP_TIME: %w", err)
	}
	for _, pl := range root.find("Product_Footprint", "EXT_POS_LIST") {
		ring, err := parsePosList(pl.Text(), "")
		if err != nil {
			return fmt.Errorf("EXT_POS_LIST: %w", err)
		}
		p.Footprint = append(p.Footprint, [][][2]float64{ring})
	}
	p.Properties = map[string]string{"sensorType": "OPTICAL", "instrument": "MSI"}
	if v := root.first("Product_Info", "SPACECRAFT_NAME"); v != "" {
		p.Properties["platform"] = v
	}
	if v := root.first("Product_Info", "SENSING_ORBIT_NUMBER"); v != "" {
		p.Properties["orbitNumber"] = v
	}
	if v := root.first("Product_Info", "SENSING_ORBIT_DIRECTION"); v != "" {
		p.Properties["orbitDirection"] = v
	}
	if v := root.first("Cloud_Coverage_Assessment"); v != "" {
		p.Properties["cloudCover"] = v
	}
	if v := root.first("Product_Info", "PRODUCT_TYPE"); v != "" {
		p.Properties["sourceProductType"] = v
	}
	return nil
}

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// readDIMAP reads a SPOT (DIMAP v1) or Pleiades (DIMAP v2) header. DIMAP
// dataset names hold spaces and slashes; they become underscores.
func readDIMAP(root *node, p *Product) error {
	name := root.first("Dataset_Id", "DATASET_NAME")
	if name == "" {
		name = root.first("Dataset_Identification", "DATASET_NAME")
	}
	p.Identifier = strings.Trim(unsafeID.ReplaceAllString(name, "_"), "_")
	if p.Identifier == "" {
		return errors.New("DIMAP metadata has no DATASET_NAME")
	}
	date, tm := root.first("Scene_Source", "IMAGING_DATE"), root.first("Scene_Source", "IMAGING_TIME")
	var err error
	switch {
	case date != "":
		if tm == "" {
			tm = "00:00:00"
		}
		p.BeginTime, err = ParseTime(date + "T" + tm + "Z")
	default:
		// DIMAP v2 gives the acquisition as located geometric values.
		p.BeginTime, err = ParseTime(root.first("Located_Geometric_Values", "TIME"))
	}
	if err != nil {
		return fmt.Errorf("DIMAP acquisition time: %w", err)
	}
	p.EndTime = p.BeginTime
	var ring [][2]float64
	for _, v := range root.find("Dataset_Frame", "Vertex") {
		lon, err1 := strconv.ParseFloat(v.first("FRAME_LON"), 64)
		lat, err2 := strconv.ParseFloat(v.first("FRAME_LAT"), 64)
		if err1 != nil || err2 != nil {
			return errors.New("DIMAP Dataset_Frame vertex is not a number")
		}
		ring = append(ring, [2]float64{lon, lat})
	}
	if len(ring) >= 3 {
		p.Footprint = [][][][2]float64{{append(ring, ring[0])}}
	}
	p.Properties = map[string]string{"sensorType": "OPTICAL"}
	if v := root.first("Scene_Source", "MISSION"); v != "" {
		p.Properties["platform"] = strings.TrimSpace(v + " " + root.first("Scene_Source", "MISSION_INDEX"))
	}
	if v := root.first("Scene_Source", "INSTRUMENT"); v != "" {
		p.Properties["instrument"] = v
	}
	return nil
}

// Extract returns the texts of the elements reached by path: local names
// separated by "/", each step matching at any depth below the previous one
// (like XPath's "//a//b"). It is the type extractor of product types.
// The document is held to DefaultLimits.
func Extract(doc []byte, path string) ([]string, error) { return DefaultLimits.Extract(doc, path) }

// Extract is the package's Extract within l.
func (l Limits) Extract(doc []byte, path string) ([]string, error) {
	root, err := parseTree(bytes.NewReader(doc), l)
	if err != nil {
		return nil, err
	}
	steps := strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
	// The root element itself may be the first step.
	start := &node{children: []*node{root}}
	var out []string
	for _, n := range start.find(steps...) {
		out = append(out, n.Text())
	}
	return out, nil
}
