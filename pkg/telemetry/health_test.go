package telemetry_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/telemetry"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w.Code, w.Body.String()
}

func TestHealthProbes(t *testing.T) {
	t.Parallel()
	ok := telemetry.Check{Name: "loop", Run: func(context.Context) error { return nil }}
	down := telemetry.Check{Name: "postgis", Run: func(context.Context) error { return errors.New("connection refused") }}
	hung := telemetry.Check{Name: "redis", Run: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}
	for _, c := range []struct {
		name       string
		h          telemetry.Health
		path       string
		wantStatus int
		wantLines  []string
	}{
		{"nothing to check", telemetry.Health{}, "/healthz", 200, []string{"ok"}},
		{"alive", telemetry.Health{Live: []telemetry.Check{ok}, Ready: []telemetry.Check{down}}, "/healthz", 200, []string{"ok", "loop: ok"}},
		{"dependency down: not ready", telemetry.Health{Live: []telemetry.Check{ok}, Ready: []telemetry.Check{down}}, "/readyz", 503,
			[]string{"unavailable", "postgis: connection refused"}},
		{"one of two down", telemetry.Health{Ready: []telemetry.Check{ok, down}}, "/readyz", 503, []string{"unavailable", "loop: ok", "postgis: connection refused"}},
		{"hung dependency times out", telemetry.Health{Ready: []telemetry.Check{hung}, Timeout: 50 * time.Millisecond}, "/readyz", 503,
			[]string{"unavailable", "redis: context deadline exceeded"}},
		{"loop stuck: not alive", telemetry.Health{Live: []telemetry.Check{down}}, "/healthz", 503, []string{"unavailable", "postgis: connection refused"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			mux := http.NewServeMux()
			c.h.Mount(mux, nil)
			status, body := get(t, mux, c.path)
			if status != c.wantStatus || body != strings.Join(c.wantLines, "\n")+"\n" {
				t.Errorf("GET %s = %d %q, want %d %q", c.path, status, body, c.wantStatus, strings.Join(c.wantLines, "\n")+"\n")
			}
		})
	}
}

// The checks of one probe run at once: two hung dependencies cost the
// probe one timeout, not two.
func TestHealthChecksRunTogether(t *testing.T) {
	t.Parallel()
	hung := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	h := telemetry.Health{Timeout: 300 * time.Millisecond, Ready: []telemetry.Check{{Name: "a", Run: hung}, {Name: "b", Run: hung}}}
	mux := http.NewServeMux()
	h.Mount(mux, nil)
	t0 := time.Now()
	if status, _ := get(t, mux, "/readyz"); status != 503 {
		t.Errorf("status %d, want 503", status)
	}
	if d := time.Since(t0); d >= 550*time.Millisecond {
		t.Errorf("the probe took %s: the checks ran one after the other", d)
	}
}

func TestMountServesMetrics(t *testing.T) {
	t.Parallel()
	m := telemetry.New("renderer", "1.2.3")
	mux := http.NewServeMux()
	(&telemetry.Health{}).Mount(mux, m.Handler())
	status, body := get(t, mux, "/metrics")
	if status != 200 || !strings.Contains(body, `pvs_build_info{daemon="renderer",version="1.2.3"} 1`) {
		t.Errorf("GET /metrics = %d, body without build info:\n%s", status, body)
	}
}
