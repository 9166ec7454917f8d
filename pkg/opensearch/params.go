package opensearch

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/airbusgeo/godal"
)

// Range is a numeric parameter of the EO extension: a value, a set
// {a,b,c}, or an interval [a,b], ]a,b[, [a, a], with either end missing.
type Range struct {
	Set                        []float64
	Min, Max                   *float64
	MinExclusive, MaxExclusive bool
}

// Query is a validated search.
type Query struct {
	BBox        *[4]float64 // west, south, east, north (lon/lat); never crossing the antimeridian
	GeometryWKT string      // EPSG:4326 lon/lat
	Point       *[2]float64 // lon, lat
	Radius      float64     // metres
	Start, End  time.Time
	UID         string
	ProductType string
	Platform    string
	CloudCover  *Range
	Count       int
	StartIndex  int // 1-based
}

// ParamError is a request the client must fix.
type ParamError struct {
	Param   string
	Message string
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Message }

func bad(param, format string, args ...any) error {
	return &ParamError{Param: param, Message: fmt.Sprintf(format, args...)}
}

// maxGeomLen bounds the WKT of geom: a polygon of a few thousand
// vertices, more than any area of interest drawn by hand.
const maxGeomLen = 100_000

func finite(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

// parseTime reads an ISO 8601 date or date-time; a bare date is midnight
// UTC, and a date-time without zone is UTC.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date or date-time", s)
}

// ParseRange reads the EO extension's numeric parameter syntax.
func ParseRange(s string) (*Range, error) {
	s = strings.TrimSpace(s)
	r := &Range{}
	if s == "" {
		return nil, fmt.Errorf("empty value")
	}
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
		for _, v := range strings.Split(s[1:len(s)-1], ",") {
			f, ok := finite(v)
			if !ok {
				return nil, fmt.Errorf("%q is not a number", v)
			}
			r.Set = append(r.Set, f)
		}
		return r, nil
	}
	open := s[0] == '[' || s[0] == ']'
	closeEnd := s[len(s)-1] == ']' || s[len(s)-1] == '['
	if !open && !closeEnd {
		f, ok := finite(s)
		if !ok {
			return nil, fmt.Errorf("%q is not a number, a set {a,b} or an interval [a,b]", s)
		}
		r.Set = []float64{f}
		return r, nil
	}
	body := s
	if open {
		r.MinExclusive = s[0] == ']'
		body = body[1:]
	}
	if closeEnd && len(body) > 0 {
		r.MaxExclusive = body[len(body)-1] == '['
		body = body[:len(body)-1]
	}
	lo, hi, pair := strings.Cut(body, ",")
	switch {
	case pair:
	case open && !closeEnd: // "[10": at least 10
		hi = ""
	case closeEnd && !open: // "20]": at most 20
		lo, hi = "", lo
	default:
		return nil, fmt.Errorf("%q: an interval has two ends, [a,b]", s)
	}
	if strings.TrimSpace(lo) != "" {
		f, ok := finite(lo)
		if !ok {
			return nil, fmt.Errorf("%q is not a number", lo)
		}
		r.Min = &f
	}
	if strings.TrimSpace(hi) != "" {
		f, ok := finite(hi)
		if !ok {
			return nil, fmt.Errorf("%q is not a number", hi)
		}
		r.Max = &f
	}
	if r.Min == nil && r.Max == nil {
		return nil, fmt.Errorf("%q bounds nothing", s)
	}
	if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
		return nil, fmt.Errorf("%q: the low end is above the high end", s)
	}
	return r, nil
}

// Parse validates the search parameters; maxCount bounds count.
func Parse(v url.Values, maxCount int) (Query, error) {
	q := Query{Count: 20, StartIndex: 1}
	if maxCount < q.Count {
		q.Count = maxCount
	}
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	// The steps run in this order, so that a request with several faults
	// is told of the same one first; each leaves q as far as it got.
	if err := q.parsePaging(get, maxCount); err != nil {
		return q, err
	}
	if err := q.parseBBox(get("bbox")); err != nil {
		return q, err
	}
	if err := q.parseGeom(get("geom")); err != nil {
		return q, err
	}
	if err := q.parsePoint(get("lat"), get("lon"), get("radius")); err != nil {
		return q, err
	}
	if err := q.parseTimes(get); err != nil {
		return q, err
	}
	if err := q.parseEO(get); err != nil {
		return q, err
	}
	return q, nil
}

// parsePaging reads count, startIndex and startPage; startPage moves
// startIndex on by whole pages of count.
func (q *Query) parsePaging(get func(string) string, maxCount int) error {
	if s := get("count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > maxCount {
			return bad("count", "must be a whole number from 0 to %d, got %q", maxCount, s)
		}
		q.Count = n
	}
	if s := get("startIndex"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1_000_000_000 {
			return bad("startIndex", "must be a whole number from 1, got %q", s)
		}
		q.StartIndex = n
	}
	if s := get("startPage"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1_000_000 {
			return bad("startPage", "must be a whole number from 1, got %q", s)
		}
		q.StartIndex += (n - 1) * q.Count
	}
	return nil
}

