package register

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/invalidation"
	"github.com/pvs/pvs/pkg/metadata"
	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/store"
)

// Catalogue is the part of the registry the registrar writes to.
type Catalogue interface {
	// RegisterBatch registers ps in one transaction. A product the
	// catalogue refuses fails alone, in its result (ErrExists, ErrNotFound
	// and ErrInvalid are permanent); the error is for the whole batch
	// (connection or context lost), none of which was committed.
	RegisterBatch(ctx context.Context, ps []catalog.Product, replace bool) ([]catalog.Result, error)
	// Deregister removes a product, leaving a tombstone, and returns the
	// removals of identifier whose follow-up may be pending.
	Deregister(ctx context.Context, identifier string) ([]catalog.Removal, error)
	// SettleRemovals records that the follow-up of removals is done.
	SettleRemovals(ctx context.Context, ids []int64) error
}

// Enqueuer pushes an item onto a named queue.
type Enqueuer interface {
	Enqueue(ctx context.Context, queueName, item string) error
}

// Publisher announces catalogue changes to the caches.
type Publisher interface {
	Publish(ctx context.Context, e invalidation.Event) error
}

// Registrar handles register_queue items (object prefixes
// <collection>/<identifier> of preprocessed products) and deregister_queue
// items (identifiers).
type Registrar struct {
	Output     store.Store
	Catalogue  Catalogue
	Seed       Enqueuer  // nil: do not seed
	Events     Publisher // nil: do not announce
	Collection config.Collection
	Replace    bool
	// DeleteObjects removes a deregistered product's objects from Output.
	DeleteObjects bool
	// MaxBatch is the most registrations committed in one transaction;
	// registrations arriving within BatchDelay of each other share one.
	MaxBatch   int
	BatchDelay time.Duration
	Log        *slog.Logger

	once    sync.Once
	batcher *batcher
	// interrupt, set by tests, is called after each step of a
	// registration or deregistration; an error stops the work there, as a
	// crash would.
	interrupt func(step string) error
}

// Steps after which a test may interrupt the work.
const (
	stepRegistered = "registered" // committed, not announced
	stepRemoved    = "removed"    // deleted from the catalogue, objects still there
	stepObjects    = "objects"    // objects deleted, not announced
	stepAnnounced  = "announced"  // announced, not queued for seeding
	stepSeeded     = "seeded"     // queued for seeding, removal not settled
)

func (r *Registrar) step(name string) error {
	if r.interrupt == nil {
		return nil
	}
	return r.interrupt(name)
}

// Handle is the queue.Handler of register_queue.
func (r *Registrar) Handle(ctx context.Context, it queue.Item) (string, error) {
	p, err := r.Prepare(ctx, it.Value)
	if err != nil {
		return "", err
	}
	r.once.Do(func() {
		r.batcher = &batcher{max: max(r.MaxBatch, 1), delay: r.BatchDelay, register: func(ctx context.Context, ps []catalog.Product) ([]catalog.Result, error) {
			return r.Catalogue.RegisterBatch(ctx, ps, r.Replace)
		}}
	})
	res, err := r.batcher.do(ctx, p)
	if err != nil {
		if errors.Is(err, catalog.ErrExists) || errors.Is(err, catalog.ErrNotFound) || errors.Is(err, catalog.ErrInvalid) {
			return "", queue.Permanent(err)
		}
		return "", err
	}
	if err := r.step(stepRegistered); err != nil {
		return "", err
	}
	// Announced after every commit, also of an unchanged product: the
	// attempt that committed it may have died before announcing.
	if err := r.announce(ctx, p, res); err != nil {
		return "", err
	}
	switch {
	case res.Unchanged:
		return fmt.Sprintf("%s was registered already, unchanged (id %d); announced again", p.Identifier, res.ID), nil
	case res.Replaced:
		return fmt.Sprintf("replaced %s (id %d)", p.Identifier, res.ID), nil
	}
	return fmt.Sprintf("registered %s (id %d)", p.Identifier, res.ID), nil
}

func (r *Registrar) announce(ctx context.Context, p catalog.Product, res catalog.Registered) error {
	if r.Events != nil {
		e := invalidation.Event{Action: invalidation.Registered, Collection: p.Collection, Identifier: p.Identifier,
			Areas: []invalidation.Area{{BBox: res.BBox, Footprint: json.RawMessage(res.Footprint), Start: p.BeginTime, End: p.EndTime}}}
		if res.Previous != nil {
			e.Action = invalidation.Replaced
			e.Areas = append(e.Areas, invalidation.Area{BBox: res.Previous.BBox, Footprint: json.RawMessage(res.Previous.Footprint),
				Start: res.Previous.BeginTime, End: res.Previous.EndTime})
		}
		if err := r.Events.Publish(ctx, e); err != nil {
			return err
		}
	}
	if err := r.step(stepAnnounced); err != nil {
		return err
	}
	if r.Seed != nil {
		interval := period.Period{Start: p.BeginTime, End: p.EndTime}.String()
		if err := r.Seed.Enqueue(ctx, "seed_queue", interval); err != nil {
			return fmt.Errorf("ask to seed %s: %w", interval, err)
		}
	}
	return nil
}

