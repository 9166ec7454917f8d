package telemetry_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/telemetry"
)

func TestProbe(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte("ok\n"))
		case "/readyz":
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("unavailable\nredis: connection refused\n"))
		case "/slow":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		case "/redirect":
			http.Redirect(w, r, "/healthz", http.StatusFound)
		case "/big":
			w.Write([]byte(strings.Repeat("x", 100000)))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	closed := closedPort(t)
	for _, c := range []struct {
		url     string
		ok      bool
		message string // in the answer or the error
	}{
		{srv.URL + "/healthz", true, "200 OK: ok"},
		{strings.TrimPrefix(srv.URL, "http://127.0.0.1") + "/healthz", true, "200 OK"}, // ":port/healthz"
		{srv.URL + "/readyz", false, "503 Service Unavailable: unavailable; redis: connection refused"},
		{srv.URL + "/nope", false, "404 Not Found"},
		{srv.URL + "/slow", false, "deadline exceeded"},
		{srv.URL + "/redirect", true, "200 OK"},
		{"http://" + closed + "/healthz", false, "connection refused"},
		{"http://[::1", false, "probe"},
		{srv.URL + "/big", true, "200 OK: " + strings.Repeat("x", 500)},
	} {
		answer, err := telemetry.Probe(context.Background(), c.url, 300*time.Millisecond)
		if c.ok != (err == nil) {
			t.Errorf("Probe(%s) = %q, %v; want ok=%v", c.url, answer, err, c.ok)
			continue
		}
		got := answer.String()
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, c.message) {
			t.Errorf("Probe(%s) says %q, want it to say %q", c.url, got, c.message)
		}
	}
}

// The whole body comes back, for `pvs healthcheck --print` of /metrics.
func TestProbeReturnsTheBody(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("pvs_build_info 1\n", 20000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
	t.Cleanup(srv.Close)
	a, err := telemetry.Probe(context.Background(), srv.URL, time.Second)
	if err != nil || string(a.Body) != body {
		t.Errorf("Probe: %d bytes, %v; want the %d of the body", len(a.Body), err, len(body))
	}
	if s := a.String(); len(s) > 600 {
		t.Errorf("the one-line answer is %d bytes long", len(s))
	}
}

// closedPort returns an address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
