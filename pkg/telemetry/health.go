package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Check is one thing a daemon needs; a nil error means it is well.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Health answers the two probes of an orchestrator. They ask different
// questions and must stay apart: a daemon whose database is down is not
// ready (send it no traffic) but alive (restarting it would not help), so
// a dependency never goes into Live.
type Health struct {
	Live    []Check       // the process works: its loops turn
	Ready   []Check       // its dependencies answer
	Timeout time.Duration // for all the checks of one probe; default 2s
}

// Mount serves /healthz, /readyz and, when metrics is not nil, /metrics on
// mux.
func (h *Health) Mount(mux *http.ServeMux, metrics http.Handler) {
	mux.Handle("/healthz", h.handler(func() []Check { return h.Live }))
	mux.Handle("/readyz", h.handler(func() []Check { return h.Ready }))
	if metrics != nil {
		mux.Handle("/metrics", metrics)
	}
}

// handler answers 200 when every check passes and 503 otherwise, with one
// line per check, so that `pvs healthcheck` can print what is wrong.
func (h *Health) handler(checks func() []Check) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs := checks()
		errs := h.run(r.Context(), cs)
		status, body := http.StatusOK, "ok\n"
		var lines []string
		for i, c := range cs {
			if errs[i] != nil {
				status = http.StatusServiceUnavailable
				lines = append(lines, fmt.Sprintf("%s: %v", c.Name, errs[i]))
			} else {
				lines = append(lines, c.Name+": ok")
			}
		}
		if status != http.StatusOK {
			body = "unavailable\n"
		}
		if len(lines) > 0 {
			body += strings.Join(lines, "\n") + "\n"
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		w.Write([]byte(body))
	})
}

// run runs the checks at once, so that one slow dependency costs a probe
// the timeout, not the timeout per dependency.
func (h *Health) run(ctx context.Context, cs []Check) []error {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() { errs[i] = c.Run(ctx) })
	}
	wg.Wait()
	return errs
}
