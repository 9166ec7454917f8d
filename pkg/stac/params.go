package stac

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/catalog"
)

// paramError is a request the client must fix.
type paramError struct {
	Param   string
	Message string
}

func (e *paramError) Error() string { return e.Param + ": " + e.Message }

func bad(param, format string, args ...any) error {
	return &paramError{Param: param, Message: fmt.Sprintf(format, args...)}
}

// request is a validated item query: of the items endpoint or the search.
type request struct {
	// collections are those asked for; nil means every served one.
	collections []string
	ids         []string
	// bbox is west, south, east, north; west above east crosses the
	// antimeridian.
	bbox        *[4]float64
	geometryWKT string
	// start and end bound the interval items must intersect; zero is open.
	start, end time.Time
	limit      int
	offset     int
	fields     *fieldSet
	sort       []catalog.SortKey
}

// query is the catalogue query of req, on the given collections.
func (req request) query(collections []string) catalog.Query {
	q := catalog.Query{Collections: collections, Identifiers: req.ids, Start: req.start, End: req.end,
		GeometryWKT: req.geometryWKT, Sort: req.sort, Limit: req.limit, Offset: req.offset}
	if b := req.bbox; b != nil {
		if b[0] > b[2] {
			// Across the antimeridian: the two boxes on either side.
			q.GeometryWKT = fmt.Sprintf("MULTIPOLYGON(((%[1]s %[2]s,180 %[2]s,180 %[4]s,%[1]s %[4]s,%[1]s %[2]s)),((-180 %[2]s,%[3]s %[2]s,%[3]s %[4]s,-180 %[4]s,-180 %[2]s)))",
				ftoa(b[0]), ftoa(b[1]), ftoa(b[2]), ftoa(b[3]))
		} else {
			bb := *b
			q.BBox = &bb
		}
	}
	return q
}

// The parameters of the items endpoint, and those the search adds.
var (
	itemsParams  = []string{"bbox", "datetime", "limit", "token", "fields", "sortby"}
	searchParams = append(slices.Clone(itemsParams), "intersects", "ids", "collections")
)

// defaultLimit is the page size when the request gives none.
const defaultLimit = 10

// maxIntersects bounds an intersects geometry, in bytes of GeoJSON: GEOS's
// validity check grows with the vertices, so the size is bounded first.
const maxIntersects = 1 << 20

// parseQuery validates the query string of a GET on the items endpoint
// (search false) or the search.
func parseQuery(v url.Values, search bool, maxLimit int) (request, error) {
	req := request{limit: min(defaultLimit, maxLimit)}
	allowed := itemsParams
	if search {
		allowed = searchParams
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			return req, bad(k, "is not a parameter of this resource; it takes %s", strings.Join(allowed, ", "))
		}
		if len(v[k]) > 1 {
			return req, bad(k, "is given %d times; give it once", len(v[k]))
		}
	}
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	var err error
	if s := get("bbox"); s != "" {
		var nums []float64
		for _, p := range strings.Split(s, ",") {
			f, perr := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if perr != nil {
				return req, bad("bbox", "must be numbers west,south,east,north, got %q", s)
			}
			nums = append(nums, f)
		}
		if req.bbox, err = parseBBox(nums); err != nil {
			return req, err
		}
	}
	if s := get("intersects"); s != "" {
		if req.bbox != nil {
			return req, bad("intersects", "give either bbox or intersects, not both")
		}
		if req.geometryWKT, err = parseIntersects([]byte(s)); err != nil {
			return req, err
		}
	}
	if s := get("datetime"); s != "" {
		if req.start, req.end, err = parseDatetime(s); err != nil {
			return req, err
		}
	}
	if s := get("limit"); s != "" {
		n, perr := strconv.Atoi(s)
		if perr != nil {
			return req, bad("limit", "must be a whole number from 1, got %q", s)
		}
		if req.limit, err = parseLimit(n, maxLimit); err != nil {
			return req, err
		}
	}
	if s := get("token"); s != "" {
		if req.offset, err = parseToken(s); err != nil {
			return req, err
		}
	}
	if v.Has("ids") {
		req.ids = splitList(get("ids"))
		if len(req.ids) == 0 {
			return req, bad("ids", "names no item")
		}
	}
	if v.Has("collections") {
		req.collections = splitList(get("collections"))
		if len(req.collections) == 0 {
			return req, bad("collections", "names no collection")
		}
	}
	if s := get("fields"); s != "" {
		var inc, exc []string
		for _, f := range splitList(s) {
			if rest, ok := strings.CutPrefix(f, "-"); ok {
				exc = append(exc, rest)
			} else {
				inc = append(inc, strings.TrimPrefix(f, "+"))
			}
		}
		if req.fields, err = parseFields(inc, exc); err != nil {
			return req, err
		}
	}
	if s := get("sortby"); s != "" {
		var keys []sortBy
		for _, f := range strings.Split(s, ",") {
			// A "+" in a query string is a space once decoded.
			f = strings.TrimSpace(f)
			dir := "asc"
			if rest, ok := strings.CutPrefix(f, "-"); ok {
				f, dir = rest, "desc"
			} else {
				f = strings.TrimPrefix(f, "+")
			}
			keys = append(keys, sortBy{Field: f, Direction: dir})
		}
		if req.sort, err = parseSort(keys); err != nil {
			return req, err
		}
	}
	return req, nil
}

