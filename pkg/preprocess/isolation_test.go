package preprocess

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/queue"
)

var testOpts = cog.Options{Compress: "DEFLATE", BlockSize: 256, OverviewResampling: "AVERAGE", Threads: "1"}

func TestSubprocessConverter(t *testing.T) {
	cog.Init()
	dst := filepath.Join(t.TempDir(), "out.tif")
	u, err := child(t, "convert").Convert(context.Background(), cog.Job{Inputs: []string{"../../testdata/rasters/RGB.byte.tif"}, Dst: dst, Options: testOpts})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := cog.Describe(dst, nil); err != nil || info.Layout != "COG" {
		t.Errorf("child output: %+v %v", info, err)
	}
	if u.MaxRSS <= 0 || u.Elapsed <= 0 {
		t.Errorf("usage not measured: %+v", u)
	}
	_, err = child(t, "convert").Convert(context.Background(), cog.Job{Inputs: []string{"../../testdata/rasters/byte_truncated.tif"}, Dst: dst + "2", Options: testOpts})
	if err == nil || !strings.Contains(err.Error(), "Read error") {
		t.Errorf("truncated input: %v", err)
	}
	_, err = child(t, "crash").Convert(context.Background(), cog.Job{Dst: dst + "3"})
	if !errors.Is(err, cog.ErrCrashed) || !strings.Contains(err.Error(), "segmentation") {
		t.Errorf("crashing converter: %v", err)
	}
}

func TestTimeoutAbandonsTheConversion(t *testing.T) {
	cog.Init()
	p, src, out, rec := setup(t)
	p.Converter = child(t, "hang")
	p.Options.Timeout = 300 * time.Millisecond
	ctx := context.Background()
	src.Put(ctx, "in/sample.tar", bytes.NewReader(tarFiles(t, map[string]string{
		"RGB.byte.tif": "../../testdata/rasters/RGB.byte.tif", "meta.xml": sampleMeta})))
	t0 := time.Now()
	_, err := p.Handle(ctx, queue.Item{Queue: "preprocess_queue", Value: "in/sample.tar"})
	if took := time.Since(t0); took > 5*time.Second {
		t.Errorf("Handle returned after %s; the hung conversion was not abandoned", took)
	}
	if err == nil || !queue.IsPermanent(err) || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("err = %v, want a permanent timeout", err)
	}
	if objs, _ := out.List(ctx, ""); len(objs) != 0 || len(rec.items) != 0 {
		t.Errorf("a timed-out item left outputs %v / hand-offs %v", objs, rec.items)
	}
	assertWorkDirEmpty(t, p)
	// A crash of the converter is the item's failure, not the daemon's.
	p.Converter = child(t, "crash")
	p.Options.Timeout = time.Minute
	_, err = p.Handle(ctx, queue.Item{Queue: "preprocess_queue", Value: "in/sample.tar"})
	if err == nil || !queue.IsPermanent(err) || !strings.Contains(err.Error(), "crashed: SIGSEGV") || len(err.Error()) > 200 {
		t.Errorf("crash: %v", err)
	}
}
