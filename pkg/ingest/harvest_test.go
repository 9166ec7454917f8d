package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/preprocess"
	"github.com/pvs/pvs/pkg/store"
)

func stacItem(id, day, href string) map[string]any {
	return map[string]any{
		"type": "Feature", "stac_version": "1.0.0", "id": id, "collection": "vhr",
		"geometry": map[string]any{"type": "Polygon", "coordinates": [][][2]float64{{{-78.9, 23.5}, {-76.6, 23.5}, {-76.6, 25.6}, {-78.9, 25.6}, {-78.9, 23.5}}}},
		"bbox":     []float64{-78.9, 23.5, -76.6, 25.6},
		"properties": map[string]any{"datetime": nil, "start_datetime": day + "T15:20:00Z", "end_datetime": day + "T15:20:30Z",
			"platform": "PHR1A", "constellation": "pleiades", "instruments": []string{"PHR"}, "eo:cloud_cover": 12.5,
			"sat:orbit_state": "descending", "sat:absolute_orbit": 12345},
		"assets": map[string]any{
			"thumbnail": map[string]any{"href": "./thumb.png", "type": "image/png", "roles": []string{"thumbnail"}},
			"data":      map[string]any{"href": href, "type": "image/tiff; application=geotiff", "roles": []string{"data"}},
		},
		"links": []any{},
	}
}

func putJSON(t *testing.T, s store.Store, key string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	testenv.Must(t, err, "marshal %s", key)
	put(t, s, key, string(b))
}

// staticCatalog writes a catalog → collection → items tree with relative
// links into s under stac/, with the rasters beside the items, plus one
// item whose raster is elsewhere and one without times.
func staticCatalog(t *testing.T, s store.Store, ids []string) {
	t.Helper()
	links := []any{map[string]any{"rel": "root", "href": "../catalog.json"}, map[string]any{"rel": "parent", "href": "../catalog.json"}}
	for _, id := range ids {
		links = append(links, map[string]any{"rel": "item", "href": "./" + id + "/" + id + ".json", "type": "application/geo+json"})
		putJSON(t, s, "stac/vhr/"+id+"/"+id+".json", stacItem(id, "2018-06-15", "./"+id+".tif"))
		put(t, s, "stac/vhr/"+id+"/"+id+".tif", "raster")
	}
	links = append(links, map[string]any{"rel": "item", "href": "./foreign.json"}, map[string]any{"rel": "item", "href": "./timeless.json"})
	putJSON(t, s, "stac/vhr/foreign.json", stacItem("FOREIGN", "2018-06-16", "https://elsewhere.example.com/FOREIGN.tif"))
	timeless := stacItem("TIMELESS", "2018-06-16", "./x.tif")
	timeless["properties"] = map[string]any{"datetime": nil}
	putJSON(t, s, "stac/vhr/timeless.json", timeless)
	putJSON(t, s, "stac/vhr/collection.json", map[string]any{"type": "Collection", "stac_version": "1.0.0", "id": "vhr",
		"description": "VHR", "license": "proprietary", "links": links,
		"extent": map[string]any{"spatial": map[string]any{"bbox": [][]float64{{-180, -90, 180, 90}}}, "temporal": map[string]any{"interval": [][]any{{nil, nil}}}}})
	putJSON(t, s, "stac/catalog.json", map[string]any{"type": "Catalog", "stac_version": "1.0.0", "id": "root", "description": "root",
		"links": []any{map[string]any{"rel": "root", "href": "./catalog.json"}, map[string]any{"rel": "child", "href": "./vhr/collection.json"},
			// a loop back to the root must not make the walk go round
			map[string]any{"rel": "child", "href": "./catalog.json"}}})
}

func newHarvester(t *testing.T, l *Ledger, src store.Store, location string) *Harvester {
	t.Helper()
	hrefs, base, err := SourceHrefs(location)
	testenv.Must(t, err, "hrefs")
	return &Harvester{Name: "stac", Source: src, SourceBase: base, Policy: itemPolicy{Hrefs: hrefs}, Collection: testColl,
		Ledger: l, Interval: time.Minute, Owner: "test", Concurrency: 4, Log: slog.New(slog.DiscardHandler)}
}

// A static catalog in the source store (S3 or local) becomes md-queue
// items, with the items' ids, geometries and times; a second pass queues
// nothing.
func TestHarvestStaticCatalog(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			testenv.Require(t)
			src := open(t)
			location := strings.TrimSuffix(src.URL(), "/")
			if name == "file" {
				location = strings.TrimPrefix(location, "file://")
			}
			harvestStatic(t, src, location)
		})
	}
}

