package httpserver

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Watchdog notices requests stuck past a deadline. A request inside a cgo
// call (GDAL, PROJ) cannot be cancelled: its context ends but the call
// goes on, holding a slot and a core. The only cure is a new process, so
// the watchdog turns such a request into a failing check for the
// orchestrator (readiness: no new traffic; the stack's health check: a
// restart) instead of letting it starve the server unseen. A request that
// has begun its answer is no longer watched: sending is bounded by the
// server's write timeout, and a large WCS download to a slow client is not
// stuck.
type Watchdog struct {
	// Stuck is how long a request may run before the check fails.
	Stuck time.Duration
	now   func() time.Time

	mu       sync.Mutex
	next     uint64
	inFlight map[uint64]watched
}

type watched struct {
	start time.Time
	what  string
}

// Wrap tracks the requests of next.
func (d *Watchdog) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := d.begin(r.URL.Path + "?" + r.URL.RawQuery)
		defer d.end(id)
		next.ServeHTTP(&answering{ResponseWriter: w, started: func() { d.end(id) }}, r)
	})
}

// answering tells the watchdog when the answer starts.
type answering struct {
	http.ResponseWriter
	started func()
	once    sync.Once
}

func (a *answering) WriteHeader(code int) {
	a.once.Do(a.started)
	a.ResponseWriter.WriteHeader(code)
}

func (a *answering) Write(b []byte) (int, error) {
	a.once.Do(a.started)
	return a.ResponseWriter.Write(b)
}

// ReadFrom keeps the server's sendfile path for files copied to the answer.
func (a *answering) ReadFrom(r io.Reader) (int64, error) {
	a.once.Do(a.started)
	return io.Copy(a.ResponseWriter, r)
}

// Unwrap lets http.ResponseController reach the connection (sendfile,
// deadlines, flushing).
func (a *answering) Unwrap() http.ResponseWriter { return a.ResponseWriter }

func (d *Watchdog) clock() time.Time {
	if d.now != nil {
		return d.now()
	}
	return time.Now()
}

func (d *Watchdog) begin(what string) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.inFlight == nil {
		d.inFlight = map[uint64]watched{}
	}
	d.next++
	d.inFlight[d.next] = watched{start: d.clock(), what: what}
	return d.next
}

func (d *Watchdog) end(id uint64) {
	d.mu.Lock()
	delete(d.inFlight, id)
	d.mu.Unlock()
}

// Check returns an error naming the oldest request running longer than
// Stuck, if any.
func (d *Watchdog) Check() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock()
	var oldest *watched
	n := 0
	for _, w := range d.inFlight {
		if now.Sub(w.start) > d.Stuck {
			n++
			if oldest == nil || w.start.Before(oldest.start) {
				w := w
				oldest = &w
			}
		}
	}
	if oldest == nil {
		return nil
	}
	what := oldest.what
	if len(what) > 200 {
		what = what[:200] + "…"
	}
	return fmt.Errorf("%d request(s) stuck for more than %s; the oldest, for %s: %s", n, d.Stuck, now.Sub(oldest.start).Round(time.Second), what)
}
