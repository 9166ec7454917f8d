package preprocess

import (
	"archive/tar"
	"bytes"
	"context"

	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/metadata"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/store/file"
)

type recorder struct {
	mu    sync.Mutex
	items []string
}

func (r *recorder) Enqueue(ctx context.Context, q, item string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items = append(r.items, q+" "+item)
	return nil
}

const sampleMeta = "../../testdata/products/vhr18_sample/VHR18_SAMPLE_RGB_20180615.xml"

func setup(t *testing.T) (*Preprocessor, *file.Store, *file.Store, *recorder) {
	t.Helper()
	src, _ := file.New(t.TempDir())
	out, _ := file.New(t.TempDir())
	rec := &recorder{}
	work := t.TempDir()
	p := &Preprocessor{Source: src, Output: out, Next: rec, Limits: Limits{MaxBytes: 100 << 20, MaxEntries: 100},
		Collection: config.Collection{Name: "VHR_IMAGE_2018", ProductTypes: []config.ProductType{
			{Name: "VHR_OPTICAL", MetadataGlobs: []string{"*.xml"}, DataGlobs: []string{"*.tif"}}}},
		Options: config.Preprocessor{WorkDir: work, COG: config.COG{Compress: "DEFLATE", BlockSize: 256, Resampling: "AVERAGE", Threads: "1"}},
		Log:     slog.New(slog.DiscardHandler)}
	return p, src, out, rec
}

func tarFiles(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	tw.Close()
	return buf.Bytes()
}

