package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pvs/pvs/pkg/catalog"
)

// Register stores p in one transaction. With replace, a known identifier is
// updated in place; without, it is an ErrExists failure unless it holds the
// same product already.
func (r *Registry) Register(ctx context.Context, p catalog.Product, replace bool) (catalog.Registered, error) {
	res, err := r.RegisterBatch(ctx, []catalog.Product{p}, replace)
	if err != nil {
		return catalog.Registered{}, err
	}
	return res[0].Registered, res[0].Err
}

// summaryDelta accumulates what a batch adds to a collection's summary.
type summaryDelta struct {
	full       bool // a replacement may shrink the summary: recompute
	added      int64
	bbox       [4]float64
	begin, end time.Time
}

func (d *summaryDelta) add(b [4]float64, begin, end time.Time) {
	if d.added == 0 {
		d.bbox, d.begin, d.end = b, begin, end
	} else {
		d.bbox = [4]float64{min(d.bbox[0], b[0]), min(d.bbox[1], b[1]), max(d.bbox[2], b[2]), max(d.bbox[3], b[3])}
		if begin.Before(d.begin) {
			d.begin = begin
		}
		if end.After(d.end) {
			d.end = end
		}
	}
	d.added++
}

// RegisterBatch stores products in one transaction, each under its own
// savepoint so that a product the catalogue refuses (ErrExists, ErrNotFound,
// ErrInvalid, or another error of its own data) fails alone, and updates
// the summaries of their collections once. Per-product outcomes are in the
// results, in the order of ps. The error is for the batch as a whole (the
// connection, the server or the context went away): then nothing of the
// batch is committed and every product of it may be tried again; it never
// wraps ErrExists, ErrNotFound or ErrInvalid.
func (r *Registry) RegisterBatch(ctx context.Context, ps []catalog.Product, replace bool) ([]catalog.Result, error) {
	results := make([]catalog.Result, len(ps))
	// Locks are taken in identifier order, so concurrent batches never wait
	// on each other in a cycle.
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return ps[order[a]].Identifier < ps[order[b]].Identifier })
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		deltas := map[string]*summaryDelta{}
		for _, i := range order {
			p := ps[i]
			reg, err := registerSaved(ctx, tx, p, replace)
			if err != nil {
				if ctx.Err() != nil || !productFault(err) {
					return fmt.Errorf("register %s: %w", p.Identifier, err)
				}
				results[i].Err = fmt.Errorf("register %s: %w", p.Identifier, describe(err))
				continue
			}
			results[i].Registered = reg
			if reg.Unchanged {
				continue
			}
			d := deltas[p.Collection]
			if d == nil {
				d = &summaryDelta{}
				deltas[p.Collection] = d
			}
			if reg.Replaced {
				d.full = true
			} else {
				d.add(reg.BBox, p.BeginTime, p.EndTime)
			}
		}
		return applySummaries(ctx, tx, deltas)
	})
	if err != nil {
		return nil, fmt.Errorf("register batch of %d: %w", len(ps), err)
	}
	return results, nil
}

// registerSaved registers p under a savepoint. When the savepoint cannot be
// rolled back the transaction is lost, and that is the error returned.
func registerSaved(ctx context.Context, tx pgx.Tx, p catalog.Product, replace bool) (catalog.Registered, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return catalog.Registered{}, err
	}
	reg, err := registerOne(ctx, sp, p, replace)
	if err != nil {
		if rerr := sp.Rollback(ctx); rerr != nil {
			return reg, fmt.Errorf("roll back to savepoint: %w (after: %v)", rerr, err)
		}
		return reg, err
	}
	return reg, sp.Commit(ctx)
}

