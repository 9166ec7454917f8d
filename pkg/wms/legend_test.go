package wms

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const okLegend = "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=VHR_IMAGE_2018__NDVI&FORMAT=image/png&SLD_VERSION=1.1.0"

func legendPNG(t *testing.T, h http.Handler, q string) image.Image {
	t.Helper()
	rec := get(h, q)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("%s: %d %s %s", q, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	img, err := png.Decode(rec.Body)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return img
}

func TestLegendExceptions(t *testing.T) {
	h, _ := newHandler()
	for _, c := range []struct {
		name, query, code, version string
	}{
		{"no layer", with(okLegend, "LAYER", "<del>"), CodeMissingParameterValue, "1.3.0"},
		{"unknown layer", with(okLegend, "LAYER", "NOPE"), CodeLayerNotDefined, "1.3.0"},
		{"unknown style", with(okLegend, "STYLE", "fancy"), CodeStyleNotDefined, "1.3.0"},
		{"jpeg", with(okLegend, "FORMAT", "image/jpeg"), CodeInvalidFormat, "1.3.0"},
		{"sld version", with(okLegend, "SLD_VERSION", "2.0.0"), CodeInvalidParameterValue, "1.3.0"},
		{"sld body", with(okLegend, "SLD_BODY", "<StyledLayerDescriptor/>"), CodeInvalidParameterValue, "1.3.0"},
		{"bad transparent", with(okLegend, "TRANSPARENT", "maybe"), CodeInvalidParameterValue, "1.3.0"},
		{"bad bgcolor", with(okLegend, "BGCOLOR", "red"), CodeInvalidParameterValue, "1.3.0"},
		{"1.1.1 unknown layer", with(okLegend, "VERSION", "1.1.1", "LAYER", "NOPE"), CodeLayerNotDefined, "1.1.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := get(h, c.query)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", rec.Code)
			}
			var r report
			if err := xml.Unmarshal(rec.Body.Bytes(), &r); err != nil {
				t.Fatalf("not an exception report: %v\n%s", err, rec.Body)
			}
			if len(r.Exceptions) != 1 || r.Exceptions[0].Code != c.code || r.Version != c.version {
				t.Errorf("got %+v, want code %s in a %s report", r, c.code, c.version)
			}
		})
	}
}

func TestLegendBackground(t *testing.T) {
	h, _ := newHandler()
	for _, c := range []struct {
		name, query string
		want        [4]uint32
	}{
		{"white by default", okLegend, [4]uint32{255, 255, 255, 255}},
		{"transparent", with(okLegend, "TRANSPARENT", "TRUE"), [4]uint32{0, 0, 0, 0}},
		{"bgcolor", with(okLegend, "BGCOLOR", "0x336699"), [4]uint32{0x33, 0x66, 0x99, 255}},
	} {
		img := legendPNG(t, h, c.query)
		r, g, b, a := img.At(0, 0).RGBA()
		if got := [4]uint32{r >> 8, g >> 8, b >> 8, a >> 8}; got != c.want {
			t.Errorf("%s: corner pixel %v, want %v", c.name, got, c.want)
		}
	}
}

// The same legend whatever the WMS version, and for a product's own layer
// (the collection's first browse).
func TestLegendVersionsAndProductLayers(t *testing.T) {
	h, _ := newHandler()
	v130 := get(h, okLegend).Body.Bytes()
	v111 := get(h, with(okLegend, "VERSION", "1.1.1", "SLD_VERSION", "1.0.0")).Body.Bytes()
	if !bytes.Equal(v130, v111) {
		t.Error("1.1.1 and 1.3.0 legends differ")
	}
	product := get(h, with(okLegend, "LAYER", "P1")).Body.Bytes()
	trueColor := get(h, with(okLegend, "LAYER", "VHR_IMAGE_2018__TRUE_COLOR")).Body.Bytes()
	if !bytes.Equal(product, trueColor) {
		t.Error("a product layer's legend is not its collection's first browse's")
	}
	if bytes.Equal(v130, trueColor) {
		t.Error("NDVI and TRUE_COLOR legends are the same image")
	}
}

type capsLegend struct {
	Name     string
	Width    int    `xml:"width,attr"`
	Height   int    `xml:"height,attr"`
	Format   string `xml:"Format"`
	Resource struct {
		Href string `xml:"href,attr"`
	} `xml:"OnlineResource"`
}

// capsLegends reads every layer's LegendURL from a capabilities document.
func capsLegends(t *testing.T, doc []byte) []capsLegend {
	t.Helper()
	var caps struct {
		Layers []struct {
			Name  string `xml:"Name"`
			Style []struct {
				Name   string       `xml:"Name"`
				Legend []capsLegend `xml:"LegendURL"`
			} `xml:"Style"`
		} `xml:"Capability>Layer>Layer"`
	}
	if err := xml.Unmarshal(doc, &caps); err != nil {
		t.Fatal(err)
	}
	var out []capsLegend
	for _, l := range caps.Layers {
		if len(l.Style) != 1 || l.Style[0].Name != "default" || len(l.Style[0].Legend) != 1 {
			t.Errorf("layer %s: styles %+v, want one default style with a LegendURL", l.Name, l.Style)
			continue
		}
		lg := l.Style[0].Legend[0]
		lg.Name = l.Name
		out = append(out, lg)
	}
	return out
}

// Every LegendURL of both capabilities versions answers with a PNG of the
// advertised size.
func TestCapabilitiesLegendURLs(t *testing.T) {
	h, _ := newHandler()
	for _, version := range []string{"1.3.0", "1.1.1"} {
		legends := capsLegends(t, get(h, "SERVICE=WMS&REQUEST=GetCapabilities&VERSION="+version).Body.Bytes())
		if len(legends) != 7 {
			t.Errorf("%s: %d layers with legends, want 7", version, len(legends))
		}
		for _, lg := range legends {
			u, err := url.Parse(lg.Resource.Href)
			if err != nil || !strings.HasPrefix(lg.Resource.Href, "http://example.org/ows?") || lg.Format != "image/png" {
				t.Errorf("%s %s: LegendURL %q (%s), %v", version, lg.Name, lg.Resource.Href, lg.Format, err)
				continue
			}
			if got := u.Query().Get("VERSION"); got != version {
				t.Errorf("%s %s: LegendURL asks for version %s", version, lg.Name, got)
			}
			img := legendPNG(t, h, u.RawQuery)
			if b := img.Bounds(); b.Dx() != lg.Width || b.Dy() != lg.Height {
				t.Errorf("%s %s: legend is %dx%d, capabilities say %dx%d", version, lg.Name, b.Dx(), b.Dy(), lg.Width, lg.Height)
			}
		}
	}
}
