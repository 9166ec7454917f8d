package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Registry is a connection pool to the catalogue database.
type Registry struct {
	pool *pgxpool.Pool
}

// Open connects to the database at url.
func Open(ctx context.Context, url string) (*Registry, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open registry: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open registry: %w", err)
	}
	return &Registry{pool: pool}, nil
}

// Close closes the pool.
func (r *Registry) Close() { r.pool.Close() }

// Pool returns the connection pool.
func (r *Registry) Pool() *pgxpool.Pool { return r.pool }

// Band describes one band of a coverage.
type Band struct {
	Index    int      `json:"index"`
	DataType string   `json:"data_type"`
	Color    string   `json:"color"`
	NoData   *float64 `json:"nodata,omitempty"`
}

// Coverage is one raster of a product.
type Coverage struct {
	Name         string
	Location     string // object key in the output store
	CRS          string
	Width        int
	Height       int
	GeoTransform [6]float64
	Bands        []Band
}

// Properties are the common EO properties kept as columns.
type Properties struct {
	Platform        string
	PlatformSerial  string
	Instrument      string
	SensorType      string
	AcquisitionType string
	OrbitNumber     string
	OrbitDirection  string
	CloudCover      *float64 // percent
}

// Browse is a browse image or mask produced for a product.
type Browse struct {
	Kind     string // "browse" or "mask"
	Name     string
	Location string
}

// Product is what registration stores.
type Product struct {
	Identifier  string
	Collection  string
	ProductType string
	BeginTime   time.Time
	EndTime     time.Time
	// FootprintGeoJSON is a GeoJSON Polygon or MultiPolygon in EPSG:4326.
	// Rings crossing the antimeridian may run past ±180 (unwrapped); they
	// are stored split in two at the antimeridian.
	FootprintGeoJSON string
	Properties       Properties
	Metadata         map[string]any
	Coverages        []Coverage
	Browses          []Browse
}

// ErrExists is returned by Register without replace for a known identifier.
var ErrExists = errors.New("product already registered")

// ErrNotFound is returned for an unknown identifier or collection.
var ErrNotFound = errors.New("not found")

// ErrInvalid marks a product the database refuses (geometry, times, values).
var ErrInvalid = errors.New("invalid product")

// EnsureCollection creates the collection if it is new and records its
// product and browse types.
func (r *Registry) EnsureCollection(ctx context.Context, name, title string, productTypes, browseTypes []string) error {
	if productTypes == nil {
		productTypes = []string{}
	}
	if browseTypes == nil {
		browseTypes = []string{}
	}
	_, err := r.pool.Exec(ctx, `INSERT INTO collections (name, title, product_types, browse_types) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET title = EXCLUDED.title, product_types = EXCLUDED.product_types,
			browse_types = EXCLUDED.browse_types`, name, title, productTypes, browseTypes)
	if err != nil {
		return fmt.Errorf("ensure collection %s: %w", name, err)
	}
	return nil
}

// Registered is the outcome of a registration.
type Registered struct {
	ID       int64
	Replaced bool
	// BBox is the stored footprint's bbox, Footprint the footprint as
	// stored (GeoJSON MultiPolygon, split at the antimeridian).
	BBox      [4]float64
	Footprint string
	// Previous holds the footprint bbox and interval the product had before a
	// replacement, so that the caches can drop what it covered then.
	Previous *Extent
}

// Extent is a footprint (GeoJSON), its bbox (EPSG:4326) and a time
// interval.
type Extent struct {
	BBox      [4]float64
	Footprint string
	BeginTime time.Time
	EndTime   time.Time
}

// Result is the outcome of one product of a batch.
type Result struct {
	Registered
	Err error
}

// Register stores p in one transaction. With replace, a known identifier is
// updated in place; without, it is an ErrExists failure.
func (r *Registry) Register(ctx context.Context, p Product, replace bool) (Registered, error) {
	res, err := r.RegisterBatch(ctx, []Product{p}, replace)
	if err != nil {
		return Registered{}, err
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
// savepoint so that a bad product fails alone, and updates the summaries of
// their collections once. The error is for the batch as a whole (the
// database went away); per-product outcomes are in the results, in the
// order of ps.
func (r *Registry) RegisterBatch(ctx context.Context, ps []Product, replace bool) ([]Result, error) {
	results := make([]Result, len(ps))
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
			sp, err := tx.Begin(ctx)
			if err != nil {
				return err
			}
			reg, err := registerOne(ctx, sp, p, replace)
			if err != nil {
				if rerr := sp.Rollback(ctx); rerr != nil {
					return rerr
				}
				if ctx.Err() != nil || isConnError(err) {
					return err
				}
				results[i].Err = fmt.Errorf("register %s: %w", p.Identifier, describe(err))
				continue
			}
			if err := sp.Commit(ctx); err != nil {
				return err
			}
			results[i].Registered = reg
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
	})
	if err != nil {
		return nil, fmt.Errorf("register batch of %d: %w", len(ps), err)
	}
	return results, nil
}

