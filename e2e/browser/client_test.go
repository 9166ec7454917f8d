package browser

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/pvs/pvs/internal/testenv"
)

// clientBinary returns $PVS_BIN (make builds it after the client bundle),
// or bundles web/client into pkg/webclient/dist, as `make client` does,
// and builds pvs with it.
func clientBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("PVS_BIN"); b != "" {
		return b
	}
	npmBuild(t, "client")
	return testenv.PVSBinary(t)
}

// The client's pure parts (time windows, the OpenSearch template, preview
// URLs, layer kinds) under node's own test runner.
func TestWebClientUnits(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("the client is tested with node: install nodejs and npm (scripts/deps.sh): %v", err)
	}
	web := filepath.Join(testenv.RepoRoot(t), "web", "client")
	if _, err := os.Stat(filepath.Join(web, "node_modules", "ol")); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = web
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in web/client: %v\n%s", err, out)
		}
	}
	cmd := exec.Command("node", "--test", "test/")
	cmd.Dir = web
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test in web/client: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "# fail 0") || strings.Contains(string(out), "# pass 0") {
		t.Fatalf("node --test ran no test:\n%s", out)
	}
}

// tab is a page a test drives step by step; what goes wrong on it is
// collected as it happens. Its failures go to t: a subtest takes the tab
// with on(t).
type tab struct {
	t *testing.T
	*tabState
}

type tabState struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

// on is the tab with its failures going to t.
func (tb *tab) on(t *testing.T) *tab { return &tab{t: t, tabState: tb.tabState} }

// tab opens a page in a new tab with a viewport of width×height.
func (b *browser) tab(t *testing.T, pageURL string, width, height int64) *tab {
	t.Helper()
	tb := &tab{t: t, tabState: &tabState{}}
	note := func(format string, args ...any) {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		tb.problems = append(tb.problems, fmt.Sprintf(format, args...))
	}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithListener(problems(note)))
	t.Cleanup(cancel)
	tb.ctx = ctx
	// The first Do opens the tab and ties it to its context: no timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	tb.do(chromedp.EmulateViewport(width, height), chromedp.Navigate(pageURL))
	return tb
}

// do runs actions with a timeout.
func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v (problems on the page: %v)", err, tb.seen())
	}
}

// seen returns the problems noted so far.
func (tb *tab) seen() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.problems...)
}

// eval evaluates a script on the page, awaiting a promise it returns.
func eval[T any](tb *tab, script string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 90*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v (problems on the page: %v)", script, err, tb.seen())
	}
	return v
}

// poll waits until a script's value is truthy.
func (tb *tab) poll(what, script string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 90*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](script, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		sctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
		defer cancel()
		state, _ := chromedp.Run(sctx, chromedp.Evaluate[string](
			`JSON.stringify({url: location.href, pvs: typeof window.pvs, ready: window.pvs && window.pvs.ready, status: (document.getElementById('status') || {}).textContent})`))
		tb.t.Fatalf("waiting for %s: %v (page: %s; problems: %v)", what, err, state, tb.seen())
	}
}

// settle waits until the map has drawn every tile of its current state.
// The time slider applies its window 150 ms after it rests, and views
// animate for 300 ms: the wait starts after both.
func (tb *tab) settle() {
	tb.t.Helper()
	time.Sleep(400 * time.Millisecond)
	eval[bool](tb, "window.pvs.rendered()")
}

// shot takes a screenshot of the viewport.
func (tb *tab) shot(name string) image.Image {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatalf("screenshot: %v", err)
	}
	keepShot(tb.t, b)
	if os.Getenv("PVS_SCREENSHOTS") == "1" && name != "" {
		path := filepath.Join(testenv.RepoRoot(tb.t), "docs", "images", name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			tb.t.Errorf("save %s: %v", path, err)
		} else {
			tb.t.Logf("screenshot: %s", path)
		}
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		tb.t.Fatalf("screenshot: %v", err)
	}
	return img
}

// pixel is where a lon/lat point is on the page.
func (tb *tab) pixel(lon, lat float64) image.Point {
	tb.t.Helper()
	p := eval[[2]float64](tb, fmt.Sprintf("window.pvs.pixel(%g, %g)", lon, lat))
	return image.Pt(int(p[0]), int(p[1]))
}

// background is the colour of the map without any layer; baseColour the
// colour of the test's base map.
var (
	background = color.NRGBA{0xe4, 0xe9, 0xed, 255}
	baseColour = color.NRGBA{200, 225, 190, 255}
)

