package cog

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestChildEnv(t *testing.T) {
	t.Parallel()
	parent := []string{
		"PATH=/usr/bin", "HOME=/root", "TMPDIR=/scratch", "GDAL_DATA=/usr/share/gdal", "PROJ_DATA=/usr/share/proj",
		"GDAL_CACHEMAX=512", "GOMAXPROCS=4",
		"AWS_ACCESS_KEY_ID=AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY=s3cr3t", "AWS_S3_ENDPOINT=minio:9000", "AWS_SESSION_TOKEN=tok",
		"S3_SECRET_KEY=s3cr3t", "S3_ACCESS_KEY_FILE=/run/secrets/key", "REDIS_PASSWORD=pw", "DATABASE_URL=postgres://u:pw@db/pvs",
		"GDAL_HTTP_USERPWD=user:pw", "GDAL_HTTP_PROXY=proxy:3128", "CPL_VSIL_CURL_ALLOWED_FILENAME=/vsicurl/http://x",
		"GDAL_SKIP=GTiff", "GOOGLE_APPLICATION_CREDENTIALS=/key.json", "AZURE_STORAGE_ACCESS_KEY=k", "PVS_CONFIG=x.yaml",
	}
	env := ChildEnv(parent, []string{"GDAL_CACHEMAX=64"})
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v // the last wins, as for exec.Cmd
	}
	for k, want := range map[string]string{
		"PATH": "/usr/bin", "HOME": "/root", "TMPDIR": "/scratch", "GDAL_DATA": "/usr/share/gdal", "PROJ_DATA": "/usr/share/proj",
		"GOMAXPROCS": "4", "GDAL_CACHEMAX": "64", "PROJ_NETWORK": "OFF", "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
		"CPL_VSIL_CURL_ALLOWED_FILENAME": "/pvs/network-access-refused",
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_S3_ENDPOINT", "AWS_SESSION_TOKEN", "S3_SECRET_KEY",
		"S3_ACCESS_KEY_FILE", "REDIS_PASSWORD", "DATABASE_URL", "GDAL_HTTP_USERPWD", "GDAL_HTTP_PROXY",
		"GOOGLE_APPLICATION_CREDENTIALS", "AZURE_STORAGE_ACCESS_KEY", "PVS_CONFIG"} {
		if v, ok := got[k]; ok {
			t.Errorf("the child gets %s=%s", k, v)
		}
	}
	skip := strings.Fields(got["GDAL_SKIP"])
	for _, d := range []string{"WMS", "WMTS", "WCS", "HTTP", "EEDAI", "STACIT"} {
		if !slices.Contains(skip, d) {
			t.Errorf("GDAL_SKIP %q lacks %s", got["GDAL_SKIP"], d)
		}
	}
	if slices.Contains(skip, "VRT") || slices.Contains(skip, "GTiff") {
		t.Errorf("GDAL_SKIP %q skips a driver the conversion needs", got["GDAL_SKIP"])
	}
}

func TestChildDiesWithItsParent(t *testing.T) {
	t.Parallel()
	cmd := Subprocess{Args: []string{"true"}}.command(context.Background())
	if cmd.SysProcAttr == nil || cmd.SysProcAttr.Pdeathsig != syscall.SIGKILL {
		t.Errorf("SysProcAttr = %+v, want Pdeathsig SIGKILL", cmd.SysProcAttr)
	}
}

func TestChildThatCannotStart(t *testing.T) {
	t.Parallel()
	_, err := Subprocess{Args: []string{"/nonexistent/pvs", "cog-convert"}}.Convert(context.Background(), Job{})
	if !errors.Is(err, ErrNotStarted) || errors.Is(err, ErrCrashed) {
		t.Errorf("err = %v, want ErrNotStarted", err)
	}
}

func TestChildError(t *testing.T) {
	t.Parallel()
	run := func(script string) (*exec.Cmd, error) {
		cmd := exec.Command("sh", "-c", script)
		return cmd, cmd.Run()
	}
	for _, c := range []struct {
		name, script, stderr string
		crashed              bool
		want                 string
	}{
		{name: "killed", script: "kill -KILL $$", stderr: "starting\nworking", crashed: true, want: "the converter crashed (killed): working"},
		{name: "segfault", script: "kill -SEGV $$", crashed: true, want: "the converter crashed (segmentation fault)"},
		{name: "go runtime fault", script: "exit 2", stderr: "SIGSEGV: segmentation violation\nPC=0x0\ngoroutine 1 [running]:\n...",
			crashed: true, want: "the converter crashed: SIGSEGV: segmentation violation"},
		{name: "bad input", script: "exit 1", stderr: "open x.tif: not recognized", want: "open x.tif: not recognized"},
		{name: "silent", script: "exit 3", want: "exit status 3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd, runErr := run(c.script)
			err := childError(cmd.ProcessState, c.stderr, runErr)
			if errors.Is(err, ErrCrashed) != c.crashed || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("err = %v, want %q (crashed: %v)", err, c.want, c.crashed)
			}
		})
	}
}

func TestBoundedBuffer(t *testing.T) {
	t.Parallel()
	var b boundedBuffer
	b.Write([]byte("first line\n"))
	for range 10000 {
		b.Write([]byte("Warning 1: noise noise noise noise\n"))
	}
	b.Write([]byte("the reason"))
	s := b.String()
	if len(s) > 2*boundedHalf+8 || !strings.HasPrefix(s, "first line\n") || !strings.HasSuffix(s, "\nthe reason") || !strings.Contains(s, "…") {
		t.Errorf("kept %d bytes: %.40q ... %.40q", len(s), s, s[len(s)-40:])
	}
}
