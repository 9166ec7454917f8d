package tilecache

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/tile"
)

// fixedIntervals knows one product of collection C: P1 over iv.
type fixedIntervals struct{ iv period.Period }

func (f fixedIntervals) HasInterval(_ context.Context, collection, identifier string, p period.Period) (bool, error) {
	if collection == "L" && identifier == "" || collection == "" && identifier == "P1" {
		return p.Start.Equal(f.iv.Start) && p.End.Equal(f.iv.End), nil
	}
	return false, nil
}

func TestOnlyCanonicalTimeKeysAreStored(t *testing.T) {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	product := period.Period{Start: at("2018-06-15T15:20:00Z"), End: at("2018-06-15T15:20:30Z")}
	tk := TimeKeys{Intervals: fixedIntervals{product}}
	for _, c := range []struct {
		layer, time string
		keep        bool
	}{
		{"L", tile.DefaultTime, true},
		{"L", product.Key(), true},
		{"L__TRUE_COLOR", product.Key(), true},
		{"P1", product.Key(), true},
		{"L", period.Period{Start: at("2018-06-15T00:00:00Z"), End: at("2018-06-16T00:00:00Z")}.Key(), true},
		{"L", period.Period{Start: at("2018-06-15T00:00:00Z"), End: at("2018-06-17T00:00:00Z")}.Key(), false},
		{"L", period.Period{Start: at("2018-06-15T01:00:00Z"), End: at("2018-06-16T01:00:00Z")}.Key(), false},
		{"L", period.Period{Start: at("2018-06-15T15:20:00Z"), End: at("2018-06-15T15:20:31Z")}.Key(), false},
		{"OTHER", product.Key(), false},
		{"L", "not-a-time", false},
	} {
		k := key
		k.Layer, k.Time = c.layer, c.time
		if got := tk.Keep(context.Background(), k); got != c.keep {
			t.Errorf("Keep(%s, %s) = %v, want %v", c.layer, c.time, got, c.keep)
		}
	}
}

func TestTilesOfOtherTimesAreDrawnNotStored(t *testing.T) {
	src := &countingSource{}
	tl, c := newTiler(t, src)
	tl.Keep = func(_ context.Context, k tile.Key) bool { return k.Time == tile.DefaultTime }
	odd := key
	odd.Time = "2018-06-15T01:02:03Z--2018-06-15T04:05:06Z"
	for i := 0; i < 3; i++ {
		data, hit, err := tl.Get(context.Background(), odd)
		if err != nil || hit || string(data) != "tile "+odd.Path() {
			t.Fatalf("Get %d: %q hit=%v %v", i, data, hit, err)
		}
	}
	if n := src.calls.Load(); n != 3 {
		t.Errorf("an unstored key was drawn %d times for 3 requests, want 3", n)
	}
	if _, err := c.Get(context.Background(), odd); !errors.Is(err, ErrMiss) {
		t.Errorf("a tile of a non-canonical time was stored: %v", err)
	}
	if _, _, err := tl.Get(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(context.Background(), key); err != nil {
		t.Errorf("the default key was not stored: %v", err)
	}
}
