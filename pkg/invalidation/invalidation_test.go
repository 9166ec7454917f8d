package invalidation_test

import (
	"context"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/invalidation"
)

func TestPublishMovesTheGenerationAndReadsBack(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	pub := invalidation.Publisher{RDB: rdb, Prefix: prefix}
	ctx := context.Background()

	// An empty stream read without waiting answers at once (Redis would
	// take BLOCK 0 as forever).
	ctx1, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	evs, err := pub.Read(ctx1, "0", 10, 0)
	if err != nil || len(evs) != 0 {
		t.Fatalf("empty stream: %v, %v", evs, err)
	}

	t0 := time.Date(2018, 6, 15, 10, 0, 0, 0, time.UTC)
	e := invalidation.Event{Action: invalidation.Deregistered, Collection: "C", Identifier: "P",
		Areas: []invalidation.Area{{BBox: [4]float64{1, 2, 3, 4}, Start: t0, End: t0.Add(time.Minute)}}}
	// Announcing twice is what a redelivery does; both are kept.
	for i := 0; i < 2; i++ {
		testenv.Must(t, pub.Publish(ctx, e), "publish")
	}
	gen, err := pub.Generation(ctx)
	testenv.Must(t, err, "generation")
	if gen != 2 {
		t.Errorf("generation %d after two events", gen)
	}
	evs, err = pub.Read(ctx, "0", 10, 0)
	testenv.Must(t, err, "read")
	if len(evs) != 2 || evs[0].ID == "" || evs[1].Identifier != "P" || evs[1].Areas[0].BBox != e.Areas[0].BBox ||
		!evs[1].Areas[0].End.Equal(t0.Add(time.Minute)) {
		t.Errorf("events = %+v", evs)
	}
	if more, err := pub.Read(ctx, evs[1].ID, 10, 0); err != nil || len(more) != 0 {
		t.Errorf("after the last: %v, %v", more, err)
	}
}