func applySummaries(ctx context.Context, tx pgx.Tx, deltas map[string]*summaryDelta) error {
	for coll, d := range deltas {
		var err error
		if d.full {
			err = updateSummary(ctx, tx, coll)
		} else {
			_, err = tx.Exec(ctx, `UPDATE collections SET
				extent = ST_MakeEnvelope(LEAST(ST_XMin(extent), $2), LEAST(ST_YMin(extent), $3),
					GREATEST(ST_XMax(extent), $4), GREATEST(ST_YMax(extent), $5), 4326),
				begin_time = LEAST(begin_time, $6), end_time = GREATEST(end_time, $7),
				product_count = product_count + $8, updated_at = now()
				WHERE name = $1`, coll, d.bbox[0], d.bbox[1], d.bbox[2], d.bbox[3], d.begin, d.end, d.added)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// productFault tells whether err, met registering one product and
// contained by its savepoint, is that product's own (it fails alone) or the
// batch's (the whole batch is retried). Only an answer from the server about
// the product's data is the product's; no answer at all (a broken
// connection, a timeout) or one about the session, the transaction or the
// server is the batch's.
func productFault(err error) bool {
	if errors.Is(err, catalog.ErrExists) || errors.Is(err, catalog.ErrNotFound) || errors.Is(err, catalog.ErrInvalid) {
		return true
	}
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || len(pg.Code) < 2 {
		return false
	}
	switch pg.Code[:2] {
	case "08", // connection exception
		"25", // invalid transaction state
		"40", // transaction rollback: serialization failure, deadlock
		"53", // insufficient resources
		"57", // operator intervention: shutdown, cancel, terminated backend
		"58": // system error
		return false
	}
	return true
}

// current is what registration needs of the product already registered
// under an identifier.
type current struct {
	id          int64
	fingerprint string // "" when registered before fingerprints were kept
	catalog.Extent
}

const lockIdentifier = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"

func registerOne(ctx context.Context, tx pgx.Tx, p catalog.Product, replace bool) (catalog.Registered, error) {
	var out catalog.Registered
	fp, err := fingerprint(p)
	if err != nil {
		return out, err
	}
	md, err := json.Marshal(p.Metadata)
	if err != nil {
		return out, fmt.Errorf("%w: metadata: %v", catalog.ErrInvalid, err)
	}
	// Registrations of one identifier take turns: row locks cannot guard a
	// row that does not exist yet.
	if _, err := tx.Exec(ctx, lockIdentifier, p.Identifier); err != nil {
		return out, err
	}
	cur, exists, err := loadCurrent(ctx, tx, p.Identifier)
	if err != nil {
		return out, err
	}
	if exists && cur.fingerprint == fp {
		return unchanged(ctx, tx, cur)
	}
	if exists && !replace {
		return out, fmt.Errorf("%w: %s, with another COG or other metadata (replacing is off)", catalog.ErrExists, p.Identifier)
	}
	var collExists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM collections WHERE name = $1)", p.Collection).Scan(&collExists); err != nil {
		return out, err
	}
	if !collExists {
		return out, fmt.Errorf("collection %q: %w", p.Collection, catalog.ErrNotFound)
	}
	out, err = upsertProduct(ctx, tx, p, md, fp)
	if err != nil {
		return out, err
	}
	if exists {
		out.Replaced = true
		out.Previous = &cur.Extent
		if _, err := tx.Exec(ctx, "DELETE FROM coverages WHERE product_id = $1", out.ID); err != nil {
			return out, err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM browses WHERE product_id = $1", out.ID); err != nil {
			return out, err
		}
	}
	return out, insertParts(ctx, tx, out.ID, p)
}

// fingerprint identifies what is registered under p's identifier, so that a
// redelivered registration can be told from a different product. Times are
// taken in UTC: one instant, one fingerprint.
func fingerprint(p catalog.Product) (string, error) {
	p.BeginTime, p.EndTime = p.BeginTime.UTC(), p.EndTime.UTC()
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("%w: %v", catalog.ErrInvalid, err)
	}
	sum := sha256.Sum256(b)
	return "v1:" + hex.EncodeToString(sum[:]), nil
}