// Prepare reads the preprocessed product under prefix from the output
// store: its normalised metadata and its COG's header.
func (r *Registrar) Prepare(ctx context.Context, prefix string) (catalog.Product, error) {
	var p catalog.Product
	prefix = strings.Trim(prefix, "/")
	id := path.Base(prefix)
	if id == "" || id == "." || !strings.Contains(prefix, "/") {
		return p, queue.Permanent(fmt.Errorf("invalid register_queue item %q: want <collection>/<identifier>", prefix))
	}
	mdKey := prefix + "/" + id + ".xml"
	rc, err := r.Output.Get(ctx, mdKey)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return p, queue.Permanent(fmt.Errorf("metadata %s not found in %s", mdKey, r.Output.URL()))
		}
		return p, err
	}
	raw, err := io.ReadAll(io.LimitReader(rc, metadata.MaxDocumentSize+1))
	rc.Close()
	if err != nil {
		return p, fmt.Errorf("read %s: %w", mdKey, err)
	}
	if !utf8.Valid(raw) {
		return p, queue.Permanent(fmt.Errorf("metadata %s is not valid UTF-8", mdKey))
	}
	prod, err := metadata.ParseXML(bytes.NewReader(raw))
	if err != nil {
		return p, queue.Permanent(fmt.Errorf("metadata %s: %w", mdKey, err))
	}
	if err := prod.Validate(); err != nil {
		return p, queue.Permanent(fmt.Errorf("metadata %s: %w", mdKey, err))
	}
	if prod.Identifier != id {
		return p, queue.Permanent(fmt.Errorf("metadata %s names product %q, not %q", mdKey, prod.Identifier, id))
	}
	if prod.Collection == "" {
		prod.Collection = r.Collection.Name
	}
	if err := r.Collection.Accepts(prod.Identifier, prod.Collection, prod.ParentIdentifier, prod.ProductType); err != nil {
		return p, queue.Permanent(err)
	}
	props, err := properties(prod.Properties)
	if err != nil {
		return p, queue.Permanent(fmt.Errorf("metadata %s: %w", mdKey, err))
	}
	if len(prod.Footprint) == 0 {
		return p, queue.Permanent(fmt.Errorf("metadata %s has no footprint", mdKey))
	}
	prod.UnwrapAntimeridian()

	cogKey := prefix + "/" + id + ".tif"
	if _, err := r.Output.Stat(ctx, cogKey); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return p, queue.Permanent(fmt.Errorf("COG %s not found in %s", cogKey, r.Output.URL()))
		}
		return p, err
	}
	info, err := r.describe(ctx, prefix+"/"+id+".json", cogKey)
	if err != nil {
		return p, err
	}
	cov := catalog.Coverage{Name: id, Location: cogKey, CRS: info.CRS, Width: info.Width, Height: info.Height, GeoTransform: info.GeoTransform}
	for _, b := range info.Bands {
		cov.Bands = append(cov.Bands, catalog.Band{Index: b.Index, DataType: b.DataType, Color: b.Color, NoData: b.NoData,
			Stats: info.stats(b.Index)})
	}
	md := map[string]any{}
	for k, v := range prod.Properties {
		md[k] = v
	}
	return catalog.Product{
		Identifier: id, Collection: prod.Collection, ProductType: prod.ProductType, ParentIdentifier: prod.ParentIdentifier,
		BeginTime: prod.BeginTime, EndTime: prod.EndTime, Properties: props,
		FootprintGeoJSON: prod.FootprintGeoJSON(), Metadata: md, Coverages: []catalog.Coverage{cov},
	}, nil
}

// describe reads the COG description the preprocessor stored beside it, or
// asks GDAL when there is none (a product preprocessed elsewhere).
func (r *Registrar) describe(ctx context.Context, descKey, cogKey string) (described, error) {
	var info described
	rc, err := r.Output.Get(ctx, descKey)
	if err == nil {
		err = json.NewDecoder(io.LimitReader(rc, 1<<20)).Decode(&info)
		rc.Close()
		if err != nil || info.Width <= 0 || info.CRS == "" {
			return info, queue.Permanent(fmt.Errorf("COG description %s is unreadable: %v", descKey, err))
		}
		return info, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return info, err
	}
	info.Info, err = cog.Describe(r.Output.GDALPath(cogKey), queue.ItemLogger(ctx, r.Log))
	if err != nil {
		return info, fmt.Errorf("read COG header %s: %w", cogKey, err)
	}
	return info, nil
}

