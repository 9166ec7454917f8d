package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/catalog"
)

func TestBatchFailsRefusedProductsAloneWithoutReplace(t *testing.T) {
	r := open(t)
	ctx := context.Background()
	_, err := r.Register(ctx, product("TAKEN", 1, 0, 0), false)
	testenv.Must(t, err, "register TAKEN")
	_, err = r.Register(ctx, product("AGAIN", 2, 2, 2), false)
	testenv.Must(t, err, "register AGAIN")

	// Each kind of refusal the registry has, in one batch with good ones.
	unknown := product("UNKNOWN", 1, 0, 0)
	unknown.Collection = "NOPE"
	backwards := product("BACKWARDS", 1, 0, 0)
	backwards.EndTime = backwards.BeginTime.Add(-time.Second)
	polar := product("POLAR", 1, 10, 89.5) // up to 90.5°N
	cases := []struct {
		p       catalog.Product
		wantErr error  // nil: registered
		reason  string // in the error
	}{
		{product("GOOD1", 3, 4, 4), nil, ""},
		{product("TAKEN", 1, 50, 50), catalog.ErrExists, "TAKEN, with another COG or other metadata"},
		{unknown, catalog.ErrNotFound, `collection "NOPE"`},
		{backwards, catalog.ErrInvalid, "end time is before begin time"},
		{polar, catalog.ErrInvalid, "outside lon/lat range"},
		{product("AGAIN", 2, 2, 2), nil, ""}, // a redelivery
		{product("GOOD2", 4, 6, 6), nil, ""},
	}
	var ps []catalog.Product
	for _, c := range cases {
		ps = append(ps, c.p)
	}
	res, err := r.RegisterBatch(ctx, ps, false)
	testenv.Must(t, err, "batch")
	for i, c := range cases {
		got := res[i].Err
		switch {
		case c.wantErr == nil && got != nil:
			t.Errorf("%s failed: %v", c.p.Identifier, got)
		case c.wantErr != nil && (!errors.Is(got, c.wantErr) || !strings.Contains(got.Error(), c.reason)):
			t.Errorf("%s: %v, want %v saying %q", c.p.Identifier, got, c.wantErr, c.reason)
		}
	}
	if !res[5].Unchanged {
		t.Errorf("the redelivered AGAIN: %+v, want unchanged", res[5].Registered)
	}
	recs, _ := r.Find(ctx, catalog.Query{Collection: "C"})
	if ids(recs) != "GOOD2,GOOD1,AGAIN,TAKEN" {
		t.Errorf("registered %s", ids(recs))
	}
	if got, _ := r.Get(ctx, "TAKEN"); got.BBox != [4]float64{0, 0, 1, 1} {
		t.Errorf("TAKEN was overwritten: bbox %v", got.BBox)
	}
	s, _ := r.Collection(ctx, "C")
	if s.ProductCount != 4 || *s.BBox != [4]float64{0, 0, 7, 7} {
		t.Errorf("summary = %d products, bbox %v", s.ProductCount, *s.BBox)
	}
}