// parseBBox reads bbox into q.BBox, or into q.GeometryWKT when it
// crosses the antimeridian.
func (q *Query) parseBBox(s string) error {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	var b [4]float64
	ok := len(parts) == 4
	for i := 0; ok && i < 4; i++ {
		b[i], ok = finite(parts[i])
	}
	if !ok || b[1] > b[3] || b[1] < -90 || b[3] > 90 || b[0] < -180 || b[0] > 180 || b[2] < -180 || b[2] > 180 {
		return bad("bbox", "must be west,south,east,north in degrees, got %q", s)
	}
	if b[0] > b[2] {
		// Across the antimeridian: two boxes, as a geometry.
		q.GeometryWKT = fmt.Sprintf("MULTIPOLYGON(((%[1]s %[2]s,180 %[2]s,180 %[4]s,%[1]s %[4]s,%[1]s %[2]s)),((-180 %[2]s,%[3]s %[2]s,%[3]s %[4]s,-180 %[4]s,-180 %[2]s)))",
			ftoa(b[0]), ftoa(b[1]), ftoa(b[2]), ftoa(b[3]))
	} else {
		q.BBox = &b
	}
	return nil
}

// parseGeom reads the WKT of geom into q.GeometryWKT.
func (q *Query) parseGeom(s string) error {
	if s == "" {
		return nil
	}
	if q.GeometryWKT != "" {
		return bad("geom", "give either geom or an antimeridian-crossing bbox, not both")
	}
	// GEOS's validity check grows with the vertices: the length is
	// bounded before it runs.
	if len(s) > maxGeomLen {
		return bad("geom", "is %d characters of WKT; at most %d are taken", len(s), maxGeomLen)
	}
	// Warnings are not failures; a failure must be one, or godal
	// hands back a geometry with no handle.
	g, err := godal.NewGeometryFromWKT(s, nil, godal.ErrLogger(func(ec godal.ErrorCategory, _ int, msg string) error {
		if ec < godal.CE_Failure {
			return nil
		}
		return errors.New(msg)
	}))
	if err != nil {
		return bad("geom", "is not WKT: %q", truncate(s))
	}
	valid := g.Valid() && !g.Empty()
	env, envErr := g.Bounds()
	g.Close()
	if !valid {
		return bad("geom", "is not a valid, non-empty geometry: %q", truncate(s))
	}
	// The comparisons are false for NaN, which WKT can spell.
	if envErr != nil || !(env[0] >= -180 && env[2] <= 180 && env[1] >= -90 && env[3] <= 90) {
		return bad("geom", "must lie within -180..180 longitude, -90..90 latitude (EPSG:4326), got %q", truncate(s))
	}
	q.GeometryWKT = s
	return nil
}

// parsePoint reads lat, lon and radius into q.Point and q.Radius.
func (q *Query) parsePoint(lat, lon, radius string) error {
	if lat == "" && lon == "" && radius == "" {
		return nil
	}
	la, ok1 := finite(lat)
	lo, ok2 := finite(lon)
	if !ok1 || !ok2 || la < -90 || la > 90 || lo < -180 || lo > 180 {
		return bad("lat", "lat and lon must both be given, in degrees, got lat=%q lon=%q", lat, lon)
	}
	q.Point = &[2]float64{lo, la}
	q.Radius = 0
	if radius != "" {
		r, ok := finite(radius)
		if !ok || r < 0 || r > 20_040_000 {
			return bad("radius", "must be metres from 0 to 20040000, got %q", radius)
		}
		q.Radius = r
	}
	return nil
}

// parseTimes reads start and end into q.Start and q.End.
func (q *Query) parseTimes(get func(string) string) error {
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"start", &q.Start}, {"end", &q.End}} {
		if s := get(p.name); s != "" {
			t, err := parseTime(s)
			if err != nil {
				return bad(p.name, "%v", err)
			}
			*p.dst = t
		}
	}
	if !q.Start.IsZero() && !q.End.IsZero() && q.End.Before(q.Start) {
		return bad("end", "is before start")
	}
	return nil
}

// parseEO reads the Earth observation filters: uid, productType,
// platform and cloudCover.
func (q *Query) parseEO(get func(string) string) error {
	q.UID, q.ProductType, q.Platform = get("uid"), get("productType"), get("platform")
	if s := get("cloudCover"); s != "" {
		r, err := ParseRange(s)
		if err != nil {
			return bad("cloudCover", "%v", err)
		}
		q.CloudCover = r
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
