package telemetry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxProbeBody bounds the body a probe reads: /metrics of a busy daemon
// is some hundred KiB, a probe's answer a few lines.
const maxProbeBody = 16 << 20

// Answer is what a probed URL answered.
type Answer struct {
	Status string // "200 OK"
	Body   []byte
}

// String is the status and the start of the body, on one line.
func (a Answer) String() string {
	b := strings.TrimSpace(string(a.Body[:min(len(a.Body), 512)]))
	if b == "" {
		return a.Status
	}
	return a.Status + ": " + strings.ReplaceAll(b, "\n", "; ")
}

// Probe asks url with a GET, as a container health check does: nil error
// for a 2xx answer within timeout, else an error that says why (no answer,
// or the status and the start of the body). The URL may leave out the
// scheme and host: ":9100/healthz" is http://127.0.0.1:9100/healthz.
func Probe(ctx context.Context, url string, timeout time.Duration) (Answer, error) {
	url = completeURL(url)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Answer{}, fmt.Errorf("probe %s: %w", url, err)
	}
	// A fresh transport: a probe must not reuse a connection a hung server
	// still holds open from an earlier probe.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return Answer{}, fmt.Errorf("probe %s: %w", url, err)
	}
	defer resp.Body.Close()
	a := Answer{Status: resp.Status}
	if a.Body, err = io.ReadAll(io.LimitReader(resp.Body, maxProbeBody)); err != nil {
		return a, fmt.Errorf("probe %s: %s, reading the body: %w", url, resp.Status, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return a, fmt.Errorf("probe %s: %s", url, a)
	}
	return a, nil
}

func completeURL(u string) string {
	if strings.HasPrefix(u, ":") {
		u = "127.0.0.1" + u
	}
	if !strings.Contains(u, "://") {
		u = "http://" + u
	}
	return u
}
