package preprocess

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/store"
	"github.com/pvs/pvs/pkg/store/file"
)

// hostileCase is a package made to attack the preprocessor, and the
// reason it must be refused with.
type hostileCase struct {
	name       string
	pkg        string            // key in the source store
	files      map[string][]byte // the package, as a tar (a .tgz is gzipped)
	limits     Limits
	collection *config.Collection // default: setup's
	md         bool               // described by a preprocess-md_queue item
	want       string
}

// TestHostilePackages feeds the preprocessor packages made to attack it,
// through the conversion child and in-process: each is refused with a
// reason, as a permanent failure, before it costs more than its caps; the
// preprocessor lives on; nothing outside the package is read (a FIFO
// outside it would record a reader; a web server records requests), and
// nothing is written outside the work dir.
func TestHostilePackages(t *testing.T) {
	cog.Init()
	outside := t.TempDir()
	canary := watchFIFO(t, filepath.Join(outside, "canary.tif"))
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "no", http.StatusNotFound)
	}))
	defer srv.Close()
	cases := hostileCases(t, filepath.Join(outside, "canary.tif"), srv.URL)
	for _, mode := range []string{"child", "in-process"} {
		t.Run(mode, func(t *testing.T) {
			p, src, out, rec := setup(t)
			if mode == "child" {
				p.Converter = child(t, "convert")
			}
			p.Options.Timeout = time.Minute
			ctx := context.Background()
			base, lim := p.Collection, p.Limits
			for _, c := range cases {
				src.Put(ctx, c.pkg, bytes.NewReader(packOf(t, c.pkg, c.files)))
			}
			before := listTree(t, src.Root(), outside)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					p.Collection, p.Limits = base, c.limits
					if c.collection != nil {
						p.Collection = *c.collection
					}
					if p.Limits == (Limits{}) {
						p.Limits = lim
					}
					item := queue.Item{Queue: "preprocess_queue", Value: c.pkg}
					if c.md {
						item = mdItem(c.pkg)
					}
					_, err := p.Handle(ctx, item)
					if err == nil || !queue.IsPermanent(err) || !strings.Contains(err.Error(), c.want) {
						t.Fatalf("err = %v, want a permanent failure with %q", err, c.want)
					}
					t.Logf("reason: %v", err)
					if strings.Contains(err.Error(), p.Options.WorkDir) {
						t.Errorf("the reason leaks the work dir: %v", err)
					}
					assertWorkDirEmpty(t, p)
				})
			}
			if objs, _ := out.List(ctx, ""); len(objs) != 0 || len(rec.items) != 0 {
				t.Errorf("hostile packages left outputs %v / hand-offs %v", objs, rec.items)
			}
			if after := listTree(t, src.Root(), outside); strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Errorf("files outside the work dir changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
	if canary() {
		t.Error("GDAL opened a file outside the package")
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("GDAL made %d HTTP requests", n)
	}
}

