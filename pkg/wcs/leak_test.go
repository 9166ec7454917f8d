package wcs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// secretBackend fails with errors that carry secrets, and hands out an
// object path with credentials in it that GDAL cannot open (in memory, so
// that nothing reaches a network).
type secretBackend struct{ fileBackend }

const secret = "AKIAEXAMPLE:s3cr3t"

func (secretBackend) Coverages(context.Context, int) ([]Coverage, error) {
	return nil, errors.New("query postgres://pvs:" + secret + "@db/pvs failed")
}

func (b secretBackend) GDALPath(key string) string { return "/vsimem/bucket-" + secret + "/" + key }

// A backend or GDAL failure is logged, never shown: its text may carry a
// password or an object path.
func TestInternalErrorsDoNotReachTheClient(t *testing.T) {
	base := newHandler(t)
	h := &Handler{Backend: secretBackend{base.Backend.(fileBackend)}, TempDir: t.TempDir(), Service: base.Service,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, q := range []string{
		"SERVICE=WCS&REQUEST=GetCapabilities",
		"SERVICE=WCS&VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID=UTM_RGB&SCALEFACTOR=10",
	} {
		rec := get(h, q)
		body := rec.Body.String()
		if rec.Code < 500 || strings.Contains(body, secret) || strings.Contains(body, "/vsimem/") || strings.Contains(body, "postgres://") {
			t.Errorf("%s: %d %s", q, rec.Code, body)
		}
	}
}
