package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/queue"
)

// The management token comes from its file (a Docker secret), else the
// environment; none, or a short one, fails the daemon at start.
func TestAdminToken(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "token")
	testenv.Must(t, os.WriteFile(good, []byte("0123456789abcdef0123\n"), 0o600), "write token")
	short := filepath.Join(dir, "short")
	testenv.Must(t, os.WriteFile(short, []byte("abc"), 0o600), "write token")
	for _, tc := range []struct {
		file, env, want, err string
	}{
		{good, "", "0123456789abcdef0123", ""},
		{good, "from-the-environment-0123", "0123456789abcdef0123", ""},
		{"", "from-the-environment-0123", "from-the-environment-0123", ""},
		{"", "", "", "no management token"},
		{short, "", "", "use at least 16"},
		{filepath.Join(dir, "missing"), "", "", "--token-file"},
	} {
		t.Setenv("PVS_ADMIN_TOKEN", tc.env)
		got, err := adminToken(tc.file)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("adminToken(%q) with env %q = %q, %v; want %q, error with %q", tc.file, tc.env, got, err, tc.want, tc.err)
		}
	}
}

// `pvs admin` serves the API under its base path with the token of its
// file, its probes at the root, on the real Redis and PostgreSQL, and
// stops cleanly on its context's end.
func TestAdminDaemon(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	dbURL := testenv.Database(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	testenv.Must(t, os.WriteFile(tokenFile, []byte("daemon-token-0123456789"), 0o600), "write token")
	for k, v := range map[string]string{"REDIS_URL": testenv.RedisURL(), "PVS_REDIS_PREFIX": prefix, "DATABASE_URL": dbURL,
		"PVS_SOURCE": filepath.Join(dir, "in"), "PVS_OUTPUT": filepath.Join(dir, "out"), "PVS_CACHE_STORE": filepath.Join(dir, "cache"),
		"PVS_ADMIN_TOKEN": ""} {
		t.Setenv(k, v)
	}
	testenv.Must(t, queue.New(rdb, prefix).Enqueue(context.Background(), "seed_queue", "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z"), "enqueue")
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cmd := newAdminCmd(&globals{configPath: "../../config/vhr18.yaml", logLevel: "error"})
	cmd.SetArgs([]string{"--listen", addr, "--token-file", tokenFile, "--base-path", "/ops"})
	cmd.SetOut(io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			testenv.Must(t, err, "pvs admin")
		case <-time.After(30 * time.Second):
			t.Error("pvs admin did not stop")
		}
	}()
	get := func(path, token string) (int, []byte, error) {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res.StatusCode, b, err
	}
	testenv.Eventually(t, 30*time.Second, "pvs admin ready", func() (bool, error) {
		code, _, err := get("/readyz", "")
		return code == http.StatusOK, err
	})
	code, body, err := get("/ops/api/stages", "daemon-token-0123456789")
	testenv.Must(t, err, "stages")
	var st struct {
		Stages []struct {
			Stage  string
			Queues []struct{ Queued int }
		}
	}
	if code != http.StatusOK || json.Unmarshal(body, &st) != nil || len(st.Stages) != 4 || st.Stages[2].Queues[0].Queued != 1 {
		t.Errorf("GET /ops/api/stages: %d %s", code, body)
	}
	if code, body, _ := get("/ops/api/stages", "wrong-token-0123456789"); code != http.StatusUnauthorized {
		t.Errorf("GET /ops/api/stages with a wrong token: %d %s", code, body)
	}
	if code, body, _ := get("/ops/openapi.json", ""); code != http.StatusOK || !strings.Contains(string(body), `"url": "/ops"`) {
		t.Errorf("GET /ops/openapi.json: %d %.200s", code, body)
	}
	if code, body, _ := get("/ops/", ""); code != http.StatusOK || !strings.Contains(string(body), "pvs operations") {
		t.Errorf("GET /ops/: %d %.200s", code, body)
	}
}
