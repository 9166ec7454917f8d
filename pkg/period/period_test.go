package period

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	d := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	for in, want := range map[string]Period{
		"2018-06-15T15:20:00Z":                      {d("2018-06-15T15:20:00Z"), d("2018-06-15T15:20:00Z")},
		"2018-06-15T15:20:00Z/2018-06-16T00:00:00Z": {d("2018-06-15T15:20:00Z"), d("2018-06-16T00:00:00Z")},
		"2018-06-15/2018-06-16":                     {d("2018-06-15T00:00:00Z"), d("2018-06-16T00:00:00Z")},
		"2018-06-15T17:20:00+02:00":                 {d("2018-06-15T15:20:00Z"), d("2018-06-15T15:20:00Z")},
		"2018":                                      {d("2018-01-01T00:00:00Z"), d("2018-01-01T00:00:00Z")},
	} {
		got, err := Parse(in)
		if err != nil || !got.Start.Equal(want.Start) || !got.End.Equal(want.End) {
			t.Errorf("Parse(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "yesterday", "2018-06-16/2018-06-15", "2018-13-01", "2018-06-15/", "/2018-06-15", "1;DROP TABLE products"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

func TestKeyRoundTrip(t *testing.T) {
	p, _ := Parse("2018-06-15T15:20:00Z/2018-06-15T15:20:30Z")
	if p.Key() != "2018-06-15T15:20:00Z--2018-06-15T15:20:30Z" {
		t.Errorf("key = %s", p.Key())
	}
	q, err := ParseKey(p.Key())
	if err != nil || q != p {
		t.Errorf("ParseKey = %v, %v", q, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"2018-06-15T15:20:00Z", "2018-06-15/2018-06-16", "2018", "--", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		if p.End.Before(p.Start) {
			t.Fatalf("Parse(%q) gave end before start", s)
		}
		q, err := Parse(p.String())
		if err != nil || !q.Start.Equal(p.Start.Truncate(time.Second)) {
			t.Fatalf("round trip of %q: %v %v", s, q, err)
		}
	})
}

func TestParseListAndIntersects(t *testing.T) {
	ps, err := ParseList("2018-06-15T10:00:00Z, 2018-06-16/2018-06-17")
	if err != nil || len(ps) != 2 || !ps[0].Start.Equal(ps[0].End) || ps[1].End.Day() != 17 {
		t.Fatalf("%v %v", ps, err)
	}
	if _, err := ParseList("2018-06-15,,2018-06-16"); err == nil {
		t.Error("empty list element accepted")
	}
	list := func(n int) string { return strings.TrimSuffix(strings.Repeat("2018-06-15,", n), ",") }
	if ps, err := ParseList(list(MaxList)); err != nil || len(ps) != MaxList {
		t.Errorf("a list of %d: %d values, %v", MaxList, len(ps), err)
	}
	for _, n := range []int{MaxList + 1, 100000} {
		if _, err := ParseList(list(n)); !errors.Is(err, ErrTooMany) {
			t.Errorf("a list of %d: %v, want ErrTooMany", n, err)
		}
	}
	year, _ := Parse("2018-01-01/2018-12-31")
	if !year.Intersects(ps[0]) || !ps[1].Intersects(year) {
		t.Error("overlapping periods do not intersect")
	}
	later, _ := Parse("2019-01-01/2019-02-01")
	if year.Intersects(later) {
		t.Error("disjoint periods intersect")
	}
	edge, _ := Parse("2018-12-31")
	if !year.Intersects(edge) {
		t.Error("closed intervals: the end instant belongs to the period")
	}
}
