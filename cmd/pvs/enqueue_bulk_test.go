package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/ingest"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/store/s3"
)

// bulkEnv is a configuration on the test Redis (under its own prefix) and
// a bucket of the test S3 server as source store.
func bulkEnv(t *testing.T) (*globals, *queue.Client, *s3.Store) {
	t.Helper()
	rdb, prefix := testenv.Redis(t)
	src := testenv.S3Bucket(t)
	s3c := testenv.S3Config("")
	cfg := fmt.Sprintf(`collection:
  name: VHR_IMAGE_2018
  product_types: [{name: VHR_OPTICAL}]
redis: {url: %q, prefix: %q}
storage: {source: %q}
s3: {endpoint: %q, access_key: %q, secret_key: %q}
ingestor: {concurrency: 8}
`, testenv.RedisURL(), prefix, strings.TrimSuffix(src.URL(), "/"), s3c.Endpoint, s3c.AccessKey, s3c.SecretKey)
	path := filepath.Join(t.TempDir(), "pvs.yaml")
	testenv.Must(t, os.WriteFile(path, []byte(cfg), 0o600), "write config")
	return &globals{configPath: path, logLevel: "error"}, queue.New(rdb, prefix), src
}

// runBulkCLI runs `pvs ARGS...` in process (the enqueue command has its
// bulk feeds).
func runBulkCLI(t *testing.T, g *globals, stdin string, args ...string) (string, string, error) {
	t.Helper()
	enq := newEnqueueCmd(g)
	root := &cobra.Command{Use: "pvs", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(enq, newStatusCmd(g))
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestEnqueueFromList(t *testing.T) {
	g, q, _ := bulkEnv(t)
	ctx := context.Background()
	list := filepath.Join(t.TempDir(), "packages.txt")
	testenv.Must(t, os.WriteFile(list, []byte(`# packages of 2018-06-15
in/a.tar
in/b.tar

{"path":"in/c.tif","identifier":"C","begin_time":"2018-06-15T10:00:00Z","end_time":"2018-06-15T10:00:09Z"}
in/d.zip
`), 0o600), "write list")
	out, errOut, err := runBulkCLI(t, g, "", "enqueue", "--from-list", list)
	testenv.Must(t, err, "enqueue --from-list: %s", errOut)
	if !strings.HasPrefix(out, "4 packages: 4 queued, 0 left alone") || !strings.Contains(errOut, "4/4 packages") {
		t.Errorf("enqueue --from-list:\nstdout: %s\nstderr: %s", out, errOut)
	}
	n, _ := q.Redis().LLen(ctx, q.Key("preprocess_queue")).Result()
	m, _ := q.Redis().LLen(ctx, q.Key("preprocess-md_queue")).Result()
	if n != 3 || m != 1 {
		t.Errorf("queues hold %d paths and %d documents, want 3 and 1", n, m)
	}
	// Again, from standard input: every package is queued already.
	out, errOut, err = runBulkCLI(t, g, "in/a.tar\nin/b.tar\nin/d.zip\n", "enqueue", "--from-list", "-")
	testenv.Must(t, err, "enqueue --from-list -: %s", errOut)
	if !strings.HasPrefix(out, "3 packages: 0 queued, 3 left alone") {
		t.Errorf("second feed: %s", out)
	}
	// A bad line: nothing pushed, the line named.
	testenv.Must(t, os.WriteFile(list, []byte("in/e.tar\n/abs/f.tar\n{\"path\":\"in/g.tif\",\"begin_time\":\"soon\"}\n"), 0o600), "write list")
	_, _, err = runBulkCLI(t, g, "", "enqueue", "--from-list", list)
	if err == nil || !strings.Contains(err.Error(), "packages.txt:2: path \"/abs/f.tar\"") || !strings.Contains(err.Error(), "packages.txt:3: begin_time") {
		t.Errorf("bad list: %v", err)
	}
	if hs, _ := q.History(ctx, "in/e.tar"); len(hs) != 0 {
		t.Errorf("a list with bad lines pushed its good ones")
	}
	// Arguments and a feed do not mix; nor do other queues.
	if _, _, err := runBulkCLI(t, g, "", "enqueue", "--from-list", list, "in/x.tar"); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("arguments with --from-list: %v", err)
	}
	if _, _, err := runBulkCLI(t, g, "", "enqueue", "-q", "seed_queue", "--prefix", "in/"); err == nil || !strings.Contains(err.Error(), "feed the preprocessor") {
		t.Errorf("--prefix onto seed_queue: %v", err)
	}
	// Plain arguments still work as before.
	out, _, err = runBulkCLI(t, g, "", "enqueue", "in/h.tar")
	testenv.Must(t, err, "enqueue ITEM")
	if !strings.Contains(out, "queued on preprocess_queue: in/h.tar") {
		t.Errorf("enqueue ITEM: %s", out)
	}
}

func TestEnqueuePrefix(t *testing.T) {
	g, q, src := bulkEnv(t)
	ctx := context.Background()
	for i := range 25 {
		testenv.Must(t, src.Put(ctx, fmt.Sprintf("in/2018/p%02d.tar", i), strings.NewReader("x")), "put")
	}
	testenv.Must(t, src.Put(ctx, "in/2018/readme.txt", strings.NewReader("x")), "put")
	testenv.Must(t, src.Put(ctx, "other/q.tar", strings.NewReader("x")), "put")
	// One of them is queued already.
	testenv.Must(t, q.Enqueue(ctx, "preprocess_queue", "in/2018/p03.tar"), "enqueue")

	out, errOut, err := runBulkCLI(t, g, "", "enqueue", "--prefix", "in/")
	testenv.Must(t, err, "enqueue --prefix: %s", errOut)
	if !strings.HasPrefix(out, "25 packages: 24 queued, 1 left alone") || !strings.Contains(errOut, "25/25 packages  24 queued  1 left alone") {
		t.Errorf("enqueue --prefix:\nstdout: %s\nstderr: %s", out, errOut)
	}
	n, _ := q.Redis().LLen(ctx, q.Key("preprocess_queue")).Result()
	if n != 25 {
		t.Errorf("preprocess_queue holds %d, want 25", n)
	}
	out, _, err = runBulkCLI(t, g, "", "enqueue", "--prefix", "in/", "--include", "*.txt")
	testenv.Must(t, err, "enqueue --prefix --include")
	if !strings.HasPrefix(out, "1 packages: 1 queued") {
		t.Errorf("--include *.txt: %s", out)
	}
	if _, _, err := runBulkCLI(t, g, "", "enqueue", "--prefix", "nothing/"); err == nil || !strings.Contains(err.Error(), "no package under") {
		t.Errorf("empty prefix: %v", err)
	}
}

// The endpoint answers with the item that `pvs status ITEM` knows.
func TestIngestAnswerIsStatusItem(t *testing.T) {
	g, q, src := bulkEnv(t)
	testenv.Must(t, src.Put(context.Background(), "in/scene.tif", strings.NewReader("x")), "put")
	cfg, err := g.load()
	testenv.Must(t, err, "config")
	srv := httptest.NewServer(&ingest.Handler{Token: "0123456789abcdef", Ledger: ingest.NewLedger(q), Source: src, Collection: cfg.Collection,
		CheckExists: true, Log: slog.New(slog.DiscardHandler)})
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ingest", strings.NewReader(
		`{"path":"in/scene.tif","identifier":"SCENE","begin_time":"2018-06-15T10:00:00Z","end_time":"2018-06-15T10:00:09Z"}`))
	req.Header.Set("Authorization", "Bearer 0123456789abcdef")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	testenv.Must(t, err, "POST")
	defer resp.Body.Close()
	var a ingest.Answer
	testenv.Must(t, jsonDecode(resp, &a), "answer")
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST: %d %+v", resp.StatusCode, a)
	}
	out, _, err := runBulkCLI(t, g, "", "status", a.Item)
	testenv.Must(t, err, "pvs status %s", a.Item)
	if !strings.Contains(out, "status:    queued") || !strings.Contains(out, "stage:     preprocess (preprocess-md_queue)") {
		t.Errorf("pvs status of the answered item:\n%s", out)
	}
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
