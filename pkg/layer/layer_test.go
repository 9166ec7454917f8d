package layer

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/config"
)

type extents struct {
	calls int
	err   error
}

func (e *extents) CollectionExtent(ctx context.Context, c string) (Extent, error) {
	e.calls++
	if e.err != nil {
		return Extent{}, e.err
	}
	t0, t1 := time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2018, 12, 31, 0, 0, 0, 0, time.UTC)
	return Extent{BBox: &[4]float64{1, 2, 3, 4}, Start: &t0, End: &t1}, nil
}

func TestCatalogNamesLayersLikeEOxServer(t *testing.T) {
	ex := &extents{}
	c := Catalog{Extents: ex, Collections: []config.Collection{{Name: "VHR_IMAGE_2018", Title: "VHR",
		Browses: []config.Browse{{Name: "TRUE_COLOR"}, {Name: "FALSE_COLOR"}}}}}
	ls, err := c.Layers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range ls {
		names = append(names, l.Name)
		if l.BBox == nil || l.Start.Year() != 2018 || l.Collection != "VHR_IMAGE_2018" {
			t.Errorf("layer %s: %+v", l.Name, l)
		}
	}
	want := []string{"VHR_IMAGE_2018", "VHR_IMAGE_2018__TRUE_COLOR", "VHR_IMAGE_2018__FALSE_COLOR", "VHR_IMAGE_2018__outlines", "VHR_IMAGE_2018__outlined"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("layers %v, want %v", names, want)
	}
	if ls[3].Draw != Outlines || ls[4].Draw != Outlined || ls[4].Browse.Name != "TRUE_COLOR" {
		t.Errorf("outline layers: %+v %+v", ls[3], ls[4])
	}
	if ls[0].Browse.Name != "TRUE_COLOR" {
		t.Errorf("the default layer draws %q, want the first browse", ls[0].Browse.Name)
	}
}

func TestCachedListsOncePerTTL(t *testing.T) {
	ex := &extents{}
	c := &Cached{TTL: time.Hour, Lister: Catalog{Extents: ex, Collections: []config.Collection{{Name: "C", Browses: []config.Browse{{Name: "B"}}}}}}
	for i := 0; i < 5; i++ {
		if _, err := c.Layers(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if ex.calls != 1 {
		t.Errorf("%d lookups for 5 listings within the TTL", ex.calls)
	}
	c.TTL = 0
	ex.err = errors.New("database down")
	if _, err := c.Layers(context.Background()); err == nil {
		t.Error("an expired listing hid the error")
	}
}
