package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/tile"
)

// The sample's raster, and a point in the magenta square over it.
var (
	sampleExtent = [4]float64{-79.01, 23.51, -76.52, 25.6}
	magentaPoint = [2]float64{-78.05, 24.6}
)

// owslibPython finds a Python 3 that imports OWSLib: $PVS_PYTHON, else
// Debian's /usr/bin/python3 (python3-owslib installs there, and a python3
// of pyenv or a virtualenv earlier on the PATH would not see it), else
// python3 on the PATH. The test is skipped without one, unless
// PVS_INTEGRATION=1 makes that a failure.
func owslibPython(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("PVS_PYTHON"), "/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	var tried []string
	for _, p := range candidates {
		if p == "" || slices.Contains(tried, p) {
			continue
		}
		tried = append(tried, p)
		if err := exec.Command(p, "-c", "import owslib").Run(); err == nil {
			return p
		}
	}
	if os.Getenv("PVS_INTEGRATION") == "1" {
		t.Fatalf("no python3 with OWSLib (tried %v): apt-get install python3-owslib (scripts/deps.sh)", tried)
	}
	t.Skip("no python3 with OWSLib (apt-get install python3-owslib); PVS_INTEGRATION=1 makes this a failure")
	return ""
}

// owslibLayer is what OWSLib makes of a WMS layer.
type owslibLayer struct {
	BBox          []any               `json:"bbox"`
	BBoxWGS84     []float64           `json:"bbox_wgs84"`
	BBoxes        [][]any             `json:"bboxes"`
	CRS           []string            `json:"crs"`
	Styles        []string            `json:"styles"`
	Legend        map[string]string   `json:"legend"`
	TimePositions []string            `json:"timepositions"`
	DefaultTime   string              `json:"defaulttimeposition"`
	Dimensions    map[string]struct { // 1.3.0 only
		Units   string   `json:"units"`
		Default string   `json:"default"`
		Values  []string `json:"values"`
	} `json:"dimensions"`
}

// owslibImage is a map or tile OWSLib returned, saved to a file.
type owslibImage struct {
	PNG         bool   `json:"png"`
	Size        []int  `json:"size"`
	Bytes       int    `json:"bytes"`
	ContentType string `json:"content_type"`
	File        string `json:"file"`
	Head        string `json:"head"`
	Request     string `json:"request"`
}

type owslibWMS struct {
	Version          string                 `json:"version"`
	Layers           []string               `json:"layers"`
	GetMapFormats    []string               `json:"getmap_formats"`
	CollectionLayers map[string]owslibLayer `json:"collection_layers"`
	GetMap           map[string]owslibImage `json:"getmap"`
	GetFeatureInfo   *struct {
		ContentType string   `json:"content_type"`
		Request     string   `json:"request"`
		IDs         []string `json:"ids"`
		Body        string   `json:"body"`
	} `json:"getfeatureinfo"`
}

// owslibReport is the script's output.
type owslibReport struct {
	OWSLib string               `json:"owslib"`
	WMS    map[string]owslibWMS `json:"wms"`
	WMTS   struct {
		Layers         []string `json:"layers"`
		TileMatrixSets []string `json:"tilematrixsets"`
		Layer          *struct {
			BBoxWGS84 []float64 `json:"bbox_wgs84"`
			Formats   []string  `json:"formats"`
			Styles    []string  `json:"styles"`
			Links     []string  `json:"tilematrixsetlinks"`
		} `json:"layer"`
		Tile *struct {
			owslibImage
			Matrix string `json:"matrix"`
			Row    int    `json:"row"`
			Col    int    `json:"col"`
		} `json:"tile"`
	} `json:"wmts"`
	WCS struct {
		Version       string   `json:"version"`
		Coverages     []string `json:"coverages"`
		Formats       []string `json:"formats"`
		AxisLabels    []string `json:"axis_labels"`
		BoundingBoxes []struct {
			NativeSRS string     `json:"nativeSrs"`
			BBox      [4]float64 `json:"bbox"`
		} `json:"boundingboxes"`
		Subsets  [][]any `json:"subsets"`
		Coverage *struct {
			ContentType string `json:"content_type"`
			TIFF        bool   `json:"tiff"`
			Bytes       int    `json:"bytes"`
			File        string `json:"file"`
			Head        string `json:"head"`
		} `json:"coverage"`
	} `json:"wcs"`
	Errors []struct {
		Call  string `json:"call"`
		Error string `json:"error"`
		Trace string `json:"trace"`
	} `json:"errors"`
}

