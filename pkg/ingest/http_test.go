package ingest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/queue"
)

const testToken = "s3cr3t-token-of-the-test"

func TestEndpoint(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	l := newLedger(t)
	src := testenv.S3Bucket(t)
	put(t, src, "in/a.tar", "a")
	put(t, src, "in/scene.tif", "tif")
	put(t, src, "in/SAFE/MTD.xml", "<x/>")
	put(t, src, "in/props.tif", "tif")
	srv := httptest.NewServer(&Handler{Token: testToken, Ledger: l, Source: src, Collection: testColl, CheckExists: true,
		MaxBytes: 4096, Log: slog.New(slog.DiscardHandler)})
	defer srv.Close()

	do := func(method, target, token, contentType, body string) (int, map[string]any, http.Header) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+target, strings.NewReader(body))
		testenv.Must(t, err, "request")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		testenv.Must(t, err, "%s %s", method, target)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s %s: %d, body not JSON: %s", method, target, resp.StatusCode, raw)
		}
		return resp.StatusCode, v, resp.Header
	}
	const js = "application/json"

	refused := []struct {
		name, target, token, ctype, body string
		code                             int
		want                             string
	}{
		{"no token", "/ingest", "", js, `{"path":"in/a.tar"}`, 401, "bearer token"},
		{"wrong token", "/ingest", "guess", js, `{"path":"in/a.tar"}`, 401, "bearer token"},
		{"not JSON", "/ingest", testToken, js, `{"path":`, 400, "not a preprocess-md_queue document"},
		{"unknown field", "/ingest", testToken, js, `{"path":"in/a.tar","cloud_cover":3}`, 400, `unknown field "cloud_cover"`},
		{"two documents", "/ingest", testToken, js, `{"path":"in/a.tar"}{"path":"in/b.tar"}`, 400, "more than one JSON value"},
		{"no path", "/ingest", testToken, js, `{"identifier":"X"}`, 422, "path is empty"},
		{"absolute path", "/ingest", testToken, "text/plain", "/etc/passwd", 422, "without a leading /"},
		{"two lines", "/ingest", testToken, "text/plain", "in/a.tar\nin/b.tar", 400, "one package path"},
		{"bad time", "/ingest", testToken, js, `{"path":"in/scene.tif","begin_time":"15/06/2018"}`, 422, "begin_time: invalid time"},
		{"bad footprint", "/ingest", testToken, js, `{"path":"in/scene.tif","footprint":{"type":"Point","coordinates":[1,2]}}`, 422, "footprint must be a GeoJSON Polygon or MultiPolygon"},
		{"unknown product type", "/ingest", testToken, js, `{"path":"in/scene.tif","product_type":"S2MSI1C"}`, 422, "not one of collection VHR_IMAGE_2018"},
		{"array property", "/ingest", testToken, js, `{"path":"in/scene.tif","properties":{"bands":[1,2]}}`, 400, `property "bands": an object or array`},
		{"cloud cover over 100", "/ingest", testToken, js, `{"path":"in/scene.tif","properties":{"cloudCover":140}}`, 422, `property cloudCover "140" is not a percentage`},
		{"misspelt property", "/ingest", testToken, js, `{"path":"in/scene.tif","properties":{"cloud_cover":14}}`, 422, "spelled cloudCover"},
		{"missing object", "/ingest", testToken, js, `{"path":"in/nothing.tar"}`, 422, `path "in/nothing.tar": no object or prefix`},
		{"wrong content type", "/ingest", testToken, "application/xml", `<path/>`, 415, "send application/json"},
		{"too large", "/ingest", testToken, js, `{"path":"` + strings.Repeat("a", 5000) + `"}`, 413, "body over 4096 bytes"},
		{"bad force", "/ingest?force=maybe", testToken, js, `{"path":"in/a.tar"}`, 400, "force="},
		{"method", "/ingest", testToken, js, ``, 405, "method PUT not allowed"},
	}
	for _, tc := range refused {
		method := http.MethodPost
		if tc.code == 405 {
			method = http.MethodPut
		}
		code, body, hdr := do(method, tc.target, tc.token, tc.ctype, tc.body)
		msg, _ := body["error"].(string)
		if code != tc.code || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %d %q, want %d naming %q", tc.name, code, msg, tc.code, tc.want)
		}
		if code == 401 && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: 401 without WWW-Authenticate: Bearer", tc.name)
		}
	}
	if n, _ := l.Q.Redis().Exists(ctx, l.Q.Key(PackageQueue), l.Q.Key(MetadataQueue)).Result(); n != 0 {
		t.Fatalf("refused requests pushed something")
	}

	// Accepted: a path, as text and as JSON; a document; a prefix.
	accepted := []struct {
		name, ctype, body, queue, item string
	}{
		{"path as text", "text/plain", "in/a.tar\n", PackageQueue, "in/a.tar"},
		{"directory package", js, `{"path":"in/SAFE"}`, PackageQueue, "in/SAFE"},
		{"document", js, `{"path":"in/scene.tif","identifier":"SCENE","begin_time":"2018-06-15T10:00:00Z","end_time":"2018-06-15T10:00:09Z",
			"footprint":{"type":"Polygon","coordinates":[[[1,2],[2,2],[2,3],[1,3],[1,2]]]}}`, MetadataQueue,
			`{"path":"in/scene.tif","identifier":"SCENE","begin_time":"2018-06-15T10:00:00Z","end_time":"2018-06-15T10:00:09Z","footprint":{"type":"Polygon","coordinates":[[[1,2],[2,2],[2,3],[1,3],[1,2]]]}}`},
		{"properties alone", js, `{"path":"in/props.tif","properties":{"platform":"PHR1A","cloudCover":12.5}}`, MetadataQueue,
			`{"path":"in/props.tif","properties":{"cloudCover":"12.5","platform":"PHR1A"}}`},
	}
	for _, tc := range accepted {
		code, body, _ := do(http.MethodPost, "/ingest", testToken, tc.ctype, tc.body)
		if code != http.StatusAccepted || body["queued"] != true || body["queue"] != tc.queue || body["item"] != tc.item {
			t.Errorf("%s: %d %v, want 202 with item %s on %s", tc.name, code, body, tc.item, tc.queue)
			continue
		}
		// The item is what `pvs status ITEM` reads: its history.
		hs, err := l.Q.History(ctx, body["item"].(string))
		testenv.Must(t, err, "history")
		if len(hs) != 1 || hs[0].Status != queue.StatusQueued || hs[0].Queue != tc.queue {
			t.Errorf("%s: history of the answered item: %+v", tc.name, hs)
		}
	}
	// The same again: 200, not queued, and why.
	code, body, _ := do(http.MethodPost, "/ingest", testToken, js, `{"path":"in/a.tar"}`)
	if code != http.StatusOK || body["queued"] != false || body["state"] != "queued" || !strings.Contains(body["reason"].(string), "already queued") {
		t.Errorf("duplicate: %d %v", code, body)
	}
	code, body, _ = do(http.MethodPost, "/ingest?force=true", testToken, js, `{"path":"in/a.tar"}`)
	if code != http.StatusOK || body["queued"] != false || !strings.Contains(body["reason"].(string), "already queued or in flight") {
		t.Errorf("forced duplicate of a pending item (it runs once): %d %v", code, body)
	}
	// Where a package stands.
	code, body, _ = do(http.MethodGet, "/ingest?path=in/scene.tif", testToken, "", "")
	if code != http.StatusOK || body["state"] != "queued" || body["queue"] != MetadataQueue || body["origin"] != "http" {
		t.Errorf("GET state: %d %v", code, body)
	}
	code, body, _ = do(http.MethodGet, "/ingest?path=in/other.tar", testToken, "", "")
	if code != http.StatusOK || body["state"] != "new" {
		t.Errorf("GET state of an unknown package: %d %v", code, body)
	}
	if code, _, _ := do(http.MethodGet, "/ingest?path=in/a.tar", "", "", ""); code != 401 {
		t.Errorf("GET without a token: %d", code)
	}
}