func TestPackageToCOGAndMetadata(t *testing.T) {
	cog.Init()
	p, src, out, rec := setup(t)
	ctx := context.Background()
	src.Put(ctx, "in/sample.tar", bytes.NewReader(tarFiles(t, map[string]string{
		"dir/RGB.byte.tif": "../../testdata/rasters/RGB.byte.tif", "dir/meta.xml": sampleMeta})))
	res, err := p.Handle(ctx, queue.Item{Queue: "preprocess_queue", Value: "in/sample.tar"})
	if err != nil {
		t.Fatal(err)
	}
	prefix := "VHR_IMAGE_2018/VHR18_SAMPLE_RGB_20180615"
	if res != prefix || len(rec.items) != 1 || rec.items[0] != "register_queue "+prefix {
		t.Fatalf("result %q, handed on %v", res, rec.items)
	}
	info, err := cog.Describe(out.GDALPath(prefix+"/VHR18_SAMPLE_RGB_20180615.tif"), nil)
	if err != nil || info.Layout != "COG" || info.Overviews == 0 {
		t.Fatalf("output COG: %+v %v", info, err)
	}
	rc, err := out.Get(ctx, prefix+"/VHR18_SAMPLE_RGB_20180615.xml")
	if err != nil {
		t.Fatal(err)
	}
	md, err := metadata.ParseXML(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if md.Identifier != "VHR18_SAMPLE_RGB_20180615" || md.Collection != "VHR_IMAGE_2018" || md.ProductType != "VHR_OPTICAL" ||
		len(md.Footprint) != 1 || md.Properties["platform"] != "Landsat" {
		t.Errorf("normalised metadata = %+v", md)
	}
	if _, err := out.Stat(ctx, prefix+"/source/meta.xml"); err != nil {
		t.Errorf("source metadata not kept: %v", err)
	}
	assertWorkDirEmpty(t, p)
}

func TestMDQueueOverridesMetadata(t *testing.T) {
	cog.Init()
	p, src, out, _ := setup(t)
	ctx := context.Background()
	b, _ := os.ReadFile("../../testdata/rasters/RGB.byte.tif")
	src.Put(ctx, "in/scene/RGB.byte.tif", bytes.NewReader(b))
	m, _ := os.ReadFile(sampleMeta)
	src.Put(ctx, "in/scene/meta.xml", bytes.NewReader(m))
	item := `{"path":"in/scene","identifier":"OVERRIDDEN","begin_time":"2020-01-01T00:00:00Z","end_time":"2020-01-01T00:01:00Z",
		"footprint":{"type":"Polygon","coordinates":[[[-78,24],[-77,24],[-77,25],[-78,25],[-78,24]]]}}`
	res, err := p.Handle(ctx, queue.Item{Queue: "preprocess-md_queue", Value: item})
	if err != nil || res != "VHR_IMAGE_2018/OVERRIDDEN" {
		t.Fatalf("%q %v", res, err)
	}
	rc, _ := out.Get(ctx, res+"/OVERRIDDEN.xml")
	md, err := metadata.ParseXML(rc)
	rc.Close()
	if err != nil || md.BeginTime.Year() != 2020 || md.Footprint[0][0][1] != [2]float64{-77, 24} {
		t.Errorf("overrides not applied: %+v %v", md, err)
	}
}

func TestBadPackagesArePermanentFailures(t *testing.T) {
	cog.Init()
	p, src, out, rec := setup(t)
	ctx := context.Background()
	put := func(key string, data []byte) { src.Put(ctx, key, bytes.NewReader(data)) }
	put("truncated.tar", tarFiles(t, map[string]string{"x.tif": "../../testdata/rasters/byte_truncated.tif", "m.xml": sampleMeta}))
	put("nometa.tar", tarFiles(t, map[string]string{"x.tif": "../../testdata/rasters/RGB.byte.tif"}))
	put("notraster.tar", tarFiles(t, map[string]string{"x.tif": sampleMeta, "m.xml": sampleMeta}))
	put("badxml.tar", tarFiles(t, map[string]string{"x.tif": "../../testdata/rasters/RGB.byte.tif", "m.xml": "../../testdata/MANIFEST.md"}))
	put("empty.tar", nil)
	xxe := filepath.Join(t.TempDir(), "xxe.xml")
	os.WriteFile(xxe, []byte(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>`), 0o644)
	put("xxe.tar", tarFiles(t, map[string]string{"x.tif": "../../testdata/rasters/RGB.byte.tif", "m.xml": xxe}))
	var evil bytes.Buffer
	tw := tar.NewWriter(&evil)
	tw.WriteHeader(&tar.Header{Name: "../../escape.tif", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("x"))
	tw.Close()
	put("evil.tar", evil.Bytes())
	for item, want := range map[string]string{
		"truncated.tar":   "Read error",
		"nometa.tar":      "metadata [*.xml]: missing",
		"notraster.tar":   "convert x.tif to COG",
		"badxml.tar":      "invalid XML",
		"empty.tar":       "empty archive",
		"xxe.tar":         "DOCTYPE declarations (and so entities) are refused",
		"evil.tar":        "escapes the package",
		"missing.tar":     "not found",
		"missing/prefix":  "not found",
		`{"nopath":true}`: "invalid preprocess-md_queue item",
	} {
		q := "preprocess_queue"
		if strings.HasPrefix(item, "{") {
			q = "preprocess-md_queue"
		}
		_, err := p.Handle(ctx, queue.Item{Queue: q, Value: item})
		if err == nil || !queue.IsPermanent(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want a permanent error with %q", item, err, want)
		}
		if err != nil && strings.Contains(err.Error(), p.Options.WorkDir) {
			t.Errorf("%s: reason leaks the work dir: %v", item, err)
		}
	}
	if len(rec.items) != 0 {
		t.Errorf("bad packages were handed on: %v", rec.items)
	}
	if objs, _ := out.List(ctx, ""); len(objs) != 0 {
		t.Errorf("bad packages wrote outputs: %v", objs)
	}
	assertWorkDirEmpty(t, p)
}

func assertWorkDirEmpty(t *testing.T, p *Preprocessor) {
	t.Helper()
	ents, err := os.ReadDir(p.Options.WorkDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		t.Errorf("work dir not cleaned: %v", ents)
	}
}
