package preprocess

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/backend"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/layer"
	"github.com/pvs/pvs/pkg/opensearch"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/register"
	"github.com/pvs/pvs/pkg/registry"
)

// mdColl has two product types a package of a raster and an XML file
// matches; the second only by name (match) unless an item names it.
var mdColl = config.Collection{Name: "VHR_IMAGE_2018", ProductTypes: []config.ProductType{
	{Name: "VHR_OPTICAL", MetadataGlobs: []string{"*.xml"}, DataGlobs: []string{"*.tif"}},
	{Name: "PHR_MS___2A", Match: "PHR_", MetadataGlobs: []string{"*.xml"}, DataGlobs: []string{"*.tif"}}}}

func handleMD(t *testing.T, p *Preprocessor, doc any) (string, error) {
	t.Helper()
	raw, ok := doc.(string)
	if !ok {
		b, err := json.Marshal(doc)
		testenv.Must(t, err, "marshal md item")
		raw = string(b)
	}
	return p.Handle(context.Background(), queue.Item{Queue: "preprocess-md_queue", Value: raw})
}

var mdFootprint = json.RawMessage(`{"type":"Polygon","coordinates":[[[-78.9,23.5],[-76.6,23.5],[-76.6,25.6],[-78.9,25.6],[-78.9,23.5]]]}`)

// An md item's product type and properties reach the catalogue through
// the real preprocessor and registrar: the type is the one the item names
// (over the metadata's eop:productType and the type's match), the
// properties override the package's, platform and cloud cover are stored
// in their columns and searched by OpenSearch's platform and cloudCover,
// the other EO properties in theirs, and unknown ones in the metadata.
func TestMDItemTypeAndPropertiesAreRegistered(t *testing.T) {
	testenv.Require(t)
	cog.Init()
	ctx := context.Background()
	p, src, out, rec := setup(t)
	p.Collection = mdColl
	reg, err := registry.Open(ctx, testenv.Database(t))
	testenv.Must(t, err, "registry")
	defer reg.Close()
	_, err = reg.Migrate(ctx)
	testenv.Must(t, err, "migrate")
	testenv.Must(t, reg.EnsureCollection(ctx, mdColl.Name, "", mdColl.ProductTypeNames(), nil), "collection")
	rr := &register.Registrar{Output: out, Catalogue: reg, Collection: mdColl, Replace: true, MaxBatch: 1, Log: slog.New(slog.DiscardHandler)}

	// A package whose metadata says VHR_OPTICAL, platform Landsat 7 and
	// instrument ETM+.
	src.Put(ctx, "in/sample.tar", bytes.NewReader(tarFiles(t, map[string]string{
		"dir/RGB.byte.tif": "../../testdata/rasters/RGB.byte.tif", "dir/meta.xml": sampleMeta})))
	raster, err := os.ReadFile("../../testdata/rasters/RGB.byte.tif")
	testenv.Must(t, err, "raster")
	src.Put(ctx, "in/S2_B.tif", bytes.NewReader(raster))
	items := []any{
		map[string]any{"path": "in/sample.tar", "product_type": "PHR_MS___2A", "properties": map[string]any{
			"platform": "PHR", "platformSerialIdentifier": "1A", "sensorType": "OPTICAL", "acquisitionType": "NOMINAL",
			"orbitNumber": 12345, "orbitDirection": "DESCENDING", "cloudCover": 12.5,
			"parentIdentifier": "VHR_IMAGE_2018/PHR", "constellation": "pleiades"}},
		// A bare raster: no product type named, the first whose globs match.
		map[string]any{"path": "in/S2_B.tif", "identifier": "S2_B", "begin_time": "2018-06-16T10:00:00Z", "end_time": "2018-06-16T10:00:10Z",
			"footprint": mdFootprint, "properties": map[string]any{"platform": "Sentinel-2A", "cloudCover": "80"}},
	}
	for _, it := range items {
		prefix, err := handleMD(t, p, it)
		testenv.Must(t, err, "preprocess %v", it)
		_, err = rr.Handle(ctx, queue.Item{Queue: "register_queue", Value: prefix})
		testenv.Must(t, err, "register %s", prefix)
	}
	if len(rec.items) != 2 {
		t.Fatalf("handed on %v", rec.items)
	}

	a, err := reg.Get(ctx, "VHR18_SAMPLE_RGB_20180615")
	testenv.Must(t, err, "registered product")
	if a.ProductType != "PHR_MS___2A" || a.ParentIdentifier != "VHR_IMAGE_2018/PHR" {
		t.Errorf("product type %q, parent %q; want the item's PHR_MS___2A and VHR_IMAGE_2018/PHR", a.ProductType, a.ParentIdentifier)
	}
	if a.Platform != "PHR" || a.CloudCover == nil || *a.CloudCover != 12.5 {
		t.Errorf("platform %q, cloud cover %v; want the item's PHR and 12.5", a.Platform, a.CloudCover)
	}
	// Unknown properties are kept in the metadata; what the item does not
	// give, the package's metadata does.
	if a.Properties["constellation"] != "pleiades" || a.Properties["instrument"] != "ETM+" {
		t.Errorf("metadata properties %v", a.Properties)
	}
	var serial, instrument, sensor, acquisition, orbit, direction string
	err = reg.Pool().QueryRow(ctx, `SELECT platform_serial, instrument, sensor_type, acquisition_type, orbit_number, orbit_direction
		FROM products WHERE identifier = $1`, a.Identifier).Scan(&serial, &instrument, &sensor, &acquisition, &orbit, &direction)
	testenv.Must(t, err, "read the EO columns")
	if got := strings.Join([]string{serial, instrument, sensor, acquisition, orbit, direction}, " "); got != "1A ETM+ OPTICAL NOMINAL 12345 DESCENDING" {
		t.Errorf("EO columns: %s", got)
	}
	b, err := reg.Get(ctx, "S2_B")
	testenv.Must(t, err, "registered product")
	if b.ProductType != "VHR_OPTICAL" || b.Platform != "Sentinel-2A" || b.CloudCover == nil || *b.CloudCover != 80 {
		t.Errorf("S2_B: type %q, platform %q, cloud cover %v", b.ProductType, b.Platform, b.CloudCover)
	}

	ogc := backend.OGC{Catalog: layer.Catalog{Collections: []config.Collection{mdColl}}, Products: reg}
	for query, want := range map[string]string{
		"platform=PHR":                     "VHR18_SAMPLE_RGB_20180615",
		"platform=PHR&cloudCover=[0,20]":   "VHR18_SAMPLE_RGB_20180615",
		"cloudCover=[50,100]":              "S2_B",
		"platform=Sentinel-2A":             "S2_B",
		"platform=PHR&cloudCover=[50,100]": "",
		"platform=PHR1B":                   "",
		"cloudCover=[0,100]":               "S2_B VHR18_SAMPLE_RGB_20180615",
	} {
		v, err := url.ParseQuery(query)
		testenv.Must(t, err, "query %s", query)
		q, err := opensearch.Parse(v, 50)
		testenv.Must(t, err, "OpenSearch %s", query)
		found, _, err := ogc.Search(ctx, q)
		testenv.Must(t, err, "OpenSearch %s", query)
		var ids []string
		for _, f := range found {
			ids = append(ids, f.Identifier)
		}
		if strings.Join(ids, " ") != want {
			t.Errorf("OpenSearch %s: %v, want %q", query, ids, want)
		}
	}
}