func properties(m map[string]string) (catalog.Properties, error) {
	p := catalog.Properties{
		Platform: m["platform"], PlatformSerial: m["platformSerialIdentifier"], Instrument: m["instrument"],
		SensorType: m["sensorType"], AcquisitionType: m["acquisitionType"], OrbitNumber: m["orbitNumber"],
		OrbitDirection: m["orbitDirection"],
	}
	if s := m["cloudCover"]; s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 || v > 100 {
			return p, fmt.Errorf("cloud cover %q is not a percentage", s)
		}
		p.CloudCover = &v
	}
	return p, nil
}

// HandleDeregister is the queue.Handler of deregister_queue: it removes the
// product, optionally its objects, reseeds its interval and announces it.
// A redelivery finishes what an interrupted attempt left.
func (r *Registrar) HandleDeregister(ctx context.Context, it queue.Item) (string, error) {
	rec, settled, err := r.deregister(ctx, strings.TrimSpace(it.Value))
	if err != nil {
		return "", err
	}
	if settled != nil {
		return fmt.Sprintf("%s was deregistered already (at %s)", rec.Identifier, settled.UTC().Format(time.RFC3339)), nil
	}
	return "deregistered " + rec.Identifier, nil
}

// Deregister removes one product; see HandleDeregister.
func (r *Registrar) Deregister(ctx context.Context, identifier string) (catalog.Record, error) {
	rec, _, err := r.deregister(ctx, identifier)
	return rec, err
}

// deregister removes identifier from the catalogue, which leaves a
// tombstone in the same transaction, then does what follows for every
// removal of identifier still pending (this one, or one an interrupted
// attempt left), then settles them. It returns the newest removal, and when
// that was all done before, when it was.
func (r *Registrar) deregister(ctx context.Context, identifier string) (catalog.Record, *time.Time, error) {
	rms, err := r.Catalogue.Deregister(ctx, identifier)
	if err != nil {
		if errors.Is(err, catalog.ErrNotFound) {
			return catalog.Record{}, nil, queue.Permanent(err)
		}
		return catalog.Record{}, nil, err
	}
	if err := r.step(stepRemoved); err != nil {
		return catalog.Record{}, nil, err
	}
	var pending []int64
	for _, rm := range rms {
		if rm.SettledAt != nil {
			continue
		}
		if err := r.followRemoval(ctx, rm.Product); err != nil {
			return rm.Product, nil, err
		}
		pending = append(pending, rm.ID)
	}
	if len(pending) == 0 {
		// Done before; but its reseed is asked for again. Enqueued from a
		// queue handler, an item may be pushed only when the queue records
		// the handler's success, which the attempt that settled the
		// removal may not have lived to see. Seeding twice costs time;
		// stale tiles cost correctness.
		rec := rms[0].Product
		return rec, rms[0].SettledAt, r.reseed(ctx, rec)
	}
	if err := r.step(stepSeeded); err != nil {
		return rms[0].Product, nil, err
	}
	if err := r.Catalogue.SettleRemovals(ctx, pending); err != nil {
		return rms[0].Product, nil, err
	}
	return rms[0].Product, nil, nil
}

// followRemoval deletes a removed product's objects, announces the removal
// and reseeds its interval. Each step may be done again: a missing object is
// no error, and caches and seeders take a repeated event or interval as one.
func (r *Registrar) followRemoval(ctx context.Context, rec catalog.Record) error {
	if r.DeleteObjects && r.Output != nil {
		if err := r.deleteObjects(ctx, rec); err != nil {
			return err
		}
	}
	if err := r.step(stepObjects); err != nil {
		return err
	}
	if r.Events != nil {
		if err := r.Events.Publish(ctx, invalidation.Event{Action: invalidation.Deregistered, Collection: rec.Collection,
			Identifier: rec.Identifier, Areas: []invalidation.Area{{BBox: rec.BBox, Footprint: json.RawMessage(rec.FootprintGeoJSON),
				Start: rec.BeginTime, End: rec.EndTime}}}); err != nil {
			return err
		}
	}
	if err := r.step(stepAnnounced); err != nil {
		return err
	}
	return r.reseed(ctx, rec)
}

// reseed asks to seed a removed product's interval again, which redraws its
// tiles without it.
func (r *Registrar) reseed(ctx context.Context, rec catalog.Record) error {
	if r.Seed == nil {
		return nil
	}
	interval := period.Period{Start: rec.BeginTime, End: rec.EndTime}.String()
	if err := r.Seed.Enqueue(ctx, "seed_queue", interval); err != nil {
		return fmt.Errorf("ask to reseed %s: %w", interval, err)
	}
	return nil
}

func (r *Registrar) deleteObjects(ctx context.Context, rec catalog.Record) error {
	objs, err := r.Output.List(ctx, rec.Collection+"/"+rec.Identifier+"/")
	if err != nil {
		return fmt.Errorf("list objects of %s: %w", rec.Identifier, err)
	}
	for _, o := range objs {
		if err := r.Output.Delete(ctx, o.Key); err != nil {
			return fmt.Errorf("delete objects of %s: %w", rec.Identifier, err)
		}
	}
	return nil
}
