package register_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/invalidation"
	"github.com/pvs/pvs/pkg/metadata"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/register"
	"github.com/pvs/pvs/pkg/registry"
)

// batchCounter is the registry, counting the products of each batch it is
// given.
type batchCounter struct {
	*registry.Registry
	mu      sync.Mutex
	batches []int
}

func (c *batchCounter) RegisterBatch(ctx context.Context, ps []catalog.Product, replace bool) ([]catalog.Result, error) {
	c.mu.Lock()
	c.batches = append(c.batches, len(ps))
	c.mu.Unlock()
	return c.Registry.RegisterBatch(ctx, ps, replace)
}

// handleAll handles items at once, so that they share a batch.
func handleAll(r *register.Registrar, items []string) (results []string, errs []error) {
	results, errs = make([]string, len(items)), make([]error, len(items))
	var wg sync.WaitGroup
	for i, item := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = r.Handle(context.Background(), queue.Item{Queue: "register_queue", Value: item})
		}()
	}
	wg.Wait()
	return results, errs
}

func (f *fixture) registered(t *testing.T) []string {
	t.Helper()
	recs, err := f.reg.Find(context.Background(), catalog.Query{Collection: coll.Name})
	testenv.Must(t, err, "find")
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.Identifier)
	}
	slices.Sort(ids)
	return ids
}

