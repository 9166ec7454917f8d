package register

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"strings"

	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/metadata"
	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/registry"
	"github.com/pvs/pvs/pkg/store"
)

// Catalogue is the part of the registry the registrar writes to.
type Catalogue interface {
	Register(ctx context.Context, p registry.Product, replace bool) (registry.Registered, error)
}

// Enqueuer pushes an item onto a named queue.
type Enqueuer interface {
	Enqueue(ctx context.Context, queueName, item string) error
}

// Registrar handles register_queue items: object prefixes
// <collection>/<identifier> of preprocessed products.
type Registrar struct {
	Output     store.Store
	Catalogue  Catalogue
	Next       Enqueuer // nil: do not seed
	Collection string
	Replace    bool
	Log        *slog.Logger
}

// Handle is the queue.Handler of the registrar.
func (r *Registrar) Handle(ctx context.Context, it queue.Item) (string, error) {
	prefix := strings.Trim(it.Value, "/")
	id := path.Base(prefix)
	if id == "" || id == "." {
		return "", queue.Permanent(fmt.Errorf("invalid register_queue item %q", it.Value))
	}
	mdKey := prefix + "/" + id + ".xml"
	rc, err := r.Output.Get(ctx, mdKey)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", queue.Permanent(fmt.Errorf("metadata %s not found in %s", mdKey, r.Output.URL()))
		}
		return "", err
	}
	raw, err := io.ReadAll(io.LimitReader(rc, metadata.MaxDocumentSize+1))
	rc.Close()
	if err != nil {
		return "", fmt.Errorf("read %s: %w", mdKey, err)
	}
	prod, err := metadata.ParseXML(strings.NewReader(string(raw)))
	if err != nil {
		return "", queue.Permanent(fmt.Errorf("metadata %s: %w", mdKey, err))
	}
	if err := prod.Validate(); err != nil {
		return "", queue.Permanent(fmt.Errorf("metadata %s: %w", mdKey, err))
	}
	if prod.Identifier != id {
		return "", queue.Permanent(fmt.Errorf("metadata %s names product %q, not %q", mdKey, prod.Identifier, id))
	}
	if prod.Collection == "" {
		prod.Collection = r.Collection
	}
	if prod.Collection != r.Collection {
		return "", queue.Permanent(fmt.Errorf("product %s belongs to collection %q; this registrar serves %q", id, prod.Collection, r.Collection))
	}
	if !utf8Valid(prod) {
		return "", queue.Permanent(fmt.Errorf("metadata %s holds text that is not valid UTF-8", mdKey))
	}

	cogKey := prefix + "/" + id + ".tif"
	if _, err := r.Output.Stat(ctx, cogKey); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", queue.Permanent(fmt.Errorf("COG %s not found in %s", cogKey, r.Output.URL()))
		}
		return "", err
	}
	info, err := cog.Describe(r.Output.GDALPath(cogKey), r.Log)
	if err != nil {
		return "", fmt.Errorf("read COG header %s: %w", cogKey, err)
	}
	cov := registry.Coverage{Name: id, Location: cogKey, CRS: info.CRS, Width: info.Width, Height: info.Height, GeoTransform: info.GeoTransform}
	for _, b := range info.Bands {
		cov.Bands = append(cov.Bands, registry.Band{Index: b.Index, DataType: b.DataType, Color: b.Color, NoData: b.NoData})
	}
	md := map[string]any{}
	for k, v := range prod.Properties {
		md[k] = v
	}
	rp := registry.Product{
		Identifier: id, Collection: prod.Collection, ProductType: prod.ProductType,
		BeginTime: prod.BeginTime, EndTime: prod.EndTime,
		FootprintGeoJSON: prod.FootprintGeoJSON(), Metadata: md, Coverages: []registry.Coverage{cov},
	}
	res, err := r.Catalogue.Register(ctx, rp, r.Replace)
	if err != nil {
		if errors.Is(err, registry.ErrExists) || errors.Is(err, registry.ErrNotFound) || isDataError(err) {
			return "", queue.Permanent(err)
		}
		return "", err
	}
	if r.Next != nil {
		interval := period.Period{Start: prod.BeginTime, End: prod.EndTime}.String()
		if err := r.Next.Enqueue(ctx, "seed_queue", interval); err != nil {
			return "", fmt.Errorf("ask to seed %s: %w", interval, err)
		}
	}
	verb := "registered"
	if res.Replaced {
		verb = "replaced"
	}
	return fmt.Sprintf("%s %s (id %d)", verb, id, res.ID), nil
}

func isDataError(err error) bool {
	s := err.Error()
	return strings.Contains(s, "invalid footprint") || strings.Contains(s, "end time is before")
}

func utf8Valid(p metadata.Product) bool {
	ok := func(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
	if !ok(p.Identifier) || !ok(p.ProductType) || !ok(p.Collection) {
		return false
	}
	for k, v := range p.Properties {
		if !ok(k) || !ok(v) {
			return false
		}
	}
	return true
}