func isConnError(err error) bool {
	var pg *pgconn.PgError
	return !errors.As(err, &pg)
}

func registerOne(ctx context.Context, tx pgx.Tx, p Product, replace bool) (Registered, error) {
	var out Registered
	md, err := json.Marshal(p.Metadata)
	if err != nil {
		return out, fmt.Errorf("%w: metadata: %v", ErrInvalid, err)
	}
	// Registrations of one identifier take turns: row locks cannot guard a
	// row that does not exist yet.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", p.Identifier); err != nil {
		return out, err
	}
	var prev Extent
	exists := true
	err = tx.QueryRow(ctx, `SELECT ST_XMin(footprint), ST_YMin(footprint), ST_XMax(footprint), ST_YMax(footprint),
			ST_AsGeoJSON(footprint), begin_time, end_time
		FROM products WHERE identifier = $1 FOR UPDATE`, p.Identifier).
		Scan(&prev.BBox[0], &prev.BBox[1], &prev.BBox[2], &prev.BBox[3], &prev.Footprint, &prev.BeginTime, &prev.EndTime)
	if errors.Is(err, pgx.ErrNoRows) {
		exists = false
	} else if err != nil {
		return out, err
	}
	if exists && !replace {
		return out, fmt.Errorf("%w: %s", ErrExists, p.Identifier)
	}
	var collExists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM collections WHERE name = $1)", p.Collection).Scan(&collExists); err != nil {
		return out, err
	}
	if !collExists {
		return out, fmt.Errorf("collection %q: %w", p.Collection, ErrNotFound)
	}
	// Unwrapped rings (past ±180) are split at the antimeridian, then
	// repaired; whatever is not a polygon after repair is dropped.
	const geom = `ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_WrapX(ST_SetSRID(ST_GeomFromGeoJSON($5), 4326), 180, -360)), 3))`
	pr := p.Properties
	err = tx.QueryRow(ctx, `INSERT INTO products (identifier, collection, product_type, begin_time, end_time, footprint, metadata,
			platform, platform_serial, instrument, sensor_type, acquisition_type, orbit_number, orbit_direction, cloud_cover)
		VALUES ($1, $2, $3, $4, $6, `+geom+`, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (identifier) DO UPDATE SET collection = EXCLUDED.collection, product_type = EXCLUDED.product_type,
			begin_time = EXCLUDED.begin_time, end_time = EXCLUDED.end_time, footprint = EXCLUDED.footprint,
			metadata = EXCLUDED.metadata, platform = EXCLUDED.platform, platform_serial = EXCLUDED.platform_serial,
			instrument = EXCLUDED.instrument, sensor_type = EXCLUDED.sensor_type, acquisition_type = EXCLUDED.acquisition_type,
			orbit_number = EXCLUDED.orbit_number, orbit_direction = EXCLUDED.orbit_direction, cloud_cover = EXCLUDED.cloud_cover,
			updated_at = now()
		RETURNING id, ST_XMin(footprint), ST_YMin(footprint), ST_XMax(footprint), ST_YMax(footprint), ST_AsGeoJSON(footprint)`,
		p.Identifier, p.Collection, p.ProductType, p.BeginTime, p.FootprintGeoJSON, p.EndTime, md,
		nullable(pr.Platform), nullable(pr.PlatformSerial), nullable(pr.Instrument), nullable(pr.SensorType),
		nullable(pr.AcquisitionType), nullable(pr.OrbitNumber), nullable(pr.OrbitDirection), pr.CloudCover).
		Scan(&out.ID, &out.BBox[0], &out.BBox[1], &out.BBox[2], &out.BBox[3], &out.Footprint)
	if err != nil {
		return out, err
	}
	if out.BBox[0] < -180 || out.BBox[2] > 180 || out.BBox[1] < -90 || out.BBox[3] > 90 {
		return out, fmt.Errorf("%w: footprint bbox %v is outside lon/lat range", ErrInvalid, out.BBox)
	}
	if exists {
		out.Replaced = true
		out.Previous = &prev
		if _, err := tx.Exec(ctx, "DELETE FROM coverages WHERE product_id = $1", out.ID); err != nil {
			return out, err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM browses WHERE product_id = $1", out.ID); err != nil {
			return out, err
		}
	}
	for _, c := range p.Coverages {
		bands, err := json.Marshal(c.Bands)
		if err != nil {
			return out, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO coverages (product_id, name, location, crs, width, height, geotransform, bands)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			out.ID, c.Name, c.Location, c.CRS, c.Width, c.Height, c.GeoTransform[:], bands); err != nil {
			return out, err
		}
	}
	for _, b := range p.Browses {
		if _, err := tx.Exec(ctx, `INSERT INTO browses (product_id, kind, name, location) VALUES ($1, $2, $3, $4)`,
			out.ID, b.Kind, b.Name, b.Location); err != nil {
			return out, err
		}
	}
	return out, nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// describe turns database errors into readable reasons.