// patch counts the pixels of the 9×9 square around p for which match holds.
func patch(img image.Image, p image.Point, match func(color.Color) bool) int {
	n := 0
	for y := p.Y - 4; y <= p.Y+4; y++ {
		for x := p.X - 4; x <= p.X+4; x++ {
			if match(img.At(x, y)) {
				n++
			}
		}
	}
	return n
}

func isMagenta(c color.Color) bool { return near(c, color.NRGBA{255, 0, 255, 255}) }

// isImagery is a pixel of the sample: neither the magenta product, nor
// the map's plain background, nor the white page.
func isImagery(c color.Color) bool {
	return !isMagenta(c) && !near(c, background) && !near(c, baseColour) && painted(c)
}

// The web client of `pvs client` against the daemons, all behind one
// origin as the stack's Traefik puts them: the layers load without an
// error, the time slider picks the product shown, a search lists the
// products and a click on one zooms there and opens its page, a click on
// the map lists the products there.
func TestWebClient(t *testing.T) {
	testenv.Require(t)
	b := newBrowser(t)
	bin := clientBinary(t)
	if out, err := exec.Command(bin, "client", "--help").CombinedOutput(); err != nil {
		t.Fatalf("%s has no client command (newClientCmd in cmd/pvs/root.go): %v\n%s", bin, err, out)
	}
	d := newDeployment(t, bin)
	clientPort := testenv.FreePort(t)
	front := http.NewServeMux()
	d.routes(front)
	front.Handle("/", proxyTo(clientPort))
	// An XYZ base map of one flat colour.
	var baseTiles atomic.Int64
	front.HandleFunc("/basemap/", func(w http.ResponseWriter, r *http.Request) {
		baseTiles.Add(1)
		img := image.NewNRGBA(image.Rect(0, 0, 256, 256))
		draw.Draw(img, img.Bounds(), image.NewUniform(baseColour), image.Point{}, draw.Src)
		w.Header().Set("Content-Type", "image/png")
		png.Encode(w, img)
	})
	srv := httptest.NewServer(front)
	t.Cleanup(srv.Close)
	d.start(t, srv.URL)
	daemon(t, bin, d.env, "client", "--listen", fmt.Sprintf("127.0.0.1:%d", clientPort),
		"--base-map", srv.URL+"/basemap/{z}/{x}/{y}.png", "--base-map-attribution", "flat test map")
	waitReady(t, clientPort)
	resp, err := http.Get(srv.URL + "/")
	testenv.Must(t, err, "GET /")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / of pvs client: %d %s", resp.StatusCode, body)
	}

	tb := b.tab(t, srv.URL+"/", 1280, 800)
	tb.poll("the client to start", "window.pvs && (window.pvs.ready || window.pvs.error !== null)")
	if e := eval[string](tb, "String(window.pvs.error || '')"); e != "" {
		t.Fatalf("the client did not start: %s (problems: %v)", e, tb.seen())
	}
	tb.settle()

	// The products: the sample (Landsat colours) and the magenta square
	// over part of it two days later.
	magentaAt := [2]float64{-78.05, 24.6}
	sampleAt := [2]float64{-77.45, 24.95}
	sampleBBox := [4]float64{-79.01, 23.51, -76.52, 25.6}
	offScene := [2]float64{-78.95, 25.45} // in the sample's box, outside its rotated scene

	t.Run("background", func(t *testing.T) {
		tb := tb.on(t)
		// The configured base map is drawn, and the plain background
		// (which needs no internet) can replace it.
		at := tb.pixel(offScene[0], offScene[1])
		if n := patch(tb.shot(""), at, func(c color.Color) bool { return near(c, baseColour) }); baseTiles.Load() == 0 || n < 60 {
			t.Errorf("base map: %d tiles requested, %d of 81 pixels of its colour beside the scene", baseTiles.Load(), n)
		}
		tb.do(chromedp.Click(chromedp.CSS(`input[name=background][value=plain]`)))
		tb.settle()
		if n := patch(tb.shot(""), at, func(c color.Color) bool { return near(c, background) }); n < 60 {
			t.Errorf("plain background: %d of 81 pixels of its colour beside the scene", n)
		}
	})

	t.Run("layers", func(t *testing.T) {
		tb := tb.on(t)
		layers := eval[[]string](tb, "window.pvs.entries.map((e) => e.name + ' ' + (e.tiled ? 'WMTS' : '') + (e.image ? 'WMS' : ''))")
		for _, want := range []string{collection + " WMTSWMS", collection + "__outlines WMTSWMS", collection + "__outlined WMTSWMS", collection + "__TRUE_COLOR WMTSWMS"} {
			if !slices.Contains(layers, want) {
				t.Errorf("layers %v lack %q", layers, want)
			}
		}
		if n := eval[int](tb, "document.querySelectorAll('#layer-list li').length"); n != len(layers) {
			t.Errorf("the switcher lists %d layers of %d", n, len(layers))
		}
		stats := eval[map[string]int](tb, "window.pvs.stats")
		if stats["loaded"] == 0 || stats["failed"] != 0 {
			t.Errorf("tiles: %d loaded, %d failed", stats["loaded"], stats["failed"])
		}
		// The whole collection's time: both products, the newer on top.
		shot := tb.shot("client.png")
		if n := patch(shot, tb.pixel(magentaAt[0], magentaAt[1]), isMagenta); n < 60 {
			t.Errorf("the newer product is not drawn at its place (%d of 81 pixels magenta)", n)
		}
		if n := patch(shot, tb.pixel(sampleAt[0], sampleAt[1]), isImagery); n < 60 {
			t.Errorf("the sample is not drawn at its place (%d of 81 pixels of imagery)", n)
		}
		// The same layer from the WMS (the renderer) instead of the WMTS.
		service := func(s string) {
			tb.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
				const sel = document.querySelector('#layer-list li[data-layer="%s"] select.service');
				sel.value = '%s';
				sel.dispatchEvent(new Event('change', {bubbles: true}));
			})()`, collection, s)))
			tb.settle()
		}
		before := eval[int](tb, "window.pvs.stats.loaded")
		service("WMS")
		if !eval[bool](tb, `window.pvs.entries[0].image.getVisible() && !window.pvs.entries[0].tiled.getVisible()`) {
			t.Error("the default layer is not drawn from the WMS")
		}
		shot = tb.shot("")
		if n := patch(shot, tb.pixel(sampleAt[0], sampleAt[1]), isImagery); n < 60 || eval[int](tb, "window.pvs.stats.loaded") == before {
			t.Errorf("from the WMS: %d of 81 pixels of imagery, no map loaded", n)
		}
		service("WMTS")
		// Opacity 0 hides the layer; the legend opens on a click.
		opacity := func(v string) {
			tb.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
				const o = document.querySelector('#layer-list li[data-layer="%s"] .opacity');
				o.value = '%s';
				o.dispatchEvent(new Event('input', {bubbles: true}));
			})()`, collection, v)))
			tb.settle()
		}
		opacity("0")
		if n := patch(tb.shot(""), tb.pixel(sampleAt[0], sampleAt[1]), isImagery); n > 0 {
			t.Errorf("at opacity 0 the layer still shows (%d pixels of imagery)", n)
		}
		opacity("1")
		tb.do(chromedp.Click(chromedp.CSS(`#layer-list li[data-layer="` + collection + `"] .legend summary`)))
		tb.poll("the legend", `(() => { const i = document.querySelector('#layer-list li[data-layer="`+collection+`"] .legend img'); return i.complete && i.naturalWidth > 0; })()`)
	})

	t.Run("time slider", func(t *testing.T) {
		tb := tb.on(t)
		acq := eval[[]float64](tb, "window.pvs.time.acquisitions")
		if len(acq) != 2 {
			t.Fatalf("acquisitions on the slider: %v, want the two products'", acq)
		}
		if n := eval[int](tb, "document.querySelectorAll('#ticks .tick').length"); n != 2 {
			t.Errorf("%d acquisition marks on the slider, want 2", n)
		}
		// Drag the slider to each acquisition, as a user does: the input
		// events of the range, the window narrows to a day around it.
		slide := func(ms float64) {
			tb.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
				const s = document.getElementById('time-slider');
				s.value = String(Math.round((%f - window.pvs.time.extent[0]) / 1000));
				s.dispatchEvent(new Event('input', {bubbles: true}));
			})()`, ms)))
			tb.settle()
		}
		slide(acq[0])
		if w := eval[string](tb, "window.pvs.time.wmsTime()"); !strings.HasPrefix(w, "2018-06-15T") || strings.Contains(w, "2018-06-17") {
			t.Errorf("the window on the sample's acquisition is %s", w)
		}
		shot := tb.shot("")
		if n := patch(shot, tb.pixel(magentaAt[0], magentaAt[1]), isImagery); n < 60 {
			t.Errorf("TIME on the sample: not the sample under the magenta square (%d of 81 pixels of imagery)", n)
		}
		if n := patch(shot, tb.pixel(magentaAt[0], magentaAt[1]), isMagenta); n > 0 {
			t.Errorf("TIME on the sample: the newer product shows (%d magenta pixels)", n)
		}
		slide(acq[1])
		shot = tb.shot("client-time.png")
		if n := patch(shot, tb.pixel(magentaAt[0], magentaAt[1]), isMagenta); n < 60 {
			t.Errorf("TIME on the newer product: %d of 81 pixels magenta", n)
		}
		if n := patch(shot, tb.pixel(sampleAt[0], sampleAt[1]), isImagery); n > 0 {
			t.Errorf("TIME on the newer product: the sample shows (%d pixels of imagery)", n)
		}
		if stats := eval[map[string]int](tb, "window.pvs.stats"); stats["failed"] != 0 {
			t.Errorf("%d tiles failed while the time changed", stats["failed"])
		}
	})

	t.Run("search", func(t *testing.T) {
		tb := tb.on(t)
		// From afar, within the window of the newer product: that one only.
		tb.do(chromedp.Evaluate[chromedp.Void]("window.pvs.map.getView().setZoom(4)"))
		tb.settle()
		zoomBefore := eval[float64](tb, "window.pvs.map.getView().getZoom()")
		results := func() []string {
			tb.do(chromedp.Click(chromedp.CSS("#search-button")))
			tb.poll("the results", "/ of /.test(document.getElementById('search-count').textContent)")
			return eval[[]string](tb, "[...document.querySelectorAll('#results li')].map((li) => li.dataset.id)")
		}
		if got := results(); len(got) != 1 || got[0] != newerID {
			t.Errorf("search in the newer product's window: %v, want [%s]", got, newerID)
		}
		// The whole collection: both, newest first.
		tb.do(chromedp.Evaluate[chromedp.Void](`(() => {
			const w = document.getElementById('time-width');
			w.value = 'all';
			w.dispatchEvent(new Event('change', {bubbles: true}));
		})()`))
		got := results()
		if len(got) != 2 || got[0] != newerID || got[1] != sampleID {
			t.Fatalf("search over the whole collection: %v, want [%s %s]", got, newerID, sampleID)
		}
		tb.poll("the previews", "[...document.querySelectorAll('#results img')].every((i) => i.complete && i.naturalWidth > 0)")
		if n := eval[int](tb, "window.pvs.search.source.getFeatures().length"); n != 2 {
			t.Errorf("%d footprints on the map, want 2", n)
		}
		tb.do(chromedp.Evaluate[chromedp.Void]("window.pvs.map.getView().setZoom(8)"))
		tb.settle()
		tb.shot("client-search.png")
		// Far away, then a click on the sample's result.
		tb.do(chromedp.Evaluate[chromedp.Void]("const v = window.pvs.map.getView(); v.setCenter(v.getCenter().map((c) => c + 3e6)); v.setZoom(4)"))
		tb.settle()
		tb.do(chromedp.Click(chromedp.CSS(`#results li[data-id="` + sampleID + `"]`)))
		tb.settle()
		c := eval[[2]float64](tb, "window.pvs.center()")
		if c[0] < sampleBBox[0] || c[0] > sampleBBox[2] || c[1] < sampleBBox[1] || c[1] > sampleBBox[3] {
			t.Errorf("after the click the map is centred on %v, outside the sample %v", c, sampleBBox)
		}
		if z := eval[float64](tb, "window.pvs.map.getView().getZoom()"); z <= zoomBefore+3 {
			t.Errorf("the click did not zoom in: zoom %g, before %g", z, zoomBefore)
		}
		if !eval[bool](tb, `window.pvs.search.source.getFeatureById("`+sampleID+`").get('selected') === true`) ||
			!eval[bool](tb, `document.querySelector('#results li[data-id="`+sampleID+`"]').classList.contains('selected')`) {
			t.Error("the clicked product is not highlighted")
		}
		shot := tb.shot("")
		if n := patch(shot, tb.pixel(sampleAt[0], sampleAt[1]), isImagery); n < 60 {
			t.Errorf("the product is not drawn where it lies (%d of 81 pixels of imagery)", n)
		}
	})

	t.Run("product page", func(t *testing.T) {
		tb := tb.on(t)
		tb.poll("the product page", `!document.getElementById('product').hidden && document.getElementById('product-title').textContent === "`+sampleID+`"`)
		if h := eval[string](tb, "location.hash"); h != "#product="+sampleID {
			t.Errorf("the address is %q", h)
		}
		meta := eval[string](tb, "document.getElementById('product-meta').textContent")
		for _, want := range []string{"VHR_OPTICAL", "2018-06-15T15:20:00Z"} {
			if !strings.Contains(meta, want) {
				t.Errorf("the metadata %q lack %q", meta, want)
			}
		}
		tb.poll("the browse previews", "document.querySelectorAll('#product-browses figure').length > 0 && [...document.querySelectorAll('#product-browses figure')].every((f) => f.dataset.drawn)")
		// The sample has three bands: the default browse draws it, the
		// false colour (bands 4, 1, 2) does not, and says so.
		browses := eval[map[string]bool](tb, `Object.fromEntries([...document.querySelectorAll('#product-browses figure')].map((f) => [f.querySelector('img').alt, f.dataset.drawn === 'false']))`)
		if empty, ok := browses["default browse"]; !ok || empty {
			t.Errorf("browse previews %v: the default browse is not drawn", browses)
		}
		if empty, ok := browses["FALSE_COLOR"]; ok && !empty {
			t.Errorf("browse previews %v: FALSE_COLOR of a 3-band product is not marked empty", browses)
		}
		// The WCS download is the product as a GeoTIFF.
		href := eval[string](tb, "document.getElementById('product-download').href")
		if !strings.Contains(href, "REQUEST=GetCoverage") || !strings.Contains(href, "COVERAGEID="+sampleID) {
			t.Fatalf("download link %s", href)
		}
		resp, err := http.Get(href)
		testenv.Must(t, err, "GET %s", href)
		tiff, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(tiff, []byte("II*\x00")) && !bytes.HasPrefix(tiff, []byte("MM\x00*")) && !bytes.HasPrefix(tiff, []byte("II+\x00")) {
			t.Errorf("WCS download: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(tiff))
		}
		tb.shot("client-product.png")
		// The product's address opens its page in a new tab.
		other := b.tab(t, srv.URL+"/#product="+newerID, 1280, 800)
		other.poll("the linked product page", `window.pvs && window.pvs.ready && document.getElementById('product-title').textContent === "`+newerID+`"`)
		if p := other.seen(); len(p) > 0 {
			t.Errorf("problems on the linked product page: %v", p)
		}
	})

	t.Run("feature info", func(t *testing.T) {
		tb := tb.on(t)
		p := tb.pixel(magentaAt[0], magentaAt[1])
		tb.do(chromedp.MouseClickXY(float64(p.X), float64(p.Y)))
		tb.poll("the feature info", `!document.getElementById('popup').hidden && document.getElementById('popup').querySelectorAll('li').length > 0`)
		got := eval[[]string](tb, "[...document.querySelectorAll('#popup li a')].map((a) => a.textContent)")
		if len(got) != 2 || got[0] != newerID || got[1] != sampleID {
			t.Errorf("GetFeatureInfo at the magenta square lists %v, want [%s %s]", got, newerID, sampleID)
		}
	})

	t.Run("drawn box", func(t *testing.T) {
		tb := tb.on(t)
		// A box over the east of the scene, away from the magenta square:
		// the view holds both products, the box the sample alone.
		tb.do(chromedp.Click(chromedp.CSS("#draw-box")))
		from, to := tb.pixel(-77.3, 24.55), tb.pixel(-77.0, 24.25)
		// Click, move, click: as a hand moves the mouse.
		tb.do(chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, float64(from.X), float64(from.Y)),
			chromedp.MouseClickXY(float64(from.X), float64(from.Y)))
		time.Sleep(300 * time.Millisecond)
		for i := 1; i <= 10; i++ {
			x := float64(from.X) + float64(to.X-from.X)*float64(i)/10
			y := float64(from.Y) + float64(to.Y-from.Y)*float64(i)/10
			tb.do(chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y))
		}
		tb.do(chromedp.MouseClickXY(float64(to.X), float64(to.Y)))
		tb.poll("the drawn box", "document.querySelector('input[name=area][value=box]').checked && !document.getElementById('draw-box').classList.contains('active')")
		tb.do(chromedp.Evaluate[chromedp.Void]("document.getElementById('search-count').textContent = ''"))
		tb.do(chromedp.Click(chromedp.CSS("#search-button")))
		tb.poll("the results", "/ of /.test(document.getElementById('search-count').textContent)")
		got := eval[[]string](tb, "[...document.querySelectorAll('#results li')].map((li) => li.dataset.id)")
		if len(got) != 1 || got[0] != sampleID {
			t.Errorf("search in the drawn box: %v, want [%s]", got, sampleID)
		}
		if !eval[bool](tb, "document.getElementById('popup').hidden") {
			t.Error("the clicks that drew the box also asked for feature info")
		}
	})

	if p := tb.seen(); len(p) > 0 {
		for _, x := range p {
			t.Errorf("on the page: %s", x)
		}
	}
	if stats := eval[map[string]int](tb, "window.pvs.stats"); stats["loaded"] == 0 || stats["failed"] != 0 {
		t.Errorf("tiles and maps: %d loaded, %d failed", stats["loaded"], stats["failed"])
	}
}