// blockAndKill makes the registration of identifier wait on its lock, held
// by another session, and kills the backend that waits: a connection lost
// in the middle of a batch.
func blockAndKill(t *testing.T, pool *pgxpool.Pool, identifier string, run func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	testenv.Must(t, err, "acquire")
	defer conn.Release()
	_, err = conn.Exec(ctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", identifier)
	testenv.Must(t, err, "lock %s", identifier)
	done := make(chan struct{})
	go func() { defer close(done); run() }()
	testenv.Eventually(t, 20*time.Second, "the batch waiting on "+identifier, func() (bool, error) {
		var n int
		err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event = 'advisory' AND pid <> pg_backend_pid()`).Scan(&n)
		return n == 1, err
	})
	<-done
	_, err = conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", identifier)
	testenv.Must(t, err, "unlock")
}

func TestBatchLosingItsConnectionFailsWholeAndCommitsNothing(t *testing.T) {
	r := open(t)
	ctx := context.Background()
	ps := []catalog.Product{product("K1", 1, 0, 0), product("K2", 2, 2, 2), product("K3", 3, 4, 4)}
	var res []catalog.Result
	var err error
	blockAndKill(t, r.Pool(), "K2", func() { res, err = r.RegisterBatch(ctx, ps, false) })
	if err == nil || res != nil {
		t.Fatalf("batch after its connection was killed: %v, %v", res, err)
	}
	if errors.Is(err, catalog.ErrExists) || errors.Is(err, catalog.ErrNotFound) || errors.Is(err, catalog.ErrInvalid) {
		t.Errorf("a lost connection reads as a product's fault: %v", err)
	}
	if n, _ := r.Count(ctx, catalog.Query{Collection: "C"}); n != 0 {
		t.Errorf("%d products committed by the killed batch", n)
	}
	// Tried again, the whole batch goes in.
	res, err = r.RegisterBatch(ctx, ps, false)
	testenv.Must(t, err, "batch again")
	for _, x := range res {
		testenv.Must(t, x.Err, "register")
	}
	if n, _ := r.Count(ctx, catalog.Query{Collection: "C"}); n != 3 {
		t.Errorf("%d products after the retry", n)
	}
}

func TestRedeliveredRegistrationWritesNothing(t *testing.T) {
	r := open(t)
	ctx := context.Background()
	first, err := r.Register(ctx, product("P", 1, 10, 40), false)
	testenv.Must(t, err, "register")
	before, _ := r.Get(ctx, "P")
	again, err := r.Register(ctx, product("P", 1, 10, 40), false)
	testenv.Must(t, err, "redelivery")
	after, _ := r.Get(ctx, "P")
	if !again.Unchanged || again.ID != first.ID || again.BBox != first.BBox || again.Previous != nil || !after.Updated.Equal(before.Updated) {
		t.Errorf("redelivery = %+v (updated %v → %v), want unchanged %+v", again, before.Updated, after.Updated, first)
	}
	// A replacement redelivered announces the extent it replaced again:
	// its first announcement may have been lost.
	_, err = r.Register(ctx, product("P", 5, 20, 20), true)
	testenv.Must(t, err, "replace")
	again, err = r.Register(ctx, product("P", 5, 20, 20), true)
	testenv.Must(t, err, "redelivered replacement")
	if !again.Unchanged || again.Replaced || again.Previous == nil || again.Previous.BBox != [4]float64{10, 40, 11, 41} ||
		!again.Previous.BeginTime.Equal(time.Date(2018, 6, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("redelivered replacement = %+v, previous %+v", again, again.Previous)
	}
	s, _ := r.Collection(ctx, "C")
	if s.ProductCount != 1 || *s.BBox != [4]float64{20, 20, 21, 21} {
		t.Errorf("summary = %d products, bbox %v", s.ProductCount, *s.BBox)
	}
}

func TestDeregistrationLeavesATombstoneUntilSettled(t *testing.T) {
	r := open(t)
	ctx := context.Background()
	_, err := r.Register(ctx, product("P", 1, 10, 40), true)
	testenv.Must(t, err, "register")
	rms, err := r.Deregister(ctx, "P")
	testenv.Must(t, err, "deregister")
	if len(rms) != 1 || rms[0].SettledAt != nil || rms[0].Product.BBox != [4]float64{10, 40, 11, 41} ||
		rms[0].Product.Collection != "C" || !strings.Contains(rms[0].Product.FootprintGeoJSON, "MultiPolygon") {
		t.Fatalf("removal = %+v", rms)
	}
	if _, err := r.Get(ctx, "P"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("P still registered: %v", err)
	}
	// Not settled: a redelivery gets the same pending removal.
	again, err := r.Deregister(ctx, "P")
	testenv.Must(t, err, "redelivered deregistration")
	if len(again) != 1 || again[0].ID != rms[0].ID || again[0].SettledAt != nil {
		t.Errorf("redelivery before settling = %+v", again)
	}
	testenv.Must(t, r.SettleRemovals(ctx, []int64{rms[0].ID}), "settle")
	again, err = r.Deregister(ctx, "P")
	testenv.Must(t, err, "redelivery after settling")
	if len(again) != 1 || again[0].ID != rms[0].ID || again[0].SettledAt == nil {
		t.Errorf("redelivery after settling = %+v", again)
	}

	// Registered again, deregistered again while an older removal is
	// pending: both are handed out, newest first.
	_, err = r.Register(ctx, product("Q", 1, 0, 0), true)
	testenv.Must(t, err, "register Q")
	old, err := r.Deregister(ctx, "Q")
	testenv.Must(t, err, "deregister Q")
	_, err = r.Register(ctx, product("Q", 2, 5, 5), true)
	testenv.Must(t, err, "register Q again")
	both, err := r.Deregister(ctx, "Q")
	testenv.Must(t, err, "deregister Q again")
	if len(both) != 2 || both[1].ID != old[0].ID || both[0].Product.BBox != [4]float64{5, 5, 6, 6} {
		t.Errorf("removals of Q = %+v", both)
	}

	// Settled tombstones go after the retention; then the product is
	// unknown.
	_, err = r.Pool().Exec(ctx, "UPDATE deregistrations SET settled_at = now() - interval '31 days' WHERE identifier = 'P'")
	testenv.Must(t, err, "age")
	testenv.Must(t, r.SettleRemovals(ctx, nil), "prune")
	for _, id := range []string{"P", "NEVER"} {
		_, err := r.Deregister(ctx, id)
		if !errors.Is(err, catalog.ErrNotFound) || err.Error() != "product "+id+" is not registered (nor was it deregistered lately): nothing to deregister" {
			t.Errorf("deregister %s: %v", id, err)
		}
	}
}