func describe(err error) error {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return err
	}
	switch pg.ConstraintName {
	case "products_time_order":
		return fmt.Errorf("%w: end time is before begin time", ErrInvalid)
	case "products_footprint_not_empty":
		return fmt.Errorf("%w: the footprint has no area (empty after repair)", ErrInvalid)
	case "products_cloud_cover_check":
		return fmt.Errorf("%w: cloud cover must be between 0 and 100", ErrInvalid)
	}
	switch pg.Code {
	case "XX000", "22023", "22P02", "22000":
		return fmt.Errorf("%w: footprint geometry: %s", ErrInvalid, pg.Message)
	case "22021":
		return fmt.Errorf("%w: text is not valid UTF-8", ErrInvalid)
	}
	return err
}

// updateSummary recomputes a collection's extent, time span and count from
// its products.
func updateSummary(ctx context.Context, tx pgx.Tx, collection string) error {
	_, err := tx.Exec(ctx, `UPDATE collections c SET
			extent = CASE WHEN s.box IS NULL THEN NULL ELSE ST_MakeEnvelope(ST_XMin(s.box), ST_YMin(s.box), ST_XMax(s.box), ST_YMax(s.box), 4326) END,
			begin_time = s.b, end_time = s.e, product_count = s.n, updated_at = now()
		FROM (SELECT ST_Extent(footprint) AS box, min(begin_time) AS b, max(end_time) AS e, count(*) AS n
		      FROM products WHERE collection = $1) s
		WHERE c.name = $1`, collection)
	return err
}

// Deregister removes a product and its coverages and updates its
// collection's summary. It returns the removed product.
func (r *Registry) Deregister(ctx context.Context, identifier string) (Record, error) {
	var rec Record
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		recs, err := queryRecords(ctx, tx, "WHERE p.identifier = $1", identifier)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return fmt.Errorf("product %q: %w", identifier, ErrNotFound)
		}
		rec = recs[0]
		if _, err := tx.Exec(ctx, "DELETE FROM products WHERE identifier = $1", identifier); err != nil {
			return err
		}
		return updateSummary(ctx, tx, rec.Collection)
	})
	if err != nil {
		return Record{}, fmt.Errorf("deregister %s: %w", identifier, err)
	}
	return rec, nil
}

// Record is a registered product as the readers see it.
type Record struct {
	ID          int64
	Identifier  string
	Collection  string
	ProductType string
	BeginTime   time.Time
	EndTime     time.Time
	BBox        [4]float64 // footprint bbox, EPSG:4326
	// FootprintGeoJSON is the footprint as GeoJSON.
	FootprintGeoJSON string
	// Properties are the product's metadata properties.
	Properties map[string]any
	Coverages  []Coverage
	Platform   string
	CloudCover *float64
	// Updated is when the product was last registered.
	Updated time.Time
}

// Query selects products.
type Query struct {
	Collection string
	// BBox in BBoxCRS (EPSG:4326 lon/lat when 0); nil means everywhere.
	BBox    *[4]float64
	BBoxCRS int
	// Start and End bound the time interval products must intersect; zero
	// values leave that side open.
	Start, End time.Time
	// Times, when set, are intervals of which products must intersect one
	// (a WMS TIME list).
	Times []TimeRange
	// Identifier, when set, selects that product only.
	Identifier string
	// GeometryWKT, when set, is a geometry in EPSG:4326 (lon/lat) that
	// footprints must intersect.
	GeometryWKT string
	// Point and Radius (metres), when Point is set, select footprints
	// within Radius of the lon/lat point.
	Point  *[2]float64
	Radius float64
	// ProductType and Platform, when set, must match exactly.
	ProductType string
	Platform    string
	// CloudCover, when set, bounds the cloud cover (percent); products
	// without one do not match.
	CloudCover *NumberRange
	Limit      int
	Offset     int
}

