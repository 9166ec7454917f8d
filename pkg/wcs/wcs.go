package wcs

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/pvs/pvs/internal/xmltext"
	"github.com/pvs/pvs/pkg/ows"
)

// Service is what the capabilities say about the service, and its limits.
type Service struct {
	Title     string
	Abstract  string
	PublicURL string // advertised endpoint; the request's own URL when empty
	// MaxBytes bounds a GetCoverage response, counted uncompressed
	// (width × height × bands × sample size).
	MaxBytes int64
	// MaxListed bounds the coverages listed in the capabilities.
	MaxListed int
}

// Handler serves WCS 2.0.1 over HTTP GET with KVP encoding.
type Handler struct {
	Backend Backend
	Service Service
	// TempDir holds GetCoverage results while they are sent.
	TempDir string
	Log     *slog.Logger
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	p := map[string]string{}
	var subsets []string
	for k, v := range r.URL.Query() {
		if len(v) == 0 {
			continue
		}
		k = strings.ToUpper(k)
		if k == "SUBSET" {
			subsets = append(subsets, v...)
			continue
		}
		p[k] = v[0]
	}
	if svc := p["SERVICE"]; !strings.EqualFold(svc, "WCS") {
		if svc == "" {
			writeException(w, errorf(CodeMissingParameterValue, "service", http.StatusBadRequest, "SERVICE is missing; use SERVICE=WCS"))
		} else {
			writeException(w, errorf(CodeInvalidParameterValue, "service", http.StatusBadRequest, "SERVICE=%s is not served here; use SERVICE=WCS", svc))
		}
		return
	}
	req := strings.ToLower(p["REQUEST"])
	if req == "" {
		writeException(w, errorf(CodeMissingParameterValue, "request", http.StatusBadRequest, "REQUEST is missing"))
		return
	}
	if req == "getcapabilities" {
		if av := p["ACCEPTVERSIONS"]; av != "" && !strings.Contains(av, "2.0.1") && !strings.Contains(av, "2.0.0") {
			writeException(w, errorf(CodeVersionNegotiationFailed, "acceptversions", http.StatusBadRequest, "ACCEPTVERSIONS=%s: this server speaks WCS 2.0.1 only", av))
			return
		}
		h.getCapabilities(w, r)
		return
	}
	switch v := p["VERSION"]; v {
	case "2.0.1", "2.0.0":
	case "":
		writeException(w, errorf(CodeMissingParameterValue, "version", http.StatusBadRequest, "VERSION is missing; use VERSION=2.0.1"))
		return
	default:
		writeException(w, errorf(CodeInvalidParameterValue, "version", http.StatusBadRequest, "VERSION=%s: this server speaks WCS 2.0.1 only", v))
		return
	}
	var err error
	switch req {
	case "describecoverage":
		err = h.describeCoverage(w, r, p)
	case "getcoverage":
		err = h.getCoverage(w, r, p, subsets)
	default:
		err = errorf(CodeOperationNotSupported, "request", http.StatusNotImplemented, "REQUEST=%s is not supported; use GetCapabilities, DescribeCoverage or GetCoverage", p["REQUEST"])
	}
	if err != nil {
		var e *ows.Exception
		if !errors.As(err, &e) {
			h.Log.Error("wcs", "request", req, "err", err)
			e = errorf(CodeNoApplicableCode, "", http.StatusInternalServerError, "the request failed; the error is logged")
		}
		writeException(w, e)
	}
}

func (h *Handler) lookup(ctx context.Context, id string) (coverageInfo, error) {
	cov, err := h.Backend.Coverage(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return coverageInfo{}, errorf(CodeNoSuchCoverage, "coverageid", http.StatusNotFound, "no coverage %q", id)
	}
	if err != nil {
		return coverageInfo{}, err
	}
	ci, err := info(cov)
	if err != nil {
		return coverageInfo{}, errorf(CodeNoSuchCoverage, "coverageid", http.StatusNotFound, "coverage %q is not offered over WCS: %v", id, err)
	}
	return ci, nil
}

func (h *Handler) endpoint(r *http.Request) string {
	if h.Service.PublicURL != "" {
		return h.Service.PublicURL
	}
	return ows.Origin(r) + r.URL.Path
}

// esc escapes XML text.
var esc = xmltext.Escape