func loadCurrent(ctx context.Context, tx pgx.Tx, identifier string) (current, bool, error) {
	var c current
	var fp *string
	err := tx.QueryRow(ctx, `SELECT id, fingerprint, ST_XMin(footprint), ST_YMin(footprint), ST_XMax(footprint), ST_YMax(footprint),
			ST_AsGeoJSON(footprint), begin_time, end_time
		FROM products WHERE identifier = $1 FOR UPDATE`, identifier).
		Scan(&c.id, &fp, &c.BBox[0], &c.BBox[1], &c.BBox[2], &c.BBox[3], &c.Footprint, &c.BeginTime, &c.EndTime)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	if fp != nil {
		c.fingerprint = *fp
	}
	return c, err == nil, err
}

// unchanged is the outcome of registering the product that is registered
// already. It carries the extent before the last replacement: if that
// replacement's announcement was lost, this one makes up for it.
func unchanged(ctx context.Context, tx pgx.Tx, cur current) (catalog.Registered, error) {
	out := catalog.Registered{ID: cur.id, Unchanged: true, BBox: cur.BBox, Footprint: cur.Footprint}
	var prev catalog.Extent
	err := tx.QueryRow(ctx, `SELECT ST_XMin(previous_footprint), ST_YMin(previous_footprint), ST_XMax(previous_footprint),
			ST_YMax(previous_footprint), ST_AsGeoJSON(previous_footprint), previous_begin_time, previous_end_time
		FROM products WHERE id = $1 AND previous_footprint IS NOT NULL`, cur.id).
		Scan(&prev.BBox[0], &prev.BBox[1], &prev.BBox[2], &prev.BBox[3], &prev.Footprint, &prev.BeginTime, &prev.EndTime)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return out, nil
	case err != nil:
		return out, err
	}
	out.Previous = &prev
	return out, nil
}

// upsertProduct writes the product row; a replacement keeps the extent the
// row had (see unchanged).
func upsertProduct(ctx context.Context, tx pgx.Tx, p catalog.Product, md []byte, fp string) (catalog.Registered, error) {
	var out catalog.Registered
	// Unwrapped rings (past ±180) are split at the antimeridian, then
	// repaired; whatever is not a polygon after repair is dropped.
	const geom = `ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_WrapX(ST_SetSRID(ST_GeomFromGeoJSON($5), 4326), 180, -360)), 3))`
	pr := p.Properties
	err := tx.QueryRow(ctx, `INSERT INTO products (identifier, collection, product_type, begin_time, end_time, footprint, metadata,
			platform, platform_serial, instrument, sensor_type, acquisition_type, orbit_number, orbit_direction, cloud_cover, fingerprint,
			parent_identifier)
		VALUES ($1, $2, $3, $4, $6, `+geom+`, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (identifier) DO UPDATE SET collection = EXCLUDED.collection, product_type = EXCLUDED.product_type,
			begin_time = EXCLUDED.begin_time, end_time = EXCLUDED.end_time, footprint = EXCLUDED.footprint,
			metadata = EXCLUDED.metadata, platform = EXCLUDED.platform, platform_serial = EXCLUDED.platform_serial,
			instrument = EXCLUDED.instrument, sensor_type = EXCLUDED.sensor_type, acquisition_type = EXCLUDED.acquisition_type,
			orbit_number = EXCLUDED.orbit_number, orbit_direction = EXCLUDED.orbit_direction, cloud_cover = EXCLUDED.cloud_cover,
			fingerprint = EXCLUDED.fingerprint, parent_identifier = EXCLUDED.parent_identifier, previous_footprint = products.footprint,
			previous_begin_time = products.begin_time, previous_end_time = products.end_time, updated_at = now()
		RETURNING id, ST_XMin(footprint), ST_YMin(footprint), ST_XMax(footprint), ST_YMax(footprint), ST_AsGeoJSON(footprint)`,
		p.Identifier, p.Collection, p.ProductType, p.BeginTime, p.FootprintGeoJSON, p.EndTime, md,
		nullable(pr.Platform), nullable(pr.PlatformSerial), nullable(pr.Instrument), nullable(pr.SensorType),
		nullable(pr.AcquisitionType), nullable(pr.OrbitNumber), nullable(pr.OrbitDirection), pr.CloudCover, fp,
		nullable(p.ParentIdentifier)).
		Scan(&out.ID, &out.BBox[0], &out.BBox[1], &out.BBox[2], &out.BBox[3], &out.Footprint)
	if err != nil {
		return out, err
	}
	if out.BBox[0] < -180 || out.BBox[2] > 180 || out.BBox[1] < -90 || out.BBox[3] > 90 {
		return out, fmt.Errorf("%w: footprint bbox %v is outside lon/lat range", catalog.ErrInvalid, out.BBox)
	}
	return out, nil
}