// searchBody is the JSON body of a POST search.
type searchBody struct {
	BBox        []float64       `json:"bbox"`
	Intersects  json.RawMessage `json:"intersects"`
	Datetime    *string         `json:"datetime"`
	IDs         []string        `json:"ids"`
	Collections []string        `json:"collections"`
	Limit       *int            `json:"limit"`
	Token       *string         `json:"token"`
	Fields      *struct {
		Include []string `json:"include"`
		Exclude []string `json:"exclude"`
	} `json:"fields"`
	SortBy []sortBy `json:"sortby"`
}

type sortBy struct {
	Field     string `json:"field"`
	Direction string `json:"direction"`
}

// parseBody validates the JSON body of a POST search.
func parseBody(body []byte, maxLimit int) (request, error) {
	req := request{limit: min(defaultLimit, maxLimit)}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return req, bad("body", "must be a JSON object of search parameters")
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(searchParams, k) {
			return req, bad(k, "is not a search parameter; the search takes %s", strings.Join(searchParams, ", "))
		}
		// Each member on its own, so that a type error names it.
		var dst any
		switch k {
		case "bbox":
			dst = new([]float64)
		case "datetime", "token":
			dst = new(*string)
		case "ids", "collections":
			dst = new([]string)
		case "limit":
			dst = new(*int)
		case "fields":
			dst = new(map[string][]string)
		case "sortby":
			dst = new([]sortBy)
		default:
			continue
		}
		if err := json.Unmarshal(raw[k], dst); err != nil {
			return req, bad(k, "has the wrong type: %s", typeHint(k))
		}
	}
	var b searchBody
	if err := json.Unmarshal(body, &b); err != nil {
		return req, bad("body", "must be a JSON object of search parameters")
	}
	var err error
	if b.BBox != nil {
		if req.bbox, err = parseBBox(b.BBox); err != nil {
			return req, err
		}
	}
	if len(b.Intersects) > 0 && !bytes.Equal(bytes.TrimSpace(b.Intersects), []byte("null")) {
		if req.bbox != nil {
			return req, bad("intersects", "give either bbox or intersects, not both")
		}
		if req.geometryWKT, err = parseIntersects(b.Intersects); err != nil {
			return req, err
		}
	}
	if b.Datetime != nil && *b.Datetime != "" {
		if req.start, req.end, err = parseDatetime(*b.Datetime); err != nil {
			return req, err
		}
	}
	if b.Limit != nil {
		if req.limit, err = parseLimit(*b.Limit, maxLimit); err != nil {
			return req, err
		}
	}
	if b.Token != nil && *b.Token != "" {
		if req.offset, err = parseToken(*b.Token); err != nil {
			return req, err
		}
	}
	if b.IDs != nil {
		req.ids = cleanList(b.IDs)
		if len(req.ids) == 0 {
			return req, bad("ids", "names no item")
		}
	}
	if b.Collections != nil {
		req.collections = cleanList(b.Collections)
		if len(req.collections) == 0 {
			return req, bad("collections", "names no collection")
		}
	}
	if b.Fields != nil {
		if req.fields, err = parseFields(b.Fields.Include, b.Fields.Exclude); err != nil {
			return req, err
		}
	}
	if len(b.SortBy) > 0 {
		if req.sort, err = parseSort(b.SortBy); err != nil {
			return req, err
		}
	}
	return req, nil
}

