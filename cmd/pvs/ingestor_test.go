package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/pvs/pvs/internal/testenv"
)

// The daemon as an operator runs it: the endpoint behind its token, a
// watcher on the source bucket, the probes, and a clean stop on SIGTERM.
func TestIngestorDaemon(t *testing.T) {
	g, q, src := bulkEnv(t)
	port := testenv.FreePort(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	testenv.Must(t, os.WriteFile(tokenFile, []byte("0123456789abcdef-daemon\n"), 0o600), "token")
	raw, err := os.ReadFile(g.configPath)
	testenv.Must(t, err, "config")
	cfg := strings.Replace(string(raw), "ingestor: {concurrency: 8}", fmt.Sprintf(`ingestor:
  listen: 127.0.0.1:%d
  token_file: %s
  watchers:
    - {name: drop, prefix: drop/, settle: 0s, interval: 200ms}
  harvesters:
    - {name: cat, catalog: stac/catalog.json, interval: 1s}`, port, tokenFile), 1)
	testenv.Must(t, os.WriteFile(g.configPath, []byte(cfg), 0o600), "config")

	// A static catalog of one item in the source bucket.
	bg := context.Background()
	testenv.Must(t, src.Put(bg, "stac/catalog.json", strings.NewReader(`{"type":"Catalog","id":"c","stac_version":"1.0.0","description":"c",
		"links":[{"rel":"item","href":"./items/S1.json"}]}`)), "catalog")
	testenv.Must(t, src.Put(bg, "stac/items/S1.json", strings.NewReader(`{"type":"Feature","stac_version":"1.0.0","id":"S1",
		"geometry":{"type":"Polygon","coordinates":[[[1,2],[2,2],[2,3],[1,3],[1,2]]]},"properties":{"datetime":"2018-06-15T10:00:00Z"},
		"assets":{"data":{"href":"./S1.tif","roles":["data"]}},"links":[]}`)), "item")

	ctx, stop := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() {
		root := &cobra.Command{Use: "pvs", SilenceUsage: true, SilenceErrors: true}
		root.AddCommand(newIngestorCmd(g))
		root.SetArgs([]string{"ingestor"})
		done <- root.ExecuteContext(ctx)
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	testenv.Eventually(t, 10*time.Second, "ingestor ready", func() (bool, error) {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})

	testenv.Must(t, src.Put(ctx, "drop/a.tar", strings.NewReader("a")), "upload")
	testenv.Eventually(t, 10*time.Second, "drop/a.tar queued by the watcher", func() (bool, error) {
		hs, err := q.History(ctx, "drop/a.tar")
		return len(hs) == 1, err
	})
	testenv.Eventually(t, 10*time.Second, "the catalog's item harvested", func() (bool, error) {
		n, err := q.Redis().LLen(ctx, q.Key("preprocess-md_queue")).Result()
		return n == 1, err
	})
	testenv.Must(t, src.Put(ctx, "in/b.tar", strings.NewReader("b")), "upload")
	post := func(token string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/ingest", strings.NewReader("in/b.tar"))
		req.Header.Set("Content-Type", "text/plain")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		testenv.Must(t, err, "POST /ingest")
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("wrong-token"); code != http.StatusUnauthorized {
		t.Errorf("POST with a wrong token: %d", code)
	}
	if code := post("0123456789abcdef-daemon"); code != http.StatusAccepted {
		t.Errorf("POST with the token from the secret file: %d", code)
	}
	if code := post("0123456789abcdef-daemon"); code != http.StatusOK {
		t.Errorf("POST of the same package again: %d, want 200 (left alone)", code)
	}
	stop()
	select {
	case err := <-done:
		testenv.Must(t, err, "ingestor")
	case <-time.After(20 * time.Second):
		t.Fatal("the ingestor did not stop within 20s of its signal")
	}
	n, _ := q.Redis().LLen(context.Background(), q.Key("preprocess_queue")).Result()
	if n != 2 {
		t.Errorf("preprocess_queue holds %d items, want 2", n)
	}

	// An endpoint without a token does not start.
	testenv.Must(t, os.WriteFile(g.configPath, []byte(strings.Replace(cfg, "token_file: "+tokenFile, "token: short", 1)), 0o600), "config")
	root := &cobra.Command{Use: "pvs", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(newIngestorCmd(g))
	root.SetArgs([]string{"ingestor"})
	if err := root.ExecuteContext(context.Background()); err == nil || !strings.Contains(err.Error(), "bearer token of at least 16 characters") {
		t.Errorf("ingestor with a short token: %v", err)
	}
}