// What an md item says that the collection cannot take fails permanently,
// before the package is downloaded, with the reason.
func TestMDItemRefusals(t *testing.T) {
	cog.Init()
	p, src, out, rec := setup(t)
	p.Collection = mdColl
	ctx := context.Background()
	src.Put(ctx, "in/sample.tar", bytes.NewReader(tarFiles(t, map[string]string{
		"dir/RGB.byte.tif": "../../testdata/rasters/RGB.byte.tif", "dir/meta.xml": sampleMeta})))
	tests := []struct {
		name string
		item string
		want string
	}{
		{"unlisted product type", `{"path":"in/sample.tar","identifier":"A","product_type":"S2MSI1C"}`,
			`product A has product type "S2MSI1C", which collection VHR_IMAGE_2018 does not list (it lists VHR_OPTICAL, PHR_MS___2A)`},
		{"unlisted product type, no identifier", `{"path":"in/sample.tar","product_type":"S2MSI1C"}`,
			`product in/sample.tar has product type "S2MSI1C", which collection VHR_IMAGE_2018 does not list`},
		{"parent in another collection", `{"path":"in/sample.tar","properties":{"parentIdentifier":"Emergency/DM02_RGB_1B"}}`,
			"product in/sample.tar belongs to collection Emergency (eop:parentIdentifier Emergency/DM02_RGB_1B), not VHR_IMAGE_2018"},
		{"cloud cover not a percentage", `{"path":"in/sample.tar","properties":{"cloudCover":150}}`,
			`invalid preprocess-md_queue item: property cloudCover "150" is not a percentage`},
		{"misspelt property", `{"path":"in/sample.tar","properties":{"cloud_cover":15}}`,
			`property "cloud_cover": the catalogue's property is spelled cloudCover`},
		{"product type as a property", `{"path":"in/sample.tar","properties":{"productType":"VHR_OPTICAL"}}`,
			"give it as the item's product_type"},
		{"array property", `{"path":"in/sample.tar","properties":{"bands":[1,2,3]}}`,
			`invalid preprocess-md_queue item: property "bands": an object or array`},
		{"unknown field", `{"path":"in/sample.tar","cloud_cover":15}`, `unknown field "cloud_cover"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := handleMD(t, p, tc.item)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if !queue.IsPermanent(err) {
				t.Errorf("%v is not permanent", err)
			}
		})
	}
	if objs, err := out.List(ctx, ""); err != nil || len(objs) != 0 || len(rec.items) != 0 {
		t.Errorf("refused items left %v (%v) and handed on %v", objs, err, rec.items)
	}
	// The same package with a listed type is taken: the refusals were the
	// item's, not the package's.
	if _, err := handleMD(t, p, `{"path":"in/sample.tar","product_type":"PHR_MS___2A","properties":{"cloudCover":15}}`); err != nil {
		t.Errorf("listed type: %v", err)
	}
}

// A product type an item names is the only one tried: its globs must
// match the package, and the reason says so when they do not.
func TestMDItemTypeGlobsStillApply(t *testing.T) {
	cog.Init()
	p, src, _, _ := setup(t)
	p.Collection = config.Collection{Name: "VHR_IMAGE_2018", ProductTypes: []config.ProductType{
		{Name: "VHR_OPTICAL", DataGlobs: []string{"*.tif"}},
		{Name: "SAR", DataGlobs: []string{"*.SAFE"}}}}
	raster, err := os.ReadFile("../../testdata/rasters/RGB.byte.tif")
	testenv.Must(t, err, "raster")
	src.Put(context.Background(), "in/A.tif", bytes.NewReader(raster))
	_, err = handleMD(t, p, map[string]any{"path": "in/A.tif", "identifier": "A", "product_type": "SAR",
		"begin_time": "2018-06-15T10:00:00Z", "end_time": "2018-06-15T10:00:00Z", "footprint": mdFootprint})
	if err == nil || !queue.IsPermanent(err) || !strings.Contains(err.Error(), "no product type of collection VHR_IMAGE_2018 matches the package: SAR (data [*.SAFE]: missing)") {
		t.Errorf("got %v", err)
	}
}

// Through the queue, an item naming a product type the collection does
// not list fails on its first attempt, and its history says why.
func TestMDItemUnlistedTypeFailsInTheQueue(t *testing.T) {
	testenv.Require(t)
	cog.Init()
	ctx := context.Background()
	p, src, _, _ := setup(t)
	p.Collection = mdColl
	src.Put(ctx, "in/sample.tar", bytes.NewReader(tarFiles(t, map[string]string{
		"dir/RGB.byte.tif": "../../testdata/rasters/RGB.byte.tif", "dir/meta.xml": sampleMeta})))
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	item := `{"path":"in/sample.tar","product_type":"S2MSI1C"}`
	testenv.Must(t, q.Enqueue(ctx, "preprocess-md_queue", item), "enqueue")
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- q.NewConsumer(queue.Preprocess, queue.ConsumerOptions{Heartbeat: 500 * time.Millisecond, DeadAfter: 2 * time.Second,
			Logger: slog.New(slog.DiscardHandler)}).Run(wctx, p.Handle)
	}()
	defer func() {
		stop()
		testenv.Must(t, <-done, "consumer")
	}()
	testenv.Eventually(t, 30*time.Second, "the item's failure", func() (bool, error) {
		return q.IsMember(ctx, "preprocess-failure_set", item)
	})
	hs, err := q.History(ctx, item)
	testenv.Must(t, err, "history")
	if len(hs) != 1 || hs[0].Status != "failure" || hs[0].Attempts != 1 ||
		!strings.Contains(hs[0].Error, `has product type "S2MSI1C", which collection VHR_IMAGE_2018 does not list (it lists VHR_OPTICAL, PHR_MS___2A)`) {
		t.Errorf("history %+v", hs)
	}
}