func typeHint(k string) string {
	switch k {
	case "bbox":
		return "an array of 4 or 6 numbers"
	case "datetime", "token":
		return "a string"
	case "ids", "collections":
		return "an array of strings"
	case "limit":
		return "a whole number"
	case "fields":
		return `an object {"include": [...], "exclude": [...]}`
	case "sortby":
		return `an array of {"field": ..., "direction": "asc" or "desc"}`
	}
	return ""
}

func splitList(s string) []string { return cleanList(strings.Split(s, ",")) }

func cleanList(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// parseBBox reads west, south, east, north, or the same with the lowest
// and highest elevation (ignored) after south and north.
func parseBBox(n []float64) (*[4]float64, error) {
	var b [4]float64
	switch len(n) {
	case 4:
		copy(b[:], n)
	case 6:
		b = [4]float64{n[0], n[1], n[3], n[4]}
	default:
		return nil, bad("bbox", "must have 4 numbers (west,south,east,north) or 6 (with elevations), got %d", len(n))
	}
	for _, f := range b {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, bad("bbox", "must be finite numbers")
		}
	}
	if b[0] < -180 || b[0] > 180 || b[2] < -180 || b[2] > 180 || b[1] < -90 || b[1] > 90 || b[3] < -90 || b[3] > 90 {
		return nil, bad("bbox", "must lie within -180..180 longitude, -90..90 latitude (EPSG:4326), got %v", b)
	}
	if b[1] > b[3] {
		return nil, bad("bbox", "has its south (%v) above its north (%v)", b[1], b[3])
	}
	return &b, nil
}

// geometryTypes are the GeoJSON geometries intersects takes.
var geometryTypes = []string{"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"}

// parseIntersects validates a GeoJSON geometry and returns it as WKT.
func parseIntersects(raw []byte) (string, error) {
	if len(raw) > maxIntersects {
		return "", bad("intersects", "is %d bytes of GeoJSON; at most %d are taken", len(raw), maxIntersects)
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return "", bad("intersects", "must be a GeoJSON geometry object")
	}
	if !slices.Contains(geometryTypes, head.Type) {
		return "", bad("intersects", "must be a GeoJSON geometry (%s), got type %q", strings.Join(geometryTypes, ", "), head.Type)
	}
	// Warnings are not failures; a failure must be one, or godal hands
	// back a geometry with no handle.
	g, err := godal.NewGeometryFromGeoJSON(string(raw), godal.ErrLogger(func(ec godal.ErrorCategory, _ int, msg string) error {
		if ec < godal.CE_Failure {
			return nil
		}
		return errors.New(msg)
	}))
	if err != nil || g == nil {
		return "", bad("intersects", "is not a readable GeoJSON %s", head.Type)
	}
	defer g.Close()
	if g.Empty() || !g.Valid() {
		return "", bad("intersects", "is not a valid, non-empty geometry (rings must be closed and must not cross themselves)")
	}
	env, err := g.Bounds()
	// The comparisons are false for NaN.
	if err != nil || !(env[0] >= -180 && env[2] <= 180 && env[1] >= -90 && env[3] <= 90) {
		return "", bad("intersects", "must lie within -180..180 longitude, -90..90 latitude (EPSG:4326)")
	}
	wkt, err := g.WKT()
	if err != nil {
		return "", bad("intersects", "cannot be written as WKT: %v", err)
	}
	return wkt, nil
}

// parseTime reads an RFC 3339 date-time.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, strings.ToUpper(s))
	if err != nil {
		return time.Time{}, bad("datetime", "%q is not an RFC 3339 date-time (e.g. 2018-06-15T10:00:00Z)", s)
	}
	return t.UTC(), nil
}