func hostileCases(t *testing.T, canary, url string) []hostileCase {
	t.Helper()
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	meta := read(sampleMeta)
	rgb := read("../../testdata/rasters/RGB.byte.tif")
	abs, _ := filepath.Abs("../../testdata/rasters/byte.tif")
	vrt := func(source string) []byte {
		return []byte(`<VRTDataset rasterXSize="20" rasterYSize="20"><GeoTransform>440720, 60, 0, 3751320, 0, -60</GeoTransform>
			<VRTRasterBand dataType="Byte" band="1"><SimpleSource><SourceFilename relativeToVRT="0">` + source +
			`</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>`)
	}
	rawVRT := []byte(`<VRTDataset rasterXSize="64" rasterYSize="16"><GeoTransform>440720, 60, 0, 3751320, 0, -60</GeoTransform>
		<VRTRasterBand dataType="Byte" band="1" subClass="VRTRawRasterBand"><SourceFilename relativeToVRT="0">/etc/passwd</SourceFilename>
		<ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset><LineOffset>64</LineOffset></VRTRasterBand></VRTDataset>`)
	wms := []byte(`<GDAL_WMS><Service name="WMS"><ServerUrl>` + url + `/wms?</ServerUrl><Layers>x</Layers><SRS>EPSG:4326</SRS></Service>
		<DataWindow><UpperLeftX>-180</UpperLeftX><UpperLeftY>90</UpperLeftY><LowerRightX>180</LowerRightX><LowerRightY>-90</LowerRightY>
		<SizeX>1000</SizeX><SizeY>500</SizeY></DataWindow></GDAL_WMS>`)
	wmts := []byte(`<GDAL_WMTS><GetCapabilitiesUrl>` + url + `/wmts?request=GetCapabilities</GetCapabilitiesUrl></GDAL_WMTS>`)
	dim := bytes.Replace(read("../../testdata/products/spot_dimap_v1/METADATA.DIM"), []byte(`href="IMAGERY.TIF"`), []byte(`href="`+canary+`"`), 1)
	spot := &config.Collection{Name: "SPOT", ProductTypes: []config.ProductType{
		{Name: "SPOT_DIMAP", MetadataGlobs: []string{"METADATA.DIM"}, DataGlobs: []string{"METADATA.DIM"}}}}
	deep := []byte(strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000))
	huge := append(bytes.Replace(meta, []byte("<!--"), []byte("<!--"+strings.Repeat(" ", 100<<10)), 1), '\n')
	zeros := strings.Repeat("\x00", 8<<20)
	return []hostileCase{
		{name: "VRT reading /etc/passwd as pixels", pkg: "vrt-raw.tar", files: map[string][]byte{"x.tif": rawVRT, "m.xml": meta},
			want: "x.tif is a VRT dataset (GDAL driver VRT)"},
		{name: "VRT naming a raster outside by absolute path", pkg: "vrt-abs.tar", files: map[string][]byte{"x.tif": vrt(abs), "m.xml": meta},
			want: "x.tif is a VRT dataset"},
		{name: "VRT naming a file outside", pkg: "vrt-canary.tar", files: map[string][]byte{"x.tif": vrt(canary), "m.xml": meta},
			want: "x.tif is a VRT dataset"},
		{name: "VRT naming a URL", pkg: "vrt-url.tar", files: map[string][]byte{"x.tif": vrt("/vsicurl/" + url + "/x.tif"), "m.xml": meta},
			want: "x.tif is a VRT dataset"},
		{name: "single-raster package that is a VRT", pkg: "vrt.tif", files: map[string][]byte{"": rawVRT}, md: true,
			want: "package file vrt.tif is a VRT dataset (GDAL driver VRT)"},
		{name: "WMS description", pkg: "wms.tar", files: map[string][]byte{"x.tif": wms, "m.xml": meta},
			want: "x.tif is a WMS dataset (GDAL driver WMS)"},
		{name: "WMTS description", pkg: "wmts.tar", files: map[string][]byte{"x.tif": wmts, "m.xml": meta},
			want: "x.tif is a WMTS dataset (GDAL driver WMTS)"},
		{name: "DIMAP header posing as a GeoTIFF", pkg: "dimap-tif.tar", files: map[string][]byte{
			"x.tif": read("../../testdata/products/spot_dimap_v1/METADATA.DIM"), "IMAGERY.TIF": rgb, "m.xml": meta},
			want: "x.tif is read by GDAL driver DIMAP, which is not allowed for this product type (allowed: GTiff, JP2OpenJPEG)"},
		{name: "DIMAP naming a file outside", pkg: "dimap.tar", files: map[string][]byte{"METADATA.DIM": dim}, collection: spot,
			want: `METADATA.DIM names "` + canary + `", outside the package`},
		{name: "DIMAP whose image is a VRT reading /etc/passwd", pkg: "dimap-vrt.tar", collection: spot,
			files: map[string][]byte{"METADATA.DIM": read("../../testdata/products/spot_dimap_v1/METADATA.DIM"), "IMAGERY.TIF": rawVRT},
			want:  "package file IMAGERY.TIF is a VRT dataset (GDAL driver VRT)"},
		{name: "header claiming 10^6 x 10^6 pixels", pkg: "huge.tar", files: map[string][]byte{"x.tif": hugeRaster(t), "m.xml": meta},
			want: "x.tif is 1000000 x 1000000 pixels; the largest side allowed is 100000 (preprocessor.limits.raster_side)"},
		{name: "more samples than allowed", pkg: "samples.tar", files: map[string][]byte{"x.tif": rgb, "m.xml": meta},
			limits: Limits{RasterSamples: 1000000}, want: "at most 1000000 are allowed (preprocessor.limits.raster_samples)"},
		{name: "metadata nested 10000 deep", pkg: "deep.tar", files: map[string][]byte{"x.tif": rgb, "m.xml": deep},
			want: "metadata m.xml: metadata document nested too deep: more than 256 levels of elements (preprocessor.limits.xml_depth)"},
		{name: "metadata over the size cap", pkg: "bigxml.tar", files: map[string][]byte{"x.tif": rgb, "m.xml": huge},
			limits: Limits{XMLBytes: 64 << 10}, want: "metadata document too large: over 65536 bytes (preprocessor.limits.xml_bytes)"},
		{name: "compression bomb", pkg: "bomb.tgz", files: map[string][]byte{"zeros.tif": []byte(zeros), "m.xml": meta},
			want: "times its packed size"},
		{name: "download over the cap", pkg: "big.tar", files: map[string][]byte{"x.tif": rgb, "m.xml": meta},
			limits: Limits{DownloadBytes: 1 << 20}, want: "at most 1048576 may be downloaded (preprocessor.limits.download_bytes)"},
		{name: "unpacks past the cap", pkg: "unpacked.tar", files: map[string][]byte{"x.tif": rgb, "m.xml": meta},
			limits: Limits{MaxBytes: 1 << 20}, want: "expands past 1048576 bytes (preprocessor.limits.unpacked_bytes)"},
		{name: "too many entries", pkg: "entries.tar", files: map[string][]byte{"a": nil, "b": nil, "c": nil, "d": nil},
			limits: Limits{MaxEntries: 3}, want: "more than 3 entries (preprocessor.limits.entries)"},
	}
}

