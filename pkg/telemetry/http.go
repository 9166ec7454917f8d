package telemetry

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HTTP counts and times the requests next answers for service (renderer,
// cache). The protocol and operation labels come from Operation, so their
// values are a small fixed set whatever clients send. A response with an X-Cache header
// (HIT, MISS, BLANK, as the WMTS handler sets it) also counts as a tile
// cache result: that header is the one place that knows all three.
func (m *Metrics) HTTP(service string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		protocol, op := Operation(r)
		rec := &recorder{ResponseWriter: w}
		t0 := time.Now()
		next.ServeHTTP(rec, r)
		m.Observe(service, protocol, op, rec.code(), time.Since(t0), w.Header().Get("X-Cache"))
	})
}

// Observe records a request as HTTP's middleware does, for requests served
// outside it: its latency d, its status code and the tile cache's result
// from its X-Cache header (none when empty).
func (m *Metrics) Observe(service, protocol, op string, code int, d time.Duration, xCache string) {
	m.latency.WithLabelValues(service, protocol, op).Observe(d.Seconds())
	m.requests.WithLabelValues(service, protocol, op, strconv.Itoa(code)).Inc()
	if res := cacheResult(xCache); res != "" {
		m.countTile(res)
	}
}

// countTile counts a tile cache result. The first result brings in the
// others at 0: a daemon that serves no tiles shows no tile series, and in
// one that does, a series born at its first increment would lose that
// increment to rate().
func (m *Metrics) countTile(result string) {
	m.tilesSeen.Do(func() {
		for _, r := range []string{"hit", "miss", "blank"} {
			m.tiles.WithLabelValues(r)
		}
	})
	m.tiles.WithLabelValues(result).Inc()
}

func cacheResult(h string) string {
	switch strings.ToUpper(h) {
	case "HIT":
		return "hit"
	case "MISS":
		return "miss"
	case "BLANK":
		return "blank"
	}
	return ""
}

// operations are the requests of each KVP protocol, spelled as in the
// label; anything else is "other".
var operations = map[string][]string{
	"WMS":  {"GetCapabilities", "GetMap", "GetFeatureInfo"},
	"WCS":  {"GetCapabilities", "DescribeCoverage", "GetCoverage"},
	"WMTS": {"GetCapabilities", "GetTile", "GetFeatureInfo"},
}

// wms100 are the WMS 1.0.0 request names the WMS handler still accepts.
var wms100 = map[string]string{"capabilities": "GetCapabilities", "map": "GetMap", "feature_info": "GetFeatureInfo"}

// Operation names what a request asks of pvs, for the protocol and
// operation labels: WMS GetMap, WMTS GetTile, WCS GetCoverage, OpenSearch
// Search, ...; the operation is "other" for a request the protocol does
// not know, and both are "other" for paths pvs does not serve. It reads
// the paths pvs mounts (/ows, /wms, /wcs, /wmts, /opensearch), SERVICE and
// REQUEST of KVP requests and the shape of WMTS REST paths.
func Operation(r *http.Request) (protocol, operation string) {
	p := r.URL.Path
	switch {
	case p == "/opensearch" || strings.HasPrefix(p, "/opensearch/"):
		return "OpenSearch", openSearchOperation(p)
	case strings.HasPrefix(p, "/wmts/") && strings.Trim(p, "/") != "wmts":
		return "WMTS", restOperation(strings.Trim(strings.TrimPrefix(p, "/wmts/"), "/"))
	case p == "/wmts" || p == "/wmts/":
		return kvpOperation(r.URL.Query(), "WMTS")
	case p == "/wcs":
		return kvpOperation(r.URL.Query(), "WCS")
	case p == "/ows" || p == "/wms":
		// Without SERVICE, /ows is WMS: WMS 1.1.1 clients may leave it out.
		return kvpOperation(r.URL.Query(), "WMS")
	}
	return "other", "other"
}

func openSearchOperation(p string) string {
	switch strings.TrimSuffix(p, "/") {
	case "/opensearch", "/opensearch/description.xml":
		return "Description"
	case "/opensearch/atom", "/opensearch/json":
		return "Search"
	}
	return "other"
}

// restOperation reads a WMTS REST path after /wmts/: the capabilities
// document, {layer}/{style}[/{time}]/{set}/{z}/{row}/{col}.{ext} for a
// tile, and two more steps ({j}/{i}.{ext}) for feature info.
func restOperation(rest string) string {
	parts := strings.Split(rest, "/")
	if parts[0] != "1.0.0" {
		return "other"
	}
	switch n := len(parts) - 1; {
	case n == 1 && parts[1] == "WMTSCapabilities.xml":
		return "GetCapabilities"
	case n == 6 || n == 7:
		return "GetTile"
	case n == 8 || n == 9:
		return "GetFeatureInfo"
	}
	return "other"
}

func kvpOperation(q url.Values, service string) (protocol, operation string) {
	var svc, req string
	for k, v := range q {
		if len(v) == 0 {
			continue
		}
		switch strings.ToUpper(k) {
		case "SERVICE":
			svc = v[0]
		case "REQUEST":
			req = v[0]
		case "WMTVER":
			// WMS 1.0.0 names no SERVICE; the WMTS handler sends it to WMS.
			if svc == "" {
				svc = "WMS"
			}
		}
	}
	if svc != "" {
		service = strings.ToUpper(svc)
	}
	ops, ok := operations[service]
	if !ok {
		return "other", "other"
	}
	if service == "WMS" {
		if canonical, ok := wms100[strings.ToLower(req)]; ok {
			return service, canonical
		}
	}
	for _, op := range ops {
		if strings.EqualFold(op, req) {
			return service, op
		}
	}
	return service, "other"
}

// recorder keeps the status code of a response. It passes ReadFrom on, so
// that a tile file still goes out with sendfile, and Unwrap, so that
// http.ResponseController reaches the connection (the proxy flushes).
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK // nothing written: net/http sends 200
	}
	return r.status
}

func (r *recorder) WriteHeader(code int) {
	// 1xx are interim answers; the final status comes after them.
	if r.status == 0 && code >= 200 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if rf, ok := r.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{r.ResponseWriter}, src)
}

// Flush implements http.Flusher for handlers that test for it.
func (r *recorder) Flush() {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// writerOnly hides every method but Write, so io.Copy does not loop back
// into ReadFrom.
type writerOnly struct{ io.Writer }
