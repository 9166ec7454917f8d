package httpserver

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// slow is a handler that reports each request entering and holds it until
// the gate of the moment is closed.
type slow struct {
	entered chan struct{}
	mu      sync.Mutex
	gate    chan struct{}
}

func newSlow() *slow { return &slow{entered: make(chan struct{}, 100), gate: make(chan struct{})} }

func (s *slow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	s.entered <- struct{}{}
	<-gate
	w.Write([]byte("drawn"))
}

// open lets the requests held go, and holds the next ones at a new gate.
func (s *slow) open() {
	s.mu.Lock()
	close(s.gate)
	s.gate = make(chan struct{})
	s.mu.Unlock()
}

// burst sends m requests at once and returns their answers as they come.
func burst(h http.Handler, m int) (answers chan *httptest.ResponseRecorder, wait func()) {
	answers = make(chan *httptest.ResponseRecorder, m)
	var wg sync.WaitGroup
	for i := 0; i < m; i++ {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ows", nil))
			answers <- rec
		})
	}
	return answers, wg.Wait
}

// N+k slow requests at once: N are let in, exactly k are told at once
// (while the N are still inside) to come back in a second, and the N
// slots are free again afterwards.
func TestLimitRefusesBeyondN(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ n, k int }{{1, 1}, {3, 4}, {8, 20}} {
		s := newSlow()
		h := Limit(c.n, s)
		answers, wait := burst(h, c.n+c.k)
		for i := 0; i < c.n; i++ {
			<-s.entered
		}
		for i := 0; i < c.k; i++ {
			rec := <-answers
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" || rec.Body.Len() == 0 {
				t.Errorf("n=%d k=%d: refused with %d, Retry-After %q, body %q", c.n, c.k, rec.Code, rec.Header().Get("Retry-After"), rec.Body)
			}
		}
		s.open()
		wait()
		close(answers)
		served := 0
		for rec := range answers {
			if rec.Code == http.StatusOK {
				served++
			}
		}
		if served != c.n {
			t.Errorf("n=%d k=%d: %d served, want %d", c.n, c.k, served, c.n)
		}
		// N at once again: all let in.
		answers, wait = burst(h, c.n)
		for i := 0; i < c.n; i++ {
			<-s.entered
		}
		s.open()
		wait()
		close(answers)
		for rec := range answers {
			if rec.Code != http.StatusOK {
				t.Errorf("n=%d: after the burst a request got %d", c.n, rec.Code)
			}
		}
	}
}

// A handler that panics gives its slot back.
func TestLimitSurvivesPanics(t *testing.T) {
	t.Parallel()
	h := Limit(1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic(http.ErrAbortHandler)
		}
	}))
	func() {
		defer func() { _ = recover() }() // net/http's part
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/panic", nil))
	}()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ok", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("after a panic: %d", rec.Code)
	}
}

// Limit(0) lets everything in: 20 requests are inside at once.
func TestLimitZeroIsNoLimit(t *testing.T) {
	t.Parallel()
	s := newSlow()
	answers, wait := burst(Limit(0, s), 20)
	for i := 0; i < 20; i++ {
		<-s.entered
	}
	s.open()
	wait()
	close(answers)
	for rec := range answers {
		if rec.Code != http.StatusOK {
			t.Errorf("got %d", rec.Code)
		}
	}
}
