package period

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Period is a closed time interval; an instant has Start == End.
type Period struct {
	Start, End time.Time
}

// Layout is the form periods are written in.
const Layout = "2006-01-02T15:04:05Z"

var layouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
	"2006-01",
	"2006",
}

// ParseTime parses an ISO 8601 instant at the precisions WMS clients send.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q: want ISO 8601 such as 2018-05-01T10:00:00Z", s)
}

// Parse reads "instant" or "start/end". A trailing "/PnD" resolution is not
// accepted, as no layer here advertises one.
func Parse(s string) (Period, error) {
	start, end, isRange := strings.Cut(s, "/")
	t0, err := ParseTime(start)
	if err != nil {
		return Period{}, err
	}
	if !isRange {
		return Period{Start: t0, End: t0}, nil
	}
	t1, err := ParseTime(end)
	if err != nil {
		return Period{}, err
	}
	if t1.Before(t0) {
		return Period{}, fmt.Errorf("invalid interval %q: end before start", s)
	}
	return Period{Start: t0, End: t1}, nil
}

// String writes the period as start/end.
func (p Period) String() string {
	return p.Start.UTC().Format(Layout) + "/" + p.End.UTC().Format(Layout)
}

// Key writes the period as start--end, the form used in tile paths and
// cache keys (no slash).
func (p Period) Key() string {
	return p.Start.UTC().Format(Layout) + "--" + p.End.UTC().Format(Layout)
}

// ParseKey reads the start--end form.
func ParseKey(s string) (Period, error) {
	a, b, ok := strings.Cut(s, "--")
	if !ok {
		return Parse(s)
	}
	return Parse(a + "/" + b)
}

// MaxList is the most values ParseList takes. Each value becomes a
// condition of the catalogue query; a hundred is more than any client
// shows, and bounds the query a request can make.
const MaxList = 100

// ErrTooMany is the error of a list longer than MaxList.
var ErrTooMany = errors.New("too many values")

// ParseList reads a comma-separated list of instants and intervals, as WMS
// TIME allows, of at most MaxList values.
func ParseList(s string) ([]Period, error) {
	// SplitN: a list of a million commas is refused without a million
	// strings being made of it.
	parts := strings.SplitN(s, ",", MaxList+1)
	if len(parts) > MaxList {
		return nil, fmt.Errorf("%w: a TIME list has at most %d values", ErrTooMany, MaxList)
	}
	out := make([]Period, 0, len(parts))
	for _, part := range parts {
		p, err := Parse(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Intersects reports whether p and q share an instant.
func (p Period) Intersects(q Period) bool {
	return !p.End.Before(q.Start) && !q.End.Before(p.Start)
}
