package metadata

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
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

// readDIMAP reads a SPOT 1-5 (DIMAP v1) or Pleiades / SPOT 6-7 (DIMAP v2)
// header. DIMAP dataset names hold spaces and slashes; they become
// underscores.
func readDIMAP(root *node, p *Product) error {
	if isDIMAPv2(root) {
		return readDIMAPv2(root, p)
	}
	p.Identifier = dimapIdentifier(root.first("Dataset_Id", "DATASET_NAME"))
	if p.Identifier == "" {
		return errors.New("DIMAP metadata has no DATASET_NAME")
	}
	date, tm := root.first("Scene_Source", "IMAGING_DATE"), root.first("Scene_Source", "IMAGING_TIME")
	var err error
	if p.BeginTime, err = dimapDateTime(date, tm); err != nil {
		return fmt.Errorf("DIMAP acquisition time: %w", err)
	}
	p.EndTime = p.BeginTime
	if p.Footprint, err = dimapRing(root.find("Dataset_Frame", "Vertex"), "FRAME_LON", "FRAME_LAT"); err != nil {
		return fmt.Errorf("DIMAP Dataset_Frame: %w", err)
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

// isDIMAPv2 tells a DIMAP v2 document (Pleiades, SPOT 6/7): its format
// version is 2.x, and it has Metadata_Identification where v1 has
// Metadata_Id.
func isDIMAPv2(root *node) bool {
	for _, f := range root.find("METADATA_FORMAT") {
		if strings.HasPrefix(f.attr("version"), "2") {
			return true
		}
	}
	return len(root.find("Metadata_Identification")) > 0
}

// readDIMAPv2 reads the DIM_*.XML of a Pleiades or SPOT 6/7 delivery, the
// file GDAL's DIMAP driver opens. The strip (STRIP_*), RPC (RPC_*) and
// volume (VOL_*) files are DIMAP v2 documents too, but name no dataset:
// they are refused here, so that only the product's own header passes.
func readDIMAPv2(root *node, p *Product) error {
	name := root.first("Dataset_Identification", "DATASET_NAME")
	if name == "" {
		// Stripped-down headers (GDAL's test product) have no dataset
		// name; the source strip identifies the acquisition.
		name = root.first("Dataset_Sources", "Source_Identification", "SOURCE_ID")
	}
	p.Identifier = dimapIdentifier(name)
	if p.Identifier == "" {
		return errors.New("DIMAP v2 metadata has neither Dataset_Identification/DATASET_NAME nor a Dataset_Sources SOURCE_ID: is it the product's DIM_*.XML (not a STRIP_, RPC_ or VOL_ file)?")
	}
	var err error
	if p.BeginTime, p.EndTime, err = dimapV2Times(root); err != nil {
		return err
	}
	if p.Footprint, err = dimapRing(root.find("Dataset_Content", "Dataset_Extent", "Vertex"), "LON", "LAT"); err != nil {
		return fmt.Errorf("DIMAP Dataset_Extent: %w", err)
	}
	p.Properties = dimapV2Properties(root)
	p.ProductType = dimapV2ProductType(p.Properties["mission"], root.first("Product_Settings", "SPECTRAL_PROCESSING"))
	delete(p.Properties, "mission")
	return nil
}

// dimapV2Times is the acquisition: the imaging date and time of the
// source strips, else the span of the located geometric values' times.
func dimapV2Times(root *node) (time.Time, time.Time, error) {
	var times []time.Time
	for _, src := range root.find("Dataset_Sources", "Source_Identification") {
		date := src.first("IMAGING_DATE")
		if date == "" {
			continue
		}
		t, err := dimapDateTime(date, src.first("IMAGING_TIME"))
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("DIMAP Dataset_Sources IMAGING_DATE/IMAGING_TIME: %w", err)
		}
		times = append(times, t)
	}
	if len(times) == 0 {
		for _, v := range root.find("Geometric_Data", "Located_Geometric_Values", "TIME") {
			t, err := ParseTime(v.Text())
			if err != nil {
				return time.Time{}, time.Time{}, fmt.Errorf("DIMAP Located_Geometric_Values TIME: %w", err)
			}
			times = append(times, t)
		}
	}
	if len(times) == 0 {
		return time.Time{}, time.Time{}, errors.New("DIMAP metadata has no acquisition time (Dataset_Sources IMAGING_DATE, Geometric_Data Located_Geometric_Values TIME)")
	}
	begin, end := times[0], times[0]
	for _, t := range times[1:] {
		if t.Before(begin) {
			begin = t
		}
		if t.After(end) {
			end = t
		}
	}
	return begin, end, nil
}

// dimapDateTime joins an IMAGING_DATE and IMAGING_TIME (UTC, the time
// optional).
func dimapDateTime(date, tm string) (time.Time, error) {
	if tm == "" {
		tm = "00:00:00"
	}
	return ParseTime(strings.TrimSpace(date) + "T" + strings.TrimSuffix(strings.TrimSpace(tm), "Z") + "Z")
}

// dimapRing is the closed lon/lat ring of DIMAP vertices; fewer than three
// vertices are no footprint (the COG's valid pixels give it then).
func dimapRing(vertices []*node, lonName, latName string) ([][][][2]float64, error) {
	var ring [][2]float64
	for _, v := range vertices {
		lon, err1 := strconv.ParseFloat(v.first(lonName), 64)
		lat, err2 := strconv.ParseFloat(v.first(latName), 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("vertex %s/%s is not a number", lonName, latName)
		}
		ring = append(ring, [2]float64{lon, lat})
	}
	if len(ring) < 3 {
		return nil, nil
	}
	if ring[0] != ring[len(ring)-1] {
		ring = append(ring, ring[0])
	}
	return [][][][2]float64{{ring}}, nil
}

func dimapV2Properties(root *node) map[string]string {
	props := map[string]string{"sensorType": "OPTICAL"}
	src := root.find("Dataset_Sources", "Source_Identification")
	if len(src) > 0 {
		mission, index := src[0].first("MISSION"), src[0].first("MISSION_INDEX")
		if mission != "" {
			props["mission"] = mission
			props["platform"] = dimapPlatform(mission)
			if index != "" {
				props["platformSerialIdentifier"] = index
			}
		}
		if v := src[0].first("INSTRUMENT"); v != "" {
			props["instrument"] = v
		}
	}
	if v := root.first("Dataset_Content", "CLOUD_COVERAGE"); v != "" {
		props["cloudCover"] = v
	}
	if v := root.first("Product_Settings", "PROCESSING_LEVEL"); v != "" {
		props["processingLevel"] = v
	}
	if v := root.first("Dataset_Identification", "DATASET_TYPE"); v != "" {
		props["sourceProductType"] = v
	}
	return props
}

// dimapPlatform is the EO platform name of a DIMAP v2 MISSION.
func dimapPlatform(mission string) string {
	if strings.EqualFold(mission, "PHR") {
		return "PHR"
	}
	return strings.ToUpper(mission)
}

// dimapV2Types names the product types of the VHR collections after the
// mission and spectral processing of a DIMAP v2 product. The names are the
// collections' own (config/vhr18.yaml), not a rule: SPOT's are one
// character shorter than Pleiades' for MS.
var dimapV2Types = map[[2]string]string{
	{"PHR", "MS"}: "PHR_MS___2A", {"PHR", "P"}: "PHR_PAN__2A", {"PHR", "PMS"}: "PHR_FUS__2A",
	{"SPOT", "MS"}: "SPOT_MS__2A", {"SPOT", "P"}: "SPOT_PAN__2A", {"SPOT", "PMS"}: "SPOT_FUS__2A",
}

// dimapV2ProductType is the product type of a DIMAP v2 product, or "" for
// a mission or processing the table does not know: the collection's globs
// and type extractors decide then. Variants of a processing (PMS-N, PMS-X,
// MS-X, MS-FS) are the processing's type.
func dimapV2ProductType(mission, spectral string) string {
	base, _, _ := strings.Cut(strings.ToUpper(strings.TrimSpace(spectral)), "-")
	return dimapV2Types[[2]string{strings.ToUpper(strings.TrimSpace(mission)), base}]
}

// dimapIdentifier makes a DIMAP dataset name a product identifier.
func dimapIdentifier(name string) string {
	return strings.Trim(unsafeID.ReplaceAllString(name, "_"), "_")
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
