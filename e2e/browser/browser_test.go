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
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/pvs/pvs/internal/testenv"
)

// npmBuild runs `npm run build ARGS...` in web/<dir> (ol and esbuild from
// its package-lock.json), after `npm ci` when it has no node_modules.
func npmBuild(t *testing.T, dir string, args ...string) {
	t.Helper()
	web := filepath.Join(testenv.RepoRoot(t), "web", dir)
	run := func(name string, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = web
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s in web/%s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
		}
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatalf("the pages are bundled with npm: install nodejs and npm (scripts/deps.sh): %v", err)
	}
	if _, err := os.Stat(filepath.Join(web, "node_modules", ".bin", "esbuild")); err != nil {
		run("npm", "ci", "--no-audit", "--no-fund")
	}
	run("npm", append([]string{"run", "--silent", "build"}, args...)...)
}

// bundle builds the pages' scripts (web/test/src, with ol from the locked
// package-lock.json) into a temporary folder and returns it. npm ci runs
// first when web/test has no node_modules.
func bundle(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	npmBuild(t, "test", "--", "--outdir="+out)
	return out
}

// page is the document every script runs in: a map of a known size.
const page = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>pvs browser test</title>
<style>html, body { margin: 0; background: #fff; } #map { width: 800px; height: 600px; }</style>
</head><body><div id="map"></div><script src="/js/%s.js"></script></body></html>`

// site serves the pages (/wmts.html, /wmstime.html), their scripts, and
// hands /ows and /wmts to ogc, so that everything has one origin.
func site(t *testing.T, scripts string, ogc http.Handler) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/js/", http.StripPrefix("/js/", http.FileServer(http.Dir(scripts))))
	for _, name := range []string{"wmts", "wmstime"} {
		html := fmt.Sprintf(page, name)
		mux.HandleFunc("/"+name+".html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(html))
		})
	}
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.Handle("/ows", ogc)
	mux.Handle("/wmts", ogc)
	mux.Handle("/wmts/", ogc)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// browser is one headless Chromium; each page opens in a tab of its own.
type browser struct{ ctx context.Context }

func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := testenv.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 768),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Do starts the browser and ties it to ctx: no timeout here.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	return &browser{ctx: ctx}
}

// problems is a tab's listener that notes what went wrong on the page:
// uncaught exceptions, console errors, browser log errors, HTTP errors and
// failed requests. It runs in the tab's message loop: it only records.
func problems(note func(format string, args ...any)) func(ev any) {
	return func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			desc := d.Text
			if d.Exception != nil {
				desc += " " + d.Exception.Description
			}
			note("uncaught exception: %s", desc)
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				note("console.error: %s", strings.Join(args, " "))
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				note("browser log: %s %s", ev.Entry.Text, ev.Entry.URL)
			}
		case *network.EventResponseReceived:
			if ev.Response.Status >= 400 {
				note("HTTP %d for %s", ev.Response.Status, ev.Response.URL)
			}
		case *network.EventLoadingFailed:
			if !ev.Canceled { // OpenLayers aborts tiles it no longer needs
				note("request failed: %s (%s)", ev.ErrorText, ev.Type)
			}
		}
	}
}

// visit is what a page left behind.
type visit struct {
	result     []byte   // window.result as JSON
	screenshot []byte   // PNG of the viewport, the map at its top left
	problems   []string // uncaught exceptions, console errors, failed requests
}

// open loads url in a new tab, waits for the page's window.result and
// takes a screenshot of the map.
func (b *browser) open(t *testing.T, pageURL string) visit {
	t.Helper()
	var mu sync.Mutex
	var v visit
	note := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		v.problems = append(v.problems, fmt.Sprintf(format, args...))
	}
	tab, closeTab := chromedp.NewContext(b.ctx, chromedp.WithListener(problems(note)))
	defer closeTab()
	ctx, cancel := context.WithTimeout(tab, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("open %s: %v", pageURL, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!window.result", chromedp.WithPollingTimeout(90*time.Second))); err != nil {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("%s: no result: %v (problems: %v)", pageURL, err, v.problems)
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[string]("JSON.stringify(window.result)"))
	if err != nil {
		t.Fatalf("%s: read the result: %v", pageURL, err)
	}
	// The viewport: the map is its top left 800×600 pixels. (A screenshot
	// of the element waits for a DOM query that never ends here.)
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("%s: screenshot: %v", pageURL, err)
	}
	keepShot(t, shot)
	mu.Lock()
	defer mu.Unlock()
	v.result, v.screenshot = []byte(res), shot
	return v
}

// keepShot writes a screenshot to $PVS_BROWSER_SHOTS, to look at what the
// browser showed.
func keepShot(t *testing.T, shot []byte) {
	t.Helper()
	dir := os.Getenv("PVS_BROWSER_SHOTS")
	if dir == "" {
		return
	}
	name := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+".png")
	if err := os.WriteFile(name, shot, 0o644); err != nil {
		t.Errorf("keep the screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s", name)
}

// decode reads the page's result, failing on a page error or on problems
// seen while it ran.
func (v visit) decode(t *testing.T, what string, into any) {
	t.Helper()
	var status struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(v.result, &status); err != nil {
		t.Fatalf("%s: result %s: %v", what, v.result, err)
	}
	if !status.OK {
		t.Fatalf("%s: the page failed: %s", what, status.Error)
	}
	for _, p := range v.problems {
		t.Errorf("%s: %s", what, p)
	}
	if err := json.Unmarshal(v.result, into); err != nil {
		t.Fatalf("%s: result %s: %v", what, v.result, err)
	}
}

// canvas is what common.js canvasStats measured.
type canvas struct {
	Painted int        `json:"painted"`
	Mean    [3]float64 `json:"mean"`
	Hash    uint32     `json:"hash"`
}

// wmtsResult is what wmts.js reports.
type wmtsResult struct {
	Projection string     `json:"projection"`
	Extent     [4]float64 `json:"extent"`
	Tiles      struct {
		Loaded int `json:"loaded"`
		Failed int `json:"failed"`
	} `json:"tiles"`
	Center [2]float64 `json:"center"`
	Canvas canvas     `json:"canvas"`
}

// timeResult is what wmstime.js reports.
type timeResult struct {
	Times  []string `json:"times"`
	Frames []struct {
		Time    string `json:"time"`
		Outcome string `json:"outcome"`
		Canvas  canvas `json:"canvas"`
	} `json:"frames"`
	Requests []struct {
		Time   *string `json:"time"`
		Status int     `json:"status"`
		Type   string  `json:"type"`
		Error  string  `json:"error"`
	} `json:"requests"`
	Legend *struct {
		URL        string `json:"url"`
		Advertised [2]int `json:"advertised"`
		Size       [2]int `json:"size"`
		Error      string `json:"error"`
	} `json:"legend"`
}

// wmtsPage opens the WMTS page for a layer and matrix set and checks what
// every WMTS map must show: a tile grid with an extent, tiles loaded
// without an error, and paint at the centre of the layer's extent.
func wmtsPage(t *testing.T, b *browser, base, layer, matrixSet string) (wmtsResult, image.Image) {
	t.Helper()
	q := url.Values{"capabilities": {"/wmts/1.0.0/WMTSCapabilities.xml"}, "layer": {layer}, "matrixSet": {matrixSet}}
	v := b.open(t, base+"/wmts.html?"+q.Encode())
	var r wmtsResult
	v.decode(t, matrixSet, &r)
	shot, err := mapShot(v.screenshot)
	if err != nil {
		t.Fatalf("%s: screenshot: %v", matrixSet, err)
	}
	if r.Tiles.Loaded == 0 || r.Tiles.Failed != 0 {
		t.Errorf("%s: %d tiles loaded, %d failed", matrixSet, r.Tiles.Loaded, r.Tiles.Failed)
	}
	if r.Canvas.Painted < 10000 {
		t.Errorf("%s: %d painted canvas pixels", matrixSet, r.Canvas.Painted)
	}
	t.Logf("%s: %s extent %v, %d tiles, %d painted pixels", matrixSet, r.Projection, r.Extent, r.Tiles.Loaded, r.Canvas.Painted)
	x, y := int(r.Center[0]), int(r.Center[1])
	if !painted(shot.At(x, y)) {
		t.Errorf("%s: the screenshot is blank at the centre of the layer's extent (%d,%d)", matrixSet, x, y)
	}
	return r, shot
}

// timePage pages the WMS TIME values of a layer and checks that every map
// came back as a PNG with paint, that the map changes between values, and
// that the layer's LegendURL loads at its advertised size.
func timePage(t *testing.T, b *browser, base, layer string) timeResult {
	t.Helper()
	v := b.open(t, base+"/wmstime.html?"+url.Values{"wms": {"/ows"}, "layer": {layer}}.Encode())
	var r timeResult
	v.decode(t, "WMS TIME", &r)
	if len(r.Times) < 3 || len(r.Frames) != len(r.Times) {
		t.Fatalf("times %v, %d frames", r.Times, len(r.Frames))
	}
	hashes := map[uint32]bool{}
	for _, f := range r.Frames {
		t.Logf("TIME=%s: %s, %d painted pixels, mean colour %v", f.Time, f.Outcome, f.Canvas.Painted, f.Canvas.Mean)
		if f.Outcome != "loaded" || f.Canvas.Painted == 0 {
			t.Errorf("TIME=%s: %s, %d painted pixels", f.Time, f.Outcome, f.Canvas.Painted)
		}
		hashes[f.Canvas.Hash] = true
	}
	if len(hashes) < 2 {
		t.Errorf("the map is the same for every TIME value %v", r.Times)
	}
	timed := 0
	for _, q := range r.Requests {
		if q.Status != http.StatusOK || q.Type != "image/png" || q.Error != "" {
			t.Errorf("GetMap TIME=%v: %d %s %s", q.Time, q.Status, q.Type, q.Error)
		}
		if q.Time != nil {
			timed++
		}
	}
	if timed < len(r.Times) {
		t.Errorf("%d GetMap requests with a TIME for %d values", timed, len(r.Times))
	}
	switch {
	case r.Legend == nil:
		t.Error("the layer has no LegendURL")
	case r.Legend.Error != "" || r.Legend.Size != r.Legend.Advertised || r.Legend.Size[0] == 0:
		t.Errorf("legend %s: %+v", r.Legend.URL, *r.Legend)
	}
	return r
}

// mapShot cuts the map out of a screenshot of the viewport.
func mapShot(b []byte) (image.Image, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok || img.Bounds().Dx() < 800 || img.Bounds().Dy() < 600 {
		return nil, fmt.Errorf("a %v %T screenshot holds no 800×600 map", img.Bounds(), img)
	}
	return sub.SubImage(image.Rect(0, 0, 800, 600)), nil
}

// painted reports whether a screenshot pixel is not the white page.
func painted(c interface{ RGBA() (r, g, b, a uint32) }) bool {
	r, g, b, _ := c.RGBA()
	return r>>8 < 245 || g>>8 < 245 || b>>8 < 245
}
