package wmts

import (
	"encoding/xml"
	"image/png"
	"math"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/pvs/pvs/pkg/tile"
)

type owsBBox struct {
	CRS   string `xml:"crs,attr"`
	Lower string `xml:"LowerCorner"`
	Upper string `xml:"UpperCorner"`
}

func (b owsBBox) corners(t *testing.T) [4]float64 {
	t.Helper()
	var v [4]float64
	for i, s := range append(strings.Fields(b.Lower), strings.Fields(b.Upper)...) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || i > 3 {
			t.Fatalf("corners %q %q", b.Lower, b.Upper)
		}
		v[i] = f
	}
	return v
}

type capsDoc struct {
	Layers []struct {
		ID     string    `xml:"Identifier"`
		BBoxes []owsBBox `xml:"BoundingBox"`
		Style  []struct {
			ID     string `xml:"Identifier"`
			Legend []struct {
				Href   string `xml:"href,attr"`
				Format string `xml:"format,attr"`
				Width  int    `xml:"width,attr"`
				Height int    `xml:"height,attr"`
			} `xml:"LegendURL"`
		} `xml:"Style"`
	} `xml:"Contents>Layer"`
	Sets []struct {
		ID   string  `xml:"Identifier"`
		BBox owsBBox `xml:"BoundingBox"`
	} `xml:"Contents>TileMatrixSet"`
}

func readCaps(t *testing.T) capsDoc {
	t.Helper()
	h, _ := handler()
	var d capsDoc
	if err := xml.Unmarshal(do(h, "/wmts/1.0.0/WMTSCapabilities.xml").Body.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func near(a, b [4]float64) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-6*max(1, math.Abs(b[i])) {
			return false
		}
	}
	return true
}

// OpenLayers' optionsFromCapabilities takes the tile grid's extent from
// the layer's ows:BoundingBox in the set's CRS, else the set's: both are
// there, in the CRS's axis order (lat/lon for EPSG:4326), within the set.
func TestBoundingBoxesPerTileMatrixSet(t *testing.T) {
	d := readCaps(t)
	sets := map[string][4]float64{
		"GoogleMapsCompatible": {-20037508.342789244, -20037508.342789244, 20037508.342789244, 20037508.342789244},
		"WorldCRS84Quad":       {-90, -180, 90, 180},
	}
	if len(d.Sets) != len(sets) {
		t.Fatalf("%d TileMatrixSets", len(d.Sets))
	}
	for _, s := range d.Sets {
		if got := s.BBox.corners(t); !near(got, sets[s.ID]) {
			t.Errorf("TileMatrixSet %s: BoundingBox %v, want %v", s.ID, got, sets[s.ID])
		}
	}
	// The layer spans lat -89..25.6, lon -79..-76.5: Web Mercator ends at
	// ±85.0511°.
	merc := tile.GoogleMapsCompatible.FromWGS84([4]float64{-79, -85.0511287798066, -76.5, 25.6})
	for _, c := range []struct {
		layer string
		want  map[string][4]float64
	}{
		{"VHR_IMAGE_2018", map[string][4]float64{
			"urn:ogc:def:crs:EPSG::3857": merc,
			"urn:ogc:def:crs:EPSG::4326": {-89, -79, 25.6, -76.5},
		}},
		{"EMPTY__NDVI", map[string][4]float64{ // no extent: the whole set
			"urn:ogc:def:crs:EPSG::3857": sets["GoogleMapsCompatible"],
			"urn:ogc:def:crs:EPSG::4326": sets["WorldCRS84Quad"],
		}},
	} {
		found := false
		for _, l := range d.Layers {
			if l.ID != c.layer {
				continue
			}
			found = true
			if len(l.BBoxes) != len(c.want) {
				t.Errorf("%s: %d BoundingBoxes, want %d", c.layer, len(l.BBoxes), len(c.want))
			}
			for _, b := range l.BBoxes {
				if want, ok := c.want[b.CRS]; !ok || !near(b.corners(t), want) {
					t.Errorf("%s %s: BoundingBox %v, want %v", c.layer, b.CRS, b.corners(t), want)
				}
			}
		}
		if !found {
			t.Errorf("layer %s not in the capabilities", c.layer)
		}
	}
	if merc[1] < -20037508.35 || merc[3] > 20037508.35 {
		t.Errorf("Web Mercator box %v leaves the set", merc)
	}
}

// Each layer's default style has a LegendURL that the WMS behind the cache
// answers, through the cache, with a PNG of the advertised size.
func TestLegendURLs(t *testing.T) {
	h, _ := handler()
	d := readCaps(t)
	for _, l := range d.Layers {
		if len(l.Style) != 1 || l.Style[0].ID != "default" || len(l.Style[0].Legend) != 1 {
			t.Errorf("%s: styles %+v", l.ID, l.Style)
			continue
		}
		lg := l.Style[0].Legend[0]
		u, err := url.Parse(lg.Href)
		if err != nil || u.Host != "example.org" || u.Path != "/wmts" || lg.Format != "image/png" {
			t.Errorf("%s: LegendURL %q %s", l.ID, lg.Href, lg.Format)
			continue
		}
		rec := do(h, u.RequestURI())
		img, err := png.Decode(rec.Body)
		if rec.Code != 200 || err != nil {
			t.Errorf("%s: legend %d %v", l.ID, rec.Code, err)
			continue
		}
		if b := img.Bounds(); b.Dx() != lg.Width || b.Dy() != lg.Height {
			t.Errorf("%s: legend %v, advertised %dx%d", l.ID, b, lg.Width, lg.Height)
		}
	}
	// Without a WMS behind the cache, no legend is promised.
	h.Fallback = nil
	if body := do(h, "/wmts/1.0.0/WMTSCapabilities.xml").Body.String(); strings.Contains(body, "LegendURL") {
		t.Error("LegendURL advertised without a WMS to answer it")
	}
}