func harvestStatic(t *testing.T, src store.Store, location string) {
	ctx := context.Background()
	l := newLedger(t)
	staticCatalog(t, src, []string{"SCENE_A", "SCENE_B"})
	h := newHarvester(t, l, src, location)
	h.Catalog = "stac/catalog.json"
	r, err := h.Pass(ctx)
	testenv.Must(t, err, "harvest")
	if r.Items != 4 || r.Pushed != 2 || r.Foreign != 1 || r.Rejected != 1 {
		t.Fatalf("harvest: %+v, want 4 items, 2 pushed, 1 outside the store, 1 rejected", r)
	}
	items := queued(t, l, MetadataQueue)
	if len(items) != 2 {
		t.Fatalf("preprocess-md_queue holds %v", items)
	}
	for i, id := range []string{"SCENE_A", "SCENE_B"} {
		var md preprocess.MDItem
		dec := json.NewDecoder(strings.NewReader(items[i]))
		dec.DisallowUnknownFields()
		testenv.Must(t, dec.Decode(&md), "the preprocessor reads %s", items[i])
		if md.Path != "stac/vhr/"+id+"/"+id+".tif" || md.Identifier != id || md.BeginTime != "2018-06-15T15:20:00Z" ||
			md.EndTime != "2018-06-15T15:20:30Z" || !strings.Contains(string(md.Footprint), `"Polygon"`) {
			t.Errorf("item %d: %+v", i, md)
		}
	}
	r, err = newHarvester(t, l, src, location).withCatalog("stac/catalog.json").Pass(ctx)
	testenv.Must(t, err, "harvest again")
	if r.Pushed != 0 || r.Skipped != 2 {
		t.Fatalf("second harvest (a restart): %+v, want the 2 items skipped", r)
	}
	// The watcher and the endpoint see the harvested packages.
	st, err := l.Status(ctx, "stac/vhr/SCENE_A/SCENE_A.tif")
	testenv.Must(t, err, "status")
	if st.State != Queued || st.Origin != "harvest:stac" {
		t.Errorf("status of a harvested package: %+v", st)
	}
}

func (h *Harvester) withCatalog(c string) *Harvester { h.Catalog = c; return h }

// stacAPI serves an item search over items, limit items a page, with
// "next" links carrying a token, as STAC API servers page.
func stacAPI(t *testing.T, items []map[string]any) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/search" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		if q.Get("collections") != "vhr" || q.Get("datetime") != "2018-01-01T00:00:00Z/.." || q.Get("bbox") != "-80,20,-70,30" {
			http.Error(w, "unexpected query "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		limit, _ := strconv.Atoi(q.Get("limit"))
		start, _ := strconv.Atoi(q.Get("token"))
		end := min(start+limit, len(items))
		page := map[string]any{"type": "FeatureCollection", "features": items[start:end], "links": []any{}}
		if end < len(items) {
			next := *r.URL
			nq := next.Query()
			nq.Set("token", strconv.Itoa(end))
			next.RawQuery = nq.Encode()
			page["links"] = []any{map[string]any{"rel": "next", "href": "http://" + r.Host + next.String(), "method": "GET"}}
		}
		w.Header().Set("Content-Type", "application/geo+json")
		json.NewEncoder(w).Encode(page)
	}))
}

// A STAC API item search, paged, whose assets point into the source
// bucket by s3:// hrefs and by a configured https prefix.
func TestHarvestSearchAPI(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	l := newLedger(t)
	src := testenv.S3Bucket(t)
	bucket := strings.TrimSuffix(strings.TrimPrefix(src.URL(), "s3://"), "/")
	var items []map[string]any
	for i := range 5 {
		href := fmt.Sprintf("s3://%s/scenes/S%d.tif", bucket, i)
		if i%2 == 1 {
			href = fmt.Sprintf("https://data.example.com/%s/scenes/S%d.tif", bucket, i)
		}
		items = append(items, stacItem(fmt.Sprintf("S%d", i), fmt.Sprintf("2018-06-1%d", i), href))
	}
	api := stacAPI(t, items)
	defer api.Close()
	h := newHarvester(t, l, src, "s3://"+bucket)
	h.Search = api.URL + "/search"
	h.Params = SearchParams{Collections: []string{"vhr"}, BBox: []float64{-80, 20, -70, 30}, Datetime: "2018-01-01T00:00:00Z/..", Limit: 2}
	h.Policy.Hrefs.Prefixes = append(h.Policy.Hrefs.Prefixes, "https://data.example.com/"+bucket+"/")
	r, err := h.Pass(ctx)
	testenv.Must(t, err, "harvest")
	if r.Items != 5 || r.Pushed != 5 {
		t.Fatalf("harvest of 3 pages: %+v, want 5 items pushed", r)
	}
	for i := range 5 {
		st, err := l.Status(ctx, fmt.Sprintf("scenes/S%d.tif", i))
		testenv.Must(t, err, "status")
		var d Document
		testenv.Must(t, json.Unmarshal([]byte(st.Item), &d), "item of S%d", i)
		if st.State != Queued || st.Queue != MetadataQueue || d.Identifier != fmt.Sprintf("S%d", i) || d.BeginTime != fmt.Sprintf("2018-06-1%dT15:20:00Z", i) {
			t.Errorf("S%d: %+v", i, st)
		}
	}
	// An API that fails is a failed pass, not an empty one.
	h.Search = api.URL + "/nothing"
	if _, err := h.Pass(ctx); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("harvest of a missing endpoint: %v", err)
	}
}
