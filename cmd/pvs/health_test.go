package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/telemetry"
)

func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// deadRedis is a client of a Redis that is not there.
func deadRedis(t *testing.T) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: closedAddr(t), MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// deadPostGIS is a pool of a database that is not there (pgxpool connects
// lazily, so the pool opens).
func deadPostGIS(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), "postgres://pvs@"+closedAddr(t)+"/pvs?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func fetch(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w.Code, w.Body.String()
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The renderer and the cache: /healthz does not depend on the database or
// Redis, /readyz does; the service's own requests are counted, the probes
// are not.
func TestServiceProbesWithDependenciesDown(t *testing.T) {
	t.Parallel()
	m := telemetry.New("cache", "test")
	h := &telemetry.Health{Timeout: 2 * time.Second,
		Ready: []telemetry.Check{redisCheck(deadRedis(t)), postgisCheck(deadPostGIS(t))}}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Cache", "HIT") })
	mux := serviceMux("cache", app, h, m)
	if status, body := fetch(t, mux, "/healthz"); status != http.StatusOK {
		t.Errorf("/healthz = %d %q with the dependencies down, want 200", status, body)
	}
	status, body := fetch(t, mux, "/readyz")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "\nredis: ") || !strings.Contains(body, "\npostgis: ") ||
		strings.Contains(body, "redis: ok") || strings.Contains(body, "postgis: ok") {
		t.Errorf("/readyz = %d %q, want 503 naming redis and postgis", status, body)
	}
	fetch(t, mux, "/wmts/1.0.0/L/default/WorldCRS84Quad/0/0/0.png")
	status, body = fetch(t, mux, "/metrics")
	if status != http.StatusOK {
		t.Fatalf("/metrics = %d", status)
	}
	for _, want := range []string{
		`pvs_http_requests_total{code="200",operation="GetTile",protocol="WMTS",service="cache"} 1`,
		`pvs_tilecache_tiles_total{result="hit"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, `operation="other"`) {
		t.Errorf("the probes were counted as requests:\n%s", body)
	}
}

func TestServiceProbesWithDependenciesUp(t *testing.T) {
	t.Parallel()
	rdb, _ := testenv.Redis(t)
	pool, err := pgxpool.New(context.Background(), testenv.Database(t))
	testenv.Must(t, err, "open database")
	t.Cleanup(pool.Close)
	h := &telemetry.Health{Ready: []telemetry.Check{redisCheck(rdb), postgisCheck(pool)}}
	mux := serviceMux("renderer", http.NotFoundHandler(), h, telemetry.New("renderer", "test"))
	status, body := fetch(t, mux, "/readyz")
	if status != http.StatusOK || body != "ok\nredis: ok\npostgis: ok\n" {
		t.Errorf("/readyz = %d %q, want 200 with both dependencies ok", status, body)
	}
}

// A worker's listener answers the probes while it works and through its
// shutdown grace, and is gone when the daemon's run returns.
func TestWorkerListenerLivesAsLongAsTheWorker(t *testing.T) {
	t.Parallel()
	rdb := deadRedis(t)
	e := &env{rdb: rdb, q: queue.New(rdb, "x:")}
	c := e.q.NewConsumer(queue.Preprocess, queue.ConsumerOptions{})
	m := workerMetrics(e, "preprocessor")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	draining, finish := make(chan struct{}), make(chan struct{})
	returned := make(chan error, 1)
	go func() {
		returned <- runWorkerOn(ctx, slog.New(slog.DiscardHandler), ln, workerHealth(e, nil, c), m, func(ctx context.Context) error {
			<-ctx.Done()
			close(draining) // in-flight items finishing
			<-finish
			return nil
		})
	}()
	if status, body := httpGet(t, base+"/healthz"); status != http.StatusOK || body != "ok\npreprocess consumer: ok\n" {
		t.Errorf("/healthz = %d %q, want 200: Redis being down is no reason to restart", status, body)
	}
	if status, body := httpGet(t, base+"/readyz"); status != http.StatusServiceUnavailable || !strings.Contains(body, "redis: ") {
		t.Errorf("/readyz = %d %q, want 503 naming redis", status, body)
	}
	if status, body := httpGet(t, base+"/metrics"); status != http.StatusOK || !strings.Contains(body, "pvs_queue_up 0") {
		t.Errorf("/metrics = %d, without pvs_queue_up 0:\n%s", status, body)
	}
	cancel()
	<-draining
	if status, _ := httpGet(t, base+"/healthz"); status != http.StatusOK {
		t.Errorf("/healthz during the shutdown grace = %d, want 200", status)
	}
	close(finish)
	select {
	case err := <-returned:
		testenv.Must(t, err, "runWorkerOn")
	case <-time.After(20 * time.Second):
		t.Fatal("runWorkerOn did not return after its run")
	}
	if conn, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		conn.Close()
		t.Error("the health listener outlived the worker")
	}
}

func TestWorkerWithoutListener(t *testing.T) {
	t.Parallel()
	ran := false
	err := runWorker(context.Background(), slog.New(slog.DiscardHandler), "", &telemetry.Health{}, telemetry.New("seeder", "test"),
		func(context.Context) error { ran = true; return nil })
	if err != nil || !ran {
		t.Errorf("runWorker without an address: ran=%v err=%v", ran, err)
	}
	// A taken port fails the daemon at once, naming the flag.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = runWorker(context.Background(), slog.New(slog.DiscardHandler), ln.Addr().String(), &telemetry.Health{}, telemetry.New("seeder", "test"),
		func(context.Context) error { t.Error("the worker ran without its listener"); return nil })
	if err == nil || !strings.Contains(err.Error(), "--health-listen") {
		t.Errorf("runWorker on a taken port: %v, want an error naming --health-listen", err)
	}
}

func TestHealthListenFlag(t *testing.T) {
	t.Setenv("PVS_HEALTH_LISTEN", ":9100")
	root := newRootCmd()
	for _, name := range []string{"preprocessor", "registrar", "seeder"} {
		cmd, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		f := cmd.Flags().Lookup("health-listen")
		if f == nil || f.DefValue != ":9100" {
			t.Errorf("%s --health-listen: %+v, want the default from PVS_HEALTH_LISTEN", name, f)
		}
	}
}

func runPVS(args ...string) (string, error) {
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte("ok\n"))
		case "/readyz":
			http.Error(w, "unavailable\npostgis: connection refused", http.StatusServiceUnavailable)
		case "/slow":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	for _, c := range []struct {
		args []string
		ok   bool
		says string
	}{
		{[]string{srv.URL + "/healthz"}, true, "200 OK: ok"},
		{[]string{port + "/healthz"}, true, "200 OK"},
		{[]string{srv.URL + "/readyz"}, false, "503 Service Unavailable: unavailable; postgis: connection refused"},
		{[]string{srv.URL + "/slow", "--timeout", "200ms"}, false, "deadline exceeded"},
		{[]string{"http://" + closedAddr(t) + "/healthz"}, false, "connection refused"},
		{[]string{}, false, "accepts 1 arg"},
	} {
		out, err := runPVS(append([]string{"healthcheck"}, c.args...)...)
		if c.ok != (err == nil) {
			t.Errorf("pvs healthcheck %v: output %q, error %v; want ok=%v", c.args, out, err, c.ok)
			continue
		}
		said := out
		if err != nil {
			said = err.Error() // main prints it and exits 1
		}
		if !strings.Contains(said, c.says) {
			t.Errorf("pvs healthcheck %v says %q, want %q", c.args, said, c.says)
		}
	}
	// --print gives the body as it is, for reading /metrics in a container.
	if out, err := runPVS("healthcheck", "--print", srv.URL+"/healthz"); err != nil || out != "ok\n" {
		t.Errorf("pvs healthcheck --print: %q, %v; want the body %q", out, err, "ok\n")
	}
}