// OWSLib, the Python client of the OGC services, against the daemons
// behind one origin as the stack's Traefik puts them: it reads the WMS
// 1.1.1 and 1.3.0, WMTS and WCS 2.0.1 capabilities and asks for maps,
// feature info, a tile and a coverage as a map client does
// (testdata/owslib_check.py); the findings are checked here.
func TestOWSLibAgainstTheStack(t *testing.T) {
	python := owslibPython(t)
	testenv.Require(t)
	d := newDeployment(t, testenv.PVSBinary(t))
	front := http.NewServeMux()
	d.routes(front)
	srv := httptest.NewServer(front)
	t.Cleanup(srv.Close)
	d.start(t, srv.URL)

	out := t.TempDir()
	cfg, err := json.Marshal(map[string]any{
		"wms": srv.URL + "/ows", "wmts": srv.URL + "/wmts", "wcs": srv.URL + "/ows",
		"collection": collection, "product": sampleID,
		"bbox": sampleExtent, "point": magentaPoint, "out": out,
	})
	testenv.Must(t, err, "encode the script's configuration")
	cfgPath := filepath.Join(out, "config.json")
	testenv.Must(t, os.WriteFile(cfgPath, cfg, 0o644), "write the script's configuration")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	// -B: no bytecode written beside the script.
	cmd := exec.CommandContext(ctx, python, "-B", filepath.Join(testenv.RepoRoot(t), "e2e/browser/testdata/owslib_check.py"), cfgPath)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("owslib_check.py: %v\n%s", err, stderr.Bytes())
	}
	var r owslibReport
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("owslib_check.py printed no report: %v\n%s\n%s", err, stdout.Bytes(), stderr.Bytes())
	}
	t.Logf("OWSLib %s", r.OWSLib)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("OWSLib's findings:\n%s", stdout.Bytes())
		}
	})
	for _, e := range r.Errors {
		t.Errorf("OWSLib %s raised %s\n%s", e.Call, e.Error, e.Trace)
	}

	for _, v := range []string{"1.1.1", "1.3.0"} {
		t.Run("WMS "+v, func(t *testing.T) { checkOWSLibWMS(t, v, r.WMS[v]) })
	}
	t.Run("WMTS", func(t *testing.T) {
		w := r.WMTS
		if !slices.Contains(w.Layers, collection) || w.Layer == nil {
			t.Fatalf("WMTS layers %v lack %s", w.Layers, collection)
		}
		for _, set := range []string{"GoogleMapsCompatible", "WorldCRS84Quad"} {
			if !slices.Contains(w.TileMatrixSets, set) || !slices.Contains(w.Layer.Links, set) {
				t.Errorf("tile matrix set %s: sets %v, the layer's links %v", set, w.TileMatrixSets, w.Layer.Links)
			}
		}
		if !slices.Contains(w.Layer.Styles, "default") || !slices.Contains(w.Layer.Formats, "image/png") {
			t.Errorf("WMTS layer: styles %v, formats %v", w.Layer.Styles, w.Layer.Formats)
		}
		if b := w.Layer.BBoxWGS84; !inside(b, sampleExtent, magentaPoint) {
			t.Errorf("WMTS layer WGS84 bounding box %v, want one in %v around %v", b, sampleExtent, magentaPoint)
		}
		if w.Tile == nil {
			t.Fatal("no tile")
		}
		z, _ := strconv.Atoi(w.Tile.Matrix)
		g := tile.GoogleMapsCompatible
		checkOWSLibImage(t, fmt.Sprintf("GetTile %s/%d/%d", w.Tile.Matrix, w.Tile.Row, w.Tile.Col), w.Tile.owslibImage,
			g, g.BBox(z, w.Tile.Row, w.Tile.Col), 0.5)
	})
	t.Run("WCS 2.0.1", func(t *testing.T) {
		c := r.WCS
		if c.Version != "2.0.1" || !slices.Contains(c.Coverages, sampleID) || !slices.Contains(c.Coverages, newerID) {
			t.Fatalf("WCS %s coverages %v, want %s and %s", c.Version, c.Coverages, sampleID, newerID)
		}
		if !slices.Contains(c.Formats, "image/tiff") {
			t.Errorf("WCS formats %v lack image/tiff", c.Formats)
		}
		if len(c.BoundingBoxes) == 0 || c.Coverage == nil {
			t.Fatalf("no envelope (%+v) or no coverage", c.BoundingBoxes)
		}
		if !c.Coverage.TIFF {
			t.Fatalf("GetCoverage over %v: %s, %d bytes, not a TIFF: %s", c.Subsets, c.Coverage.ContentType, c.Coverage.Bytes, c.Coverage.Head)
		}
		// GDAL reads the GeoTIFF: the central half of the coverage, in
		// its native CRS, with the three bands of the sample.
		cog.Init()
		ds, err := godal.Open(c.Coverage.File, godal.RasterOnly())
		if err != nil {
			t.Fatalf("GDAL cannot open the coverage: %v", err)
		}
		defer ds.Close()
		st := ds.Structure()
		b, err := ds.Bounds()
		testenv.Must(t, err, "bounds of the coverage")
		env := c.BoundingBoxes[0].BBox
		want := [4]float64{
			env[0] + (env[2]-env[0])/4, env[1] + (env[3]-env[1])/4,
			env[2] - (env[2]-env[0])/4, env[3] - (env[3]-env[1])/4,
		}
		if st.NBands != 3 || st.SizeX < 10 || st.SizeY < 10 {
			t.Errorf("coverage %d×%d with %d bands", st.SizeX, st.SizeY, st.NBands)
		}
		px := (env[2] - env[0]) / 50 // a pixel or two at the edges
		if !within(b[:], want, px) {
			t.Errorf("coverage bounds %v in %s, asked for %v (subsets %v)", b, c.BoundingBoxes[0].NativeSRS, want, c.Subsets)
		}
	})
}