// parseDatetime reads an instant or an interval start/end, either end
// open as ".." or empty (but not both).
func parseDatetime(s string) (start, end time.Time, err error) {
	a, b, interval := strings.Cut(s, "/")
	if !interval {
		t, err := parseTime(s)
		return t, t, err
	}
	if strings.Contains(b, "/") {
		return start, end, bad("datetime", "%q: an interval is start/end", s)
	}
	open := func(x string) bool { return x == "" || x == ".." }
	if open(a) && open(b) {
		return start, end, bad("datetime", "%q is open at both ends; leave datetime out to search all times", s)
	}
	if !open(a) {
		if start, err = parseTime(a); err != nil {
			return start, end, err
		}
	}
	if !open(b) {
		if end, err = parseTime(b); err != nil {
			return start, end, err
		}
	}
	if !start.IsZero() && !end.IsZero() && end.Before(start) {
		return start, end, bad("datetime", "%q ends before it starts", s)
	}
	return start, end, nil
}

func parseLimit(n, maxLimit int) (int, error) {
	if n < 1 {
		return 0, bad("limit", "must be a whole number from 1, got %d", n)
	}
	return min(n, maxLimit), nil
}

// A token is the offset of a page in the results, as the next and prev
// links write it.
func parseToken(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(s, "offset:"))
	if err != nil || n < 0 || n > 1_000_000_000 || !strings.HasPrefix(s, "offset:") {
		return 0, bad("token", "%q is not a paging token of this API: follow the next and prev links", s)
	}
	return n, nil
}

func token(offset int) string { return "offset:" + strconv.Itoa(offset) }

// fieldPath is a dotted path of the fields extension, e.g.
// properties.eo:cloud_cover.
var fieldPath = regexp.MustCompile(`^[A-Za-z0-9_:\-]+(\.[A-Za-z0-9_:\-]+)*$`)

func parseFields(include, exclude []string) (*fieldSet, error) {
	fs := &fieldSet{}
	for _, list := range []struct {
		in  []string
		out *[]string
	}{{include, &fs.include}, {exclude, &fs.exclude}} {
		for _, f := range list.in {
			f = strings.TrimSpace(f)
			if !fieldPath.MatchString(f) {
				return nil, bad("fields", "%q is not a field path such as id or properties.eo:cloud_cover", f)
			}
			*list.out = append(*list.out, f)
		}
	}
	if len(fs.include) == 0 && len(fs.exclude) == 0 {
		return nil, nil
	}
	return fs, nil
}

// sortFields are the item fields results can be sorted by, and the
// catalogue's attributes they are.
var sortFields = map[string]catalog.SortField{
	"id":                        catalog.SortIdentifier,
	"collection":                catalog.SortCollection,
	"properties.datetime":       catalog.SortBeginTime,
	"properties.start_datetime": catalog.SortBeginTime,
	"properties.end_datetime":   catalog.SortEndTime,
	"properties.updated":        catalog.SortUpdated,
	"properties.platform":       catalog.SortPlatform,
	"properties.eo:cloud_cover": catalog.SortCloudCover,
}

// sortable lists the fields of sortFields, for error messages.
func sortable() string {
	var out []string
	for k := range sortFields {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func parseSort(keys []sortBy) ([]catalog.SortKey, error) {
	var out []catalog.SortKey
	for _, k := range keys {
		name := strings.TrimSpace(k.Field)
		f, ok := sortFields[name]
		if !ok {
			// Properties may be named without their "properties." prefix.
			f, ok = sortFields["properties."+name]
		}
		if !ok {
			return nil, bad("sortby", "cannot sort by %q; sortable fields are %s", name, sortable())
		}
		var desc bool
		switch strings.ToLower(strings.TrimSpace(k.Direction)) {
		case "", "asc":
		case "desc":
			desc = true
		default:
			return nil, bad("sortby", "direction %q of %s must be asc or desc", k.Direction, name)
		}
		out = append(out, catalog.SortKey{Field: f, Desc: desc})
	}
	return out, nil
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