// insertParts writes the coverages and browses of product id.
func insertParts(ctx context.Context, tx pgx.Tx, id int64, p catalog.Product) error {
	for _, c := range p.Coverages {
		bands, err := json.Marshal(c.Bands)
		if err != nil {
			return fmt.Errorf("%w: bands of %s: %v", catalog.ErrInvalid, c.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO coverages (product_id, name, location, crs, width, height, geotransform, bands)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			id, c.Name, c.Location, c.CRS, c.Width, c.Height, c.GeoTransform[:], bands); err != nil {
			return err
		}
	}
	if err := widenTypeStats(ctx, tx, p); err != nil {
		return err
	}
	for _, b := range p.Browses {
		if _, err := tx.Exec(ctx, `INSERT INTO browses (product_id, kind, name, location) VALUES ($1, $2, $3, $4)`,
			id, b.Kind, b.Name, b.Location); err != nil {
			return err
		}
	}
	return nil
}

// widenTypeStats widens the stretch range of p's product type by the
// statistics of p's bands. Only widening keeps registration O(1) whatever
// the number of products of the type; the price is that a range never
// narrows when the product that widened it is replaced or removed.
func widenTypeStats(ctx context.Context, tx pgx.Tx, p catalog.Product) error {
	for _, c := range p.Coverages {
		for _, b := range c.Bands {
			if b.Stats == nil || b.Index < 1 {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO product_type_stats (collection, product_type, band, p2, p98)
				VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (collection, product_type, band) DO UPDATE SET
					p2 = LEAST(product_type_stats.p2, EXCLUDED.p2), p98 = GREATEST(product_type_stats.p98, EXCLUDED.p98)`,
				p.Collection, p.ProductType, b.Index, b.Stats.P2, b.Stats.P98); err != nil {
				return fmt.Errorf("statistics of %s band %d: %w", p.ProductType, b.Index, err)
			}
		}
	}
	return nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// describe turns database errors into readable reasons. Errors of the
// product's data (SQLSTATE classes 22 and 23) are ErrInvalid: retrying
// cannot make them pass.
func describe(err error) error {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return err
	}
	switch pg.ConstraintName {
	case "products_time_order":
		return fmt.Errorf("%w: end time is before begin time", catalog.ErrInvalid)
	case "products_footprint_not_empty":
		return fmt.Errorf("%w: the footprint has no area (empty after repair)", catalog.ErrInvalid)
	case "products_cloud_cover_check":
		return fmt.Errorf("%w: cloud cover must be between 0 and 100", catalog.ErrInvalid)
	}
	switch pg.Code {
	case "XX000", "22023", "22P02", "22000":
		return fmt.Errorf("%w: footprint geometry: %s", catalog.ErrInvalid, pg.Message)
	case "22021":
		return fmt.Errorf("%w: text is not valid UTF-8", catalog.ErrInvalid)
	}
	if c := pg.Code[:min(2, len(pg.Code))]; c == "22" || c == "23" {
		return fmt.Errorf("%w: %s", catalog.ErrInvalid, pg.Message)
	}
	return err
}