// NumberRange is a set of values or an interval, each end open or closed
// and either missing (unbounded).
type NumberRange struct {
	Set                        []float64
	Min, Max                   *float64
	MinExclusive, MaxExclusive bool
}

// TimeRange is a closed time interval.
type TimeRange struct{ Start, End time.Time }

// where builds the filter of q (without order or limit) and its args.
func (q Query) where() (string, []any) {
	where := "WHERE p.collection = $1"
	args := []any{q.Collection}
	if q.BBox != nil {
		args = append(args, q.BBox[0], q.BBox[1], q.BBox[2], q.BBox[3])
		n := len(args)
		env := fmt.Sprintf("ST_MakeEnvelope($%d, $%d, $%d, $%d, 4326)", n-3, n-2, n-1, n)
		if q.BBoxCRS != 0 && q.BBoxCRS != 4326 {
			// Densified before transforming, so that its curved edges in
			// EPSG:4326 are followed.
			args = append(args, q.BBoxCRS)
			env = fmt.Sprintf("ST_Transform(ST_Segmentize(ST_MakeEnvelope($%d, $%d, $%d, $%d, $%d), (($%d::float8 - $%d::float8) + ($%d::float8 - $%d::float8)) / 32), 4326)",
				n-3, n-2, n-1, n, n+1, n-1, n-3, n, n-2)
		}
		where += " AND ST_Intersects(p.footprint, " + env + ")"
	}
	if q.GeometryWKT != "" {
		args = append(args, q.GeometryWKT)
		where += fmt.Sprintf(" AND ST_Intersects(p.footprint, ST_GeomFromText($%d, 4326))", len(args))
	}
	if q.Point != nil {
		args = append(args, q.Point[0], q.Point[1], q.Radius)
		n := len(args)
		where += fmt.Sprintf(" AND ST_DWithin(p.footprint::geography, ST_SetSRID(ST_MakePoint($%d, $%d), 4326)::geography, $%d)", n-2, n-1, n)
	}
	if !q.Start.IsZero() {
		args = append(args, q.Start)
		where += fmt.Sprintf(" AND p.end_time >= $%d", len(args))
	}
	if !q.End.IsZero() {
		args = append(args, q.End)
		where += fmt.Sprintf(" AND p.begin_time <= $%d", len(args))
	}
	if q.Identifier != "" {
		args = append(args, q.Identifier)
		where += fmt.Sprintf(" AND p.identifier = $%d", len(args))
	}
	if q.ProductType != "" {
		args = append(args, q.ProductType)
		where += fmt.Sprintf(" AND p.product_type = $%d", len(args))
	}
	if q.Platform != "" {
		args = append(args, q.Platform)
		where += fmt.Sprintf(" AND p.platform = $%d", len(args))
	}
	if c := q.CloudCover; c != nil {
		if len(c.Set) > 0 {
			args = append(args, c.Set)
			where += fmt.Sprintf(" AND p.cloud_cover = ANY($%d)", len(args))
		}
		if c.Min != nil {
			args = append(args, *c.Min)
			op := ">="
			if c.MinExclusive {
				op = ">"
			}
			where += fmt.Sprintf(" AND p.cloud_cover %s $%d", op, len(args))
		}
		if c.Max != nil {
			args = append(args, *c.Max)
			op := "<="
			if c.MaxExclusive {
				op = "<"
			}
			where += fmt.Sprintf(" AND p.cloud_cover %s $%d", op, len(args))
		}
	}
	if len(q.Times) > 0 {
		var ors []string
		for _, tr := range q.Times {
			args = append(args, tr.Start, tr.End)
			ors = append(ors, fmt.Sprintf("(p.end_time >= $%d AND p.begin_time <= $%d)", len(args)-1, len(args)))
		}
		where += " AND (" + strings.Join(ors, " OR ") + ")"
	}
	return where, args
}

