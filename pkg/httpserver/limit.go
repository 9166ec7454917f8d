package httpserver

import (
	"net/http"
	"strconv"
)

// Limit lets at most n requests into next at once; any beyond that is
// answered at once with 503 Service Unavailable and Retry-After: 1. It
// does not queue them: a queue would hold memory and connections for
// requests whose clients have mostly given up by the time their turn
// comes, while a client told to retry (or a proxy trying another replica)
// is served as soon as there is room. n <= 0 means no limit.
//
// Wrap the expensive handlers (rendering, WCS cuts), not the cheap ones
// (capabilities, cached tiles), so that a burst of GetMaps does not make
// the cache refuse hits.
func Limit(n int, next http.Handler) http.Handler {
	if n <= 0 {
		return next
	}
	slots := make(chan struct{}, n)
	busy := "server busy: " + strconv.Itoa(n) + " requests are being served; retry in a second\n"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
		default:
			h := w.Header()
			h.Set("Retry-After", "1")
			h.Set("Cache-Control", "no-store")
			h.Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(busy))
			return
		}
		// Deferred: a handler that panics gives its slot back too.
		defer func() { <-slots }()
		next.ServeHTTP(w, r)
	})
}