func TestOneBadProductFailsAloneInItsBatch(t *testing.T) {
	for name, c := range map[string]struct {
		bad     func(t *testing.T, f *fixture) string // puts the bad product, returns its item
		inBatch int                                   // items that reach the batch
		reason  string
		want    []string // registered in the end
	}{
		"invalid footprint": {func(t *testing.T, f *fixture) string {
			return f.product(t, "BAD", f.meta("BAD", func(p *metadata.Product) {
				p.Footprint = [][][][2]float64{{{{0, 0}, {1, 1}, {2, 2}, {0, 0}}}}
			}))
		}, 4, "footprint has no area", []string{"G1", "G2", "G3"}},
		"another product under a registered identifier": {func(t *testing.T, f *fixture) string {
			item := f.product(t, "BAD", f.meta("BAD", nil))
			_, err := f.registrar().Handle(context.Background(), queue.Item{Value: item})
			testenv.Must(t, err, "register BAD")
			f.put(t, item+"/BAD.xml", f.meta("BAD", func(p *metadata.Product) { p.Properties["cloudCover"] = "80" }))
			return item
		}, 4, "product already registered: BAD", []string{"BAD", "G1", "G2", "G3"}},
		"missing COG": {func(t *testing.T, f *fixture) string {
			f.put(t, coll.Name+"/BAD/BAD.xml", f.meta("BAD", nil))
			return coll.Name + "/BAD"
		}, 3, "COG VHR_IMAGE_2018/BAD/BAD.tif not found", []string{"G1", "G2", "G3"}},
	} {
		t.Run(name, func(t *testing.T) {
			f := setup(t)
			items := []string{c.bad(t, f)}
			for _, id := range []string{"G1", "G2", "G3"} {
				items = append(items, f.product(t, id, f.meta(id, nil)))
			}
			counter := &batchCounter{Registry: f.reg}
			r := f.registrar()
			// One batch, committed when full.
			r.Catalogue, r.Replace, r.MaxBatch, r.BatchDelay = counter, false, c.inBatch, time.Minute
			results, errs := handleAll(r, items)
			if errs[0] == nil || !queue.IsPermanent(errs[0]) || !strings.Contains(errs[0].Error(), c.reason) {
				t.Errorf("bad product: %v, want a permanent failure saying %q", errs[0], c.reason)
			}
			for i, id := range []string{"G1", "G2", "G3"} {
				if errs[i+1] != nil || !strings.HasPrefix(results[i+1], "registered "+id) {
					t.Errorf("%s: %q, %v", id, results[i+1], errs[i+1])
				}
			}
			if !slices.Equal(counter.batches, []int{c.inBatch}) {
				t.Errorf("batches %v, want one of %d", counter.batches, c.inBatch)
			}
			if got := f.registered(t); !slices.Equal(got, c.want) {
				t.Errorf("registered %v, want %v", got, c.want)
			}
		})
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

func TestLostConnectionRetriesTheWholeBatch(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	var items []string
	for _, id := range []string{"K1", "K2", "K3"} {
		items = append(items, f.product(t, id, f.meta(id, nil)))
	}
	r := f.registrar()
	r.Replace, r.MaxBatch, r.BatchDelay = false, 3, time.Minute
	var errs []error
	blockAndKill(t, f.reg.Pool(), "K2", func() { _, errs = handleAll(r, items) })
	for i, err := range errs {
		if err == nil || queue.IsPermanent(err) {
			t.Errorf("%s after the connection was lost: %v, want an error to retry", items[i], err)
		}
	}
	if got := f.registered(t); len(got) != 0 {
		t.Errorf("the lost batch committed %v", got)
	}
	if evs, _ := f.pub.Read(ctx, "0", 10, 0); len(evs) != 0 {
		t.Errorf("the lost batch was announced: %+v", evs)
	}
	// Retried, as the queue does with an error that is not permanent.
	_, errs = handleAll(r, items)
	for i, err := range errs {
		testenv.Must(t, err, "retry %s", items[i])
	}
	if got := f.registered(t); !slices.Equal(got, []string{"K1", "K2", "K3"}) {
		t.Errorf("registered %v after the retry", got)
	}
}

var errCrash = errors.New("crash (test)")

// crashOnceAt returns an interruption that stops the work the first time
// it reaches step.
func crashOnceAt(step string) func(string) error {
	var fired atomic.Bool
	return func(s string) error {
		if s == step && fired.CompareAndSwap(false, true) {
			return errCrash
		}
		return nil
	}
}

func (f *fixture) seedItems(t *testing.T) []string {
	t.Helper()
	items, err := f.q.Redis().LRange(context.Background(), f.q.Key("seed_queue"), 0, -1).Result()
	testenv.Must(t, err, "seed_queue")
	return items
}

func (f *fixture) clearSeedQueue(t *testing.T) {
	t.Helper()
	testenv.Must(t, f.q.Redis().Del(context.Background(), f.q.Key("seed_queue")).Err(), "clear seed_queue")
}

const interval = "2018-06-15T10:00:00Z/2018-06-15T10:01:00Z"

func TestRedeliveredRegistrationWithoutReplaceSucceedsOnce(t *testing.T) {
	for _, step := range []string{"registered", "announced"} {
		t.Run("interrupted when "+step, func(t *testing.T) {
			f := setup(t)
			ctx := context.Background()
			item := f.product(t, "P", f.meta("P", nil))
			r := f.registrar()
			r.Replace = false
			register.Interrupt(r, crashOnceAt(step))
			if _, err := r.Handle(ctx, queue.Item{Value: item}); !errors.Is(err, errCrash) || queue.IsPermanent(err) {
				t.Fatalf("interrupted registration: %v", err)
			}
			for i := 0; i < 2; i++ {
				res, err := r.Handle(ctx, queue.Item{Value: item})
				testenv.Must(t, err, "redelivery %d", i+1)
				if !strings.HasPrefix(res, "P was registered already, unchanged") {
					t.Errorf("redelivery %d: %q", i+1, res)
				}
			}
			var products, coverages int
			testenv.Must(t, f.reg.Pool().QueryRow(ctx, "SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM coverages)").
				Scan(&products, &coverages), "count")
			s, _ := f.reg.Collection(ctx, coll.Name)
			if products != 1 || coverages != 1 || s.ProductCount != 1 {
				t.Errorf("%d products, %d coverages, summary %d", products, coverages, s.ProductCount)
			}
			// What the first attempt did not get to is done by the
			// redeliveries (which do it again: caches and seeders take
			// that as once).
			evs, _ := f.pub.Read(ctx, "0", 10, 0)
			if len(evs) < 2 || evs[len(evs)-1].Identifier != "P" || evs[len(evs)-1].Action != invalidation.Registered ||
				evs[len(evs)-1].Areas[0].BBox != [4]float64{-112, 33, -111.9, 33.1} {
				t.Errorf("events = %+v", evs)
			}
			if items := f.seedItems(t); !slices.Equal(items, []string{interval}) && !slices.Equal(items, []string{interval, interval}) {
				t.Errorf("seed_queue = %v, want the product's interval", items)
			}
		})
	}
}

func TestInterruptedDeregistrationIsFinishedByRedelivery(t *testing.T) {
	for _, step := range []string{"removed", "objects", "announced", "seeded"} {
		t.Run("interrupted when "+step, func(t *testing.T) {
			f := setup(t)
			ctx := context.Background()
			item := f.product(t, "P", f.meta("P", nil))
			r := f.registrar()
			_, err := r.Handle(ctx, queue.Item{Value: item})
			testenv.Must(t, err, "register")
			registeredEvents, _ := f.pub.Read(ctx, "0", 10, 0)
			f.clearSeedQueue(t)

			register.Interrupt(r, crashOnceAt(step))
			if _, err := r.HandleDeregister(ctx, queue.Item{Value: "P"}); !errors.Is(err, errCrash) || queue.IsPermanent(err) {
				t.Fatalf("interrupted deregistration: %v", err)
			}
			if _, err := f.reg.Get(ctx, "P"); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("P is still registered after the interruption: %v", err)
			}
			out, err := r.HandleDeregister(ctx, queue.Item{Value: "P"})
			testenv.Must(t, err, "redelivered deregistration")
			if out != "deregistered P" {
				t.Errorf("redelivery: %q", out)
			}

			if objs, _ := f.out.List(ctx, item+"/"); len(objs) != 0 {
				t.Errorf("objects left: %v", objs)
			}
			evs, _ := f.pub.Read(ctx, registeredEvents[len(registeredEvents)-1].ID, 10, 0)
			if len(evs) == 0 || evs[len(evs)-1].Action != invalidation.Deregistered || evs[len(evs)-1].Identifier != "P" ||
				evs[len(evs)-1].Areas[0].BBox != [4]float64{-112, 33, -111.9, 33.1} {
				t.Errorf("events after the registration = %+v", evs)
			}
			if items := f.seedItems(t); !slices.Contains(items, interval) {
				t.Errorf("seed_queue = %v, want the reseed of %s", items, interval)
			}
			var pending int
			testenv.Must(t, f.reg.Pool().QueryRow(ctx, "SELECT count(*) FROM deregistrations WHERE settled_at IS NULL").Scan(&pending), "pending")
			if pending != 0 {
				t.Errorf("%d deregistrations still pending", pending)
			}
			// Delivered once more, it finds nothing left but the reseed,
			// which it asks for again in case its push was lost.
			f.clearSeedQueue(t)
			if out, err := r.HandleDeregister(ctx, queue.Item{Value: "P"}); err != nil || !strings.HasPrefix(out, "P was deregistered already") {
				t.Errorf("third delivery: %q, %v", out, err)
			}
			if items := f.seedItems(t); !slices.Equal(items, []string{interval}) {
				t.Errorf("seed_queue after the third delivery = %v", items)
			}
		})
	}
}