// Find returns the products matching q, newest first.
func (r *Registry) Find(ctx context.Context, q Query) ([]Record, error) {
	where, args := q.where()
	where += " ORDER BY p.begin_time DESC, p.id DESC"
	if q.Limit > 0 {
		args = append(args, q.Limit)
		where += fmt.Sprintf(" LIMIT $%d", len(args))
	}
	if q.Offset > 0 {
		args = append(args, q.Offset)
		where += fmt.Sprintf(" OFFSET $%d", len(args))
	}
	recs, err := queryRecords(ctx, r.pool, where, args...)
	if err != nil {
		return nil, fmt.Errorf("find products: %w", describe(err))
	}
	return recs, nil
}

// Count returns how many products match q (its Limit and Offset aside).
func (r *Registry) Count(ctx context.Context, q Query) (int64, error) {
	where, args := q.where()
	var n int64
	if err := r.pool.QueryRow(ctx, "SELECT count(*) FROM products p "+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count products: %w", describe(err))
	}
	return n, nil
}

// Get returns one product by identifier.
func (r *Registry) Get(ctx context.Context, identifier string) (Record, error) {
	recs, err := queryRecords(ctx, r.pool, "WHERE p.identifier = $1", identifier)
	if err != nil {
		return Record{}, fmt.Errorf("get product %s: %w", identifier, err)
	}
	if len(recs) == 0 {
		return Record{}, fmt.Errorf("product %q: %w", identifier, ErrNotFound)
	}
	return recs[0], nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func queryRecords(ctx context.Context, q querier, where string, args ...any) ([]Record, error) {
	rows, err := q.Query(ctx, `SELECT p.id, p.identifier, p.collection, p.product_type, p.begin_time, p.end_time,
			ST_XMin(p.footprint), ST_YMin(p.footprint), ST_XMax(p.footprint), ST_YMax(p.footprint),
			ST_AsGeoJSON(p.footprint), p.metadata, COALESCE(p.platform, ''), p.cloud_cover, p.updated_at,
			COALESCE((SELECT json_agg(json_build_object('name', c.name, 'location', c.location, 'crs', c.crs,
				'width', c.width, 'height', c.height, 'geotransform', c.geotransform, 'bands', c.bands) ORDER BY c.name)
				FROM coverages c WHERE c.product_id = p.id), '[]')
		FROM products p `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var rec Record
		var covs, md []byte
		if err := rows.Scan(&rec.ID, &rec.Identifier, &rec.Collection, &rec.ProductType, &rec.BeginTime, &rec.EndTime,
			&rec.BBox[0], &rec.BBox[1], &rec.BBox[2], &rec.BBox[3], &rec.FootprintGeoJSON, &md, &rec.Platform, &rec.CloudCover, &rec.Updated, &covs); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(md, &rec.Properties); err != nil {
			return nil, err
		}
		var cj []struct {
			Name         string    `json:"name"`
			Location     string    `json:"location"`
			CRS          string    `json:"crs"`
			Width        int       `json:"width"`
			Height       int       `json:"height"`
			GeoTransform []float64 `json:"geotransform"`
			Bands        []Band    `json:"bands"`
		}
		if err := json.Unmarshal(covs, &cj); err != nil {
			return nil, err
		}
		for _, c := range cj {
			cov := Coverage{Name: c.Name, Location: c.Location, CRS: c.CRS, Width: c.Width, Height: c.Height, Bands: c.Bands}
			copy(cov.GeoTransform[:], c.GeoTransform)
			rec.Coverages = append(rec.Coverages, cov)
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// Summary is a collection's summary.
type Summary struct {
	Name         string
	Title        string
	BBox         *[4]float64
	BeginTime    *time.Time
	EndTime      *time.Time
	ProductCount int64
}

// Collection returns the collection's summary.
func (r *Registry) Collection(ctx context.Context, name string) (Summary, error) {
	s := Summary{Name: name}
	var minx, miny, maxx, maxy *float64
	err := r.pool.QueryRow(ctx, `SELECT title, ST_XMin(extent), ST_YMin(extent), ST_XMax(extent), ST_YMax(extent),
			begin_time, end_time, product_count FROM collections WHERE name = $1`, name).
		Scan(&s.Title, &minx, &miny, &maxx, &maxy, &s.BeginTime, &s.EndTime, &s.ProductCount)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("collection %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("collection %s: %w", name, err)
	}
	if minx != nil {
		s.BBox = &[4]float64{*minx, *miny, *maxx, *maxy}
	}
	return s, nil
}
