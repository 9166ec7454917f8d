package opensearch

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
)

type failingBackend struct{}

func (failingBackend) Search(context.Context, Query) ([]Product, int64, error) {
	return nil, 0, errors.New("dial postgres://pvs:s3cr3t@database:5432/pvs: connection refused")
}

// A backend failure is logged, never shown: its text may carry a
// connection URL with its password, or an object path.
func TestBackendErrorsDoNotReachTheClient(t *testing.T) {
	h := &Handler{Backend: failingBackend{}, Collection: "C", Title: "C", BaseURL: "http://example.test", MaxCount: 50,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, target := range []string{"/opensearch/json?bbox=0,0,1,1", "/opensearch/atom?bbox=0,0,1,1"} {
		rec := get(h, target)
		body := rec.Body.String()
		if rec.Code != 500 || strings.Contains(body, "s3cr3t") || strings.Contains(body, "postgres://") {
			t.Errorf("%s: %d %s", target, rec.Code, body)
		}
	}
}