func mdItem(pkg string) queue.Item {
	doc, _ := json.Marshal(MDItem{Path: pkg, Identifier: "HOSTILE", BeginTime: "2020-01-01T00:00:00Z", EndTime: "2020-01-01T00:00:10Z"})
	return queue.Item{Queue: "preprocess-md_queue", Value: string(doc)}
}

// hugeRaster is a GeoTIFF of 158 bytes whose header declares 10^6 × 10^6
// pixels (one sparse, DEFLATE-compressed strip).
func hugeRaster(t *testing.T) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "huge.tif")
	ds, err := godal.Create(godal.GTiff, p, 1, godal.Byte, 1000000, 1000000,
		godal.CreationOption("SPARSE_OK=TRUE", "BLOCKYSIZE=1000000", "COMPRESS=DEFLATE"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// packOf makes a tar of files, gzipped for a .tgz key; a package of one
// object is files[""].
func packOf(t *testing.T, key string, files map[string][]byte) []byte {
	t.Helper()
	if b, ok := files[""]; ok {
		return b
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	var w io.Writer = &buf
	var gz *gzip.Writer
	if strings.HasSuffix(key, ".tgz") {
		gz, _ = gzip.NewWriterLevel(&buf, gzip.BestCompression)
		w = gz
	}
	tw := tar.NewWriter(w)
	for _, n := range names {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg})
		tw.Write(files[n])
	}
	tw.Close()
	if gz != nil {
		gz.Close()
	}
	return buf.Bytes()
}

// watchFIFO makes a FIFO at path and reports whether anybody opened it
// for reading. A regular file cannot tell: reading leaves no trace that
// the test could rely on (atime is often off).
func watchFIFO(t *testing.T, path string) (opened func() bool) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	var readerCame, closing atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Blocks until a reader opens the FIFO.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		if !closing.Load() {
			readerCame.Store(true)
		}
		f.Close()
	}()
	t.Cleanup(func() {
		closing.Store(true)
		r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			<-done
			r.Close()
		}
	})
	return readerCame.Load
}

// listTree lists the files under dirs, with their sizes.
func listTree(t *testing.T, dirs ...string) []string {
	t.Helper()
	var out []string
	for _, d := range dirs {
		filepath.Walk(d, func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				out = append(out, fmt.Sprintf("%s %d %s", p, info.Size(), info.ModTime()))
			}
			return nil
		})
	}
	return out
}

// lyingStore reports every object as 10 bytes long.
type lyingStore struct{ *file.Store }

func (s lyingStore) Stat(ctx context.Context, key string) (store.Object, error) {
	o, err := s.Store.Stat(ctx, key)
	o.Size = 10
	return o, err
}

// A store whose sizes lie does not get a larger download through: the
// download itself is capped.
func TestDownloadCapHoldsWhenTheStoreLies(t *testing.T) {
	cog.Init()
	p, src, _, rec := setup(t)
	p.Source = lyingStore{src}
	p.Limits.DownloadBytes = 1 << 20
	ctx := context.Background()
	for _, key := range []string{"in/big.tar", "in/scene.tif"} {
		var data []byte
		if strings.HasSuffix(key, ".tar") {
			data = tarFiles(t, map[string]string{"x.tif": "../../testdata/rasters/RGB.byte.tif", "m.xml": sampleMeta})
		} else {
			data, _ = os.ReadFile("../../testdata/rasters/RGB.byte.tif")
		}
		src.Put(ctx, key, bytes.NewReader(data))
		_, err := p.Handle(ctx, queue.Item{Queue: "preprocess_queue", Value: key})
		if err == nil || !queue.IsPermanent(err) || !strings.Contains(err.Error(), "more than 1048576 bytes to download (preprocessor.limits.download_bytes)") {
			t.Errorf("%s: err = %v, want the download cap", key, err)
		}
	}
	if len(rec.items) != 0 {
		t.Errorf("handed on: %v", rec.items)
	}
	assertWorkDirEmpty(t, p)
}
