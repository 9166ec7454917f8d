package preprocess

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
}

// A converter that crashes, or that cannot be started, fails the attempt
// but says nothing certain of the input: the error is not permanent, so
// the queue retries the item up to its attempt limit. The preprocessor
// itself goes on.
func TestConverterCrashIsRetried(t *testing.T) {
	cog.Init()
	p, src, out, rec := setup(t)
	ctx := context.Background()
	src.Put(ctx, "in/sample.tar", bytes.NewReader(tarFiles(t, map[string]string{
		"RGB.byte.tif": "../../testdata/rasters/RGB.byte.tif", "meta.xml": sampleMeta})))
	for _, c := range []struct {
		name string
		conv cog.Converter
		is   error
		want string
	}{
		{"SIGSEGV", child(t, "crash"), cog.ErrCrashed, "the converter crashed: SIGSEGV"},
		{"SIGKILL", child(t, "kill"), cog.ErrCrashed, "the converter crashed (killed): converting"},
		{"not started", cog.Subprocess{Args: []string{filepath.Join(t.TempDir(), "missing-pvs")}}, cog.ErrNotStarted, "could not be started"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p.Converter = c.conv
			_, err := p.Handle(ctx, queue.Item{Queue: "preprocess_queue", Value: "in/sample.tar"})
			if !errors.Is(err, c.is) || queue.IsPermanent(err) || !strings.Contains(err.Error(), c.want) || len(err.Error()) > 300 {
				t.Errorf("err = %v, want a transient %q", err, c.want)
			}
			assertWorkDirEmpty(t, p)
		})
	}
	if objs, _ := out.List(ctx, ""); len(objs) != 0 || len(rec.items) != 0 {
		t.Errorf("crashed conversions left outputs %v / hand-offs %v", objs, rec.items)
	}
}

// The child is started with an environment of its own: the S3 keys and
// other secrets of the preprocessor never reach GDAL.
func TestChildEnvironmentHoldsNoSecrets(t *testing.T) {
	secrets := map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIATESTSECRET", "AWS_SECRET_ACCESS_KEY": "aws-secret-value", "AWS_S3_ENDPOINT": "127.0.0.1:19000",
		"S3_ACCESS_KEY": "s3-access-value", "S3_SECRET_KEY": "s3-secret-value", "REDIS_PASSWORD": "redis-secret-value",
		"DATABASE_URL": "postgres://pvs:db-secret-value@db/pvs", "GDAL_HTTP_USERPWD": "user:http-secret-value",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	out := filepath.Join(t.TempDir(), "env")
	if _, err := child(t, "env", "PVS_TEST_OUT="+out).Convert(context.Background(), cog.Job{}); err != nil {
		t.Fatal(err)
	}
	env, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range secrets {
		if bytes.Contains(env, []byte(k+"=")) || bytes.Contains(env, []byte(v)) {
			t.Errorf("the child's environment holds %s", k)
		}
	}
	for _, want := range []string{"PATH=", "CPL_VSIL_CURL_ALLOWED_FILENAME=", "PROJ_NETWORK=OFF", "GDAL_CACHEMAX=64"} {
		if !bytes.Contains(env, []byte(want)) {
			t.Errorf("the child's environment lacks %s", want)
		}
	}
}

// A preprocessor killed outright (SIGKILL, the OOM killer) takes its
// conversion child with it.
func TestChildDiesWithThePreprocessor(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pidPath := filepath.Join(t.TempDir(), "pid")
	parent := exec.Command(self)
	parent.Env = append(os.Environ(), "PVS_TEST_CHILD=parent", "PVS_TEST_OUT="+pidPath)
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	for deadline := time.Now().Add(10 * time.Second); pid == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			parent.Process.Kill()
			t.Fatal("the conversion child did not start")
		}
		b, _ := os.ReadFile(pidPath)
		pid, _ = strconv.Atoi(string(b))
	}
	parent.Process.Signal(syscall.SIGKILL)
	parent.Wait()
	for deadline := time.Now().Add(5 * time.Second); alive(pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatal("the conversion child outlived its parent")
		}
	}
}

// alive reports whether pid runs; a zombie (killed, not yet reaped by
// whoever inherited it) does not.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z' && s[i+2] != 'X'
}