// checkOWSLibWMS checks what OWSLib read from the WMS in one version and
// the maps and feature info it got.
func checkOWSLibWMS(t *testing.T, v string, w owslibWMS) {
	if w.Version != v {
		t.Fatalf("WMS version %q (layers %v)", w.Version, w.Layers)
	}
	if _, ok := w.CollectionLayers[collection]; !ok {
		t.Fatalf("WMS layers %v lack %s", w.Layers, collection)
	}
	if _, ok := w.CollectionLayers[collection+"__TRUE_COLOR"]; !ok {
		t.Errorf("WMS layers %v lack the browse layer %s__TRUE_COLOR", w.Layers, collection)
	}
	for name, l := range w.CollectionLayers {
		// OWSLib gives every box as lon/lat, whatever the version's axis
		// order: a swapped one shows here.
		if !inside(l.BBoxWGS84, sampleExtent, magentaPoint) {
			t.Errorf("%s: WGS84 bounding box %v, want one in %v around %v", name, l.BBoxWGS84, sampleExtent, magentaPoint)
		}
		if len(l.BBox) != 5 || !inside(floats(l.BBox[:4]), sampleExtent, magentaPoint) {
			t.Errorf("%s: bounding box %v, want one in %v around %v", name, l.BBox, sampleExtent, magentaPoint)
		}
		// 1.3.0 writes EPSG:4326 boxes in lat/lon: OWSLib swaps them back.
		geographic := 0
		for _, b := range l.BBoxes {
			if len(b) != 5 || (b[4] != "EPSG:4326" && b[4] != "CRS:84") {
				continue
			}
			geographic++
			if !inside(floats(b[:4]), sampleExtent, magentaPoint) {
				t.Errorf("%s: bounding box %v, want one in %v around %v", name, b, sampleExtent, magentaPoint)
			}
		}
		if v == "1.3.0" && geographic != 2 {
			t.Errorf("%s: bounding boxes %v, want one in CRS:84 and one in EPSG:4326", name, l.BBoxes)
		}
		if !slices.Contains(l.Styles, "default") || l.Legend["default"] == "" {
			t.Errorf("%s: styles %v, legends %v", name, l.Styles, l.Legend)
		}
		for _, crs := range []string{"EPSG:4326", "EPSG:3857"} {
			if !slices.Contains(l.CRS, crs) {
				t.Errorf("%s: CRS %v lack %s", name, l.CRS, crs)
			}
		}
		// The time extent holds both products.
		if len(l.TimePositions) == 0 || !spans(l.TimePositions, "2018-06-15", "2018-06-17") {
			t.Errorf("%s: time positions %v do not span 2018-06-15 to 2018-06-17", name, l.TimePositions)
		}
		if l.DefaultTime == "" {
			t.Errorf("%s: no default time", name)
		}
		if v == "1.3.0" {
			tm, ok := l.Dimensions["time"]
			if !ok || tm.Units != "ISO8601" || len(tm.Values) == 0 {
				t.Errorf("%s: dimensions %+v, want time in ISO8601", name, l.Dimensions)
			}
		}
	}
	if !slices.Contains(w.GetMapFormats, "image/png") {
		t.Errorf("GetMap formats %v", w.GetMapFormats)
	}
	for crs, g := range map[string]tile.Grid{"EPSG:4326": tile.WorldCRS84Quad, "EPSG:3857": tile.GoogleMapsCompatible} {
		m, ok := w.GetMap[crs]
		if !ok {
			t.Errorf("no map in %s", crs)
			continue
		}
		checkOWSLibImage(t, "GetMap "+crs, m, g, g.FromWGS84(sampleExtent), 0.3)
	}
	if v == "1.3.0" {
		fi := w.GetFeatureInfo
		switch {
		case fi == nil:
			t.Error("no feature info")
		case len(fi.IDs) != 2 || fi.IDs[0] != newerID || fi.IDs[1] != sampleID:
			t.Errorf("GetFeatureInfo at the magenta square lists %v, want [%s %s] (%s %s %s)", fi.IDs, newerID, sampleID, fi.ContentType, fi.Request, fi.Body)
		}
	}
}

