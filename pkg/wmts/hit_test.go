package wmts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/pvs/pvs/pkg/httpserver"
	"github.com/pvs/pvs/pkg/tile"
)

// cachedTiles holds some tiles as files, some in memory and some as plain
// streams; it draws the others.
type cachedTiles struct {
	dir    string
	memory map[string][]byte
	stream map[string][]byte
}

var errNotCached = errors.New("not cached")

func (f *cachedTiles) OpenCached(ctx context.Context, k tile.Key) (tile.Content, error) {
	p := k.Path()
	if b, ok := f.memory[p]; ok {
		return tile.Content{Body: io.NopCloser(bytes.NewReader(b)), Size: int64(len(b)), Version: "m" + k.Path(), Hit: true, Data: b}, nil
	}
	if b, ok := f.stream[p]; ok {
		return tile.Content{Body: io.NopCloser(bytes.NewReader(b)), Size: int64(len(b)), Version: "s" + k.Path(), Hit: true}, nil
	}
	file, err := os.Open(filepath.Join(f.dir, p))
	if err != nil {
		return tile.Content{}, errNotCached
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return tile.Content{}, err
	}
	return tile.Content{Body: file, Size: st.Size(), Version: "f" + k.Path(), Hit: true}, nil
}

func (f *cachedTiles) Open(ctx context.Context, k tile.Key) (tile.Content, error) {
	if c, err := f.OpenCached(ctx, k); err == nil {
		return c, nil
	}
	b := []byte("drawn " + k.Path())
	return tile.Content{Body: io.NopCloser(bytes.NewReader(b)), Size: int64(len(b)), Version: "d" + k.Path()}, nil
}

// TestServeHitAnswersAsServeHTTP sends the same requests to the handler on
// net/http and on fasthttp with ServeHit in front, and checks that the
// answers agree and that ServeHit took exactly the cache hits.
func TestServeHitAnswersAsServeHTTP(t *testing.T) {
	h, _ := handler()
	ct := &cachedTiles{dir: t.TempDir(), memory: map[string][]byte{}, stream: map[string][]byte{}}
	h.Tiles = ct
	key := func(z, row, col int, format string) tile.Key {
		return tile.Key{Layer: "VHR_IMAGE_2018", Grid: "GoogleMapsCompatible", Time: tile.DefaultTime, Z: z, Row: row, Col: col, Format: format}
	}
	// A file larger than fasthttp's small-file limit goes by sendfile.
	big := bytes.Repeat([]byte("0123456789abcdef"), 10000)
	filed := key(8, 109, 72, "png")
	if err := os.MkdirAll(filepath.Dir(filepath.Join(ct.dir, filed.Path())), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ct.dir, filed.Path()), big, 0o644); err != nil {
		t.Fatal(err)
	}
	ct.memory[key(8, 109, 73, "png").Path()] = []byte("tile in memory")
	ct.stream[key(8, 110, 72, "png").Path()] = []byte("tile from a stream")

	var taken atomic.Value // what ServeHit answered last
	fast := func(c *fasthttp.RequestCtx) bool {
		protocol, op, ok := h.ServeHit(c)
		if ok {
			taken.Store(protocol + " " + op)
		}
		return ok
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- httpserver.ServeFast(ctx, slog.New(slog.DiscardHandler), ln, fast, h, httpserver.Options{})
	}()
	defer func() { cancel(); <-done }()
	std := httptest.NewServer(h)
	defer std.Close()

	rest := "/wmts/1.0.0/VHR_IMAGE_2018/default/GoogleMapsCompatible/"
	g := tile.GoogleMapsCompatible.BBox(8, 109, 72)
	bbox := strings.Join([]string{ff(g[0]), ff(g[1]), ff(g[2]), ff(g[3])}, ",")
	for _, c := range []struct {
		method, target, inm string
		taken               string // "": left to ServeHTTP
	}{
		{"GET", rest + "8/109/72.png", "", "WMTS GetTile"},
		{"GET", rest + "8/109/73.png", "", "WMTS GetTile"},
		{"GET", rest + "8/110/72.png", "", "WMTS GetTile"},
		{"HEAD", rest + "8/109/72.png", "", "WMTS GetTile"},
		{"GET", rest + "8/109/72.png", `"f` + filed.Path() + `"`, "WMTS GetTile"},
		{"GET", rest + "8/109/72.png", `"other"`, "WMTS GetTile"},
		{"GET", "/wmts?service=wmts&request=GetTile&LAYER=VHR_IMAGE_2018&STYLE=default&TILEMATRIXSET=GoogleMapsCompatible&TILEMATRIX=8&TILEROW=109&TILECOL=73&FORMAT=image/png", "", "WMTS GetTile"},
		{"GET", "/wmts?SERVICE=WMS&REQUEST=GetMap&VERSION=1.3.0&LAYERS=VHR_IMAGE_2018&STYLES=&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE&CRS=EPSG:3857&BBOX=" + bbox, "", "WMS GetMap"},
		// Left to ServeHTTP: a tile to draw, a blank, errors, the rest.
		{"GET", rest + "8/111/72.png", "", ""},
		{"GET", rest + "8/0/0.png", "", ""},
		{"GET", "/wmts/1.0.0/NOPE/default/GoogleMapsCompatible/8/109/72.png", "", ""},
		{"GET", rest + "8/109/72.gif", "", ""},
		{"GET", rest + "8/109/72/1/2.html", "", ""},
		{"GET", "/wmts/1.0.0/WMTSCapabilities.xml", "", ""},
		{"GET", "/wmts?SERVICE=WMTS&REQUEST=GetTile&LAYER=VHR_IMAGE_2018", "", ""},
		{"POST", rest + "8/109/72.png", "", ""},
	} {
		taken.Store("")
		want := send(t, c.method, std.URL+c.target, c.inm)
		got := send(t, c.method, "http://"+ln.Addr().String()+c.target, c.inm)
		if op := taken.Load(); op != c.taken {
			t.Errorf("%s %s: ServeHit answered %q, want %q", c.method, c.target, op, c.taken)
		}
		if got != want {
			t.Errorf("%s %s (If-None-Match %s):\nfasthttp %s\nnet/http %s", c.method, c.target, c.inm, got, want)
		}
	}
}

// send makes a request and sums up the answer: status, the headers a tile
// client reads, and the body.
func send(t *testing.T, method, url, inm string) string {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if inm != "" {
		req.Header.Set("If-None-Match", inm)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	// A buffered answer (fasthttp's adaptor) has a length where net/http
	// streams it in chunks: the length must be the body's, and a HEAD's
	// the GET's.
	names := []string{"Content-Type", "ETag", "Cache-Control", "X-Cache", "Access-Control-Allow-Origin"}
	if cl := resp.Header.Get("Content-Length"); method == http.MethodHead {
		names = append(names, "Content-Length")
	} else if cl != "" && cl != strconv.Itoa(len(body)) {
		t.Errorf("%s %s: Content-Length %s, body %d bytes", method, url, cl, len(body))
	}
	var b strings.Builder
	b.WriteString(resp.Status)
	for _, name := range names {
		b.WriteString(" | " + name + ": " + resp.Header.Get(name))
	}
	if len(body) > 200 {
		fmt.Fprintf(&b, " | %d bytes, SHA-256 %x", len(body), sha256.Sum256(body))
	} else {
		b.WriteString(" | " + string(body))
	}
	return b.String()
}