// checkOWSLibImage decodes a 256² PNG OWSLib got over the box bbox of
// grid g, counts its painted pixels and looks for the magenta product at
// its place: an image in the wrong place or with swapped axes misses it.
func checkOWSLibImage(t *testing.T, what string, m owslibImage, g tile.Grid, bbox [4]float64, minPainted float64) {
	t.Helper()
	const size = 256
	if !m.PNG || len(m.Size) != 2 || m.Size[0] != size || m.Size[1] != size {
		t.Errorf("%s: %s, %d bytes, size %v, want a %d×%d PNG: %s (%s)", what, m.ContentType, m.Bytes, m.Size, size, size, m.Head, m.Request)
		return
	}
	b, err := os.ReadFile(m.File)
	testenv.Must(t, err, "read %s", m.File)
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if n, all := paintedPixels(img), size*size; float64(n) < minPainted*float64(all) {
		t.Errorf("%s: %d of %d pixels painted (%s)", what, n, all, m.Request)
	}
	p := g.FromWGS84([4]float64{magentaPoint[0], magentaPoint[1], magentaPoint[0], magentaPoint[1]})
	at := image.Pt(int((p[0]-bbox[0])/(bbox[2]-bbox[0])*size), int((bbox[3]-p[1])/(bbox[3]-bbox[1])*size))
	if n := patch(img, at, isMagenta); n < 60 {
		t.Errorf("%s: %d of 81 pixels magenta around %v, where the newer product lies (%s)", what, n, at, m.Request)
	}
}

// paintedPixels counts the pixels that are neither transparent nor white.
func paintedPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := img.At(x, y)
			if _, _, _, a := c.RGBA(); a != 0 && painted(c) {
				n++
			}
		}
	}
	return n
}

// within reports whether box b is box want, each side within tol.
func within(b []float64, want [4]float64, tol float64) bool {
	for i := range want {
		if d := b[i] - want[i]; d > tol || d < -tol {
			return false
		}
	}
	return true
}

// inside reports whether the lon/lat box b lies in outer and holds p.
func inside(b []float64, outer [4]float64, p [2]float64) bool {
	return len(b) >= 4 && b[0] >= outer[0] && b[1] >= outer[1] && b[2] <= outer[2] && b[3] <= outer[3] &&
		b[0] < p[0] && p[0] < b[2] && b[1] < p[1] && p[1] < b[3]
}

func floats(vs []any) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i], _ = v.(float64)
	}
	return out
}

// spans reports whether the time positions (instants or start/end[/step]
// periods) reach from the first day to the last.
func spans(positions []string, first, last string) bool {
	var lo, hi string
	for _, p := range positions {
		for _, part := range strings.Split(p, ",") {
			ends := strings.Split(strings.TrimSpace(part), "/")
			start, end := ends[0], ends[0]
			if len(ends) > 1 {
				end = ends[1]
			}
			if lo == "" || start < lo {
				lo = start
			}
			if end > hi {
				hi = end
			}
		}
	}
	return lo != "" && lo[:min(10, len(lo))] <= first && hi[:min(10, len(hi))] >= last
}
