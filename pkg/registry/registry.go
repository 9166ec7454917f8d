package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// Product is what registration stores.
type Product struct {
	Identifier  string
	Collection  string
	ProductType string
	BeginTime   time.Time
	EndTime     time.Time
	// FootprintGeoJSON is a GeoJSON Polygon or MultiPolygon in EPSG:4326.
	FootprintGeoJSON string
	Metadata         map[string]any
	Coverages        []Coverage
}

// ErrExists is returned by Register without replace for a known identifier.
var ErrExists = errors.New("product already registered")

// ErrNotFound is returned for an unknown identifier or collection.
var ErrNotFound = errors.New("not found")

// EnsureCollection creates the collection if it is new.
func (r *Registry) EnsureCollection(ctx context.Context, name, title string) error {
	_, err := r.pool.Exec(ctx, `INSERT INTO collections (name, title) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET title = EXCLUDED.title`, name, title)
	if err != nil {
		return fmt.Errorf("ensure collection %s: %w", name, err)
	}
	return nil
}

// Registered is the outcome of a registration.
type Registered struct {
	ID       int64
	Replaced bool
	// Previous holds the footprint bbox and interval the product had before a
	// replacement, so that the caches can drop what it covered then.
	Previous *Extent
}

// Extent is a bbox (EPSG:4326) and a time interval.
type Extent struct {
	BBox      [4]float64
	BeginTime time.Time
	EndTime   time.Time
}

// Register stores p in one transaction. With replace, a known identifier is
// updated in place; without, it is an ErrExists failure.
func (r *Registry) Register(ctx context.Context, p Product, replace bool) (Registered, error) {
	var out Registered
	md, err := json.Marshal(p.Metadata)
	if err != nil {
		return out, fmt.Errorf("register %s: metadata: %w", p.Identifier, err)
	}
	err = pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		// Registrations of one identifier take turns: row locks cannot
		// guard a row that does not exist yet.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", p.Identifier); err != nil {
			return err
		}
		var exists bool
		var prev Extent
		err := tx.QueryRow(ctx, `SELECT ST_XMin(footprint), ST_YMin(footprint), ST_XMax(footprint), ST_YMax(footprint), begin_time, end_time
			FROM products WHERE identifier = $1 FOR UPDATE`, p.Identifier).
			Scan(&prev.BBox[0], &prev.BBox[1], &prev.BBox[2], &prev.BBox[3], &prev.BeginTime, &prev.EndTime)
		switch {
		case err == nil:
			exists = true
		case errors.Is(err, pgx.ErrNoRows):
		default:
			return err
		}
		if exists && !replace {
			return fmt.Errorf("%w: %s", ErrExists, p.Identifier)
		}
		var collExists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM collections WHERE name = $1)", p.Collection).Scan(&collExists); err != nil {
			return err
		}
		if !collExists {
			return fmt.Errorf("collection %q: %w", p.Collection, ErrNotFound)
		}
		const geom = `ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON($5), 4326)), 3))`
		err = tx.QueryRow(ctx, `INSERT INTO products (identifier, collection, product_type, begin_time, end_time, footprint, metadata)
			VALUES ($1, $2, $3, $4, $6, `+geom+`, $7)
			ON CONFLICT (identifier) DO UPDATE SET collection = EXCLUDED.collection, product_type = EXCLUDED.product_type,
				begin_time = EXCLUDED.begin_time, end_time = EXCLUDED.end_time, footprint = EXCLUDED.footprint,
				metadata = EXCLUDED.metadata, updated_at = now()
			RETURNING id`,
			p.Identifier, p.Collection, p.ProductType, p.BeginTime, p.FootprintGeoJSON, p.EndTime, md).Scan(&out.ID)
		if err != nil {
			return err
		}
		if exists {
			out.Replaced = true
			out.Previous = &prev
			if _, err := tx.Exec(ctx, "DELETE FROM coverages WHERE product_id = $1", out.ID); err != nil {
				return err
			}
		}
		for _, c := range p.Coverages {
			bands, err := json.Marshal(c.Bands)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO coverages (product_id, name, location, crs, width, height, geotransform, bands)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				out.ID, c.Name, c.Location, c.CRS, c.Width, c.Height, c.GeoTransform[:], bands); err != nil {
				return err
			}
		}
		return updateSummary(ctx, tx, p.Collection)
	})
	if err != nil {
		return Registered{}, fmt.Errorf("register %s: %w", p.Identifier, describe(err))
	}
	return out, nil
}

// describe turns database errors into readable reasons.
func describe(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.ConstraintName {
		case "products_time_order":
			return fmt.Errorf("end time is before begin time: %w", err)
		}
		if pg.Code == "XX000" || pg.Code == "22023" {
			return fmt.Errorf("invalid footprint geometry: %s", pg.Message)
		}
	}
	return err
}

// updateSummary recomputes a collection's extent, time span and count from
// its products; the indexes keep this a single aggregate.
func updateSummary(ctx context.Context, tx pgx.Tx, collection string) error {
	_, err := tx.Exec(ctx, `UPDATE collections c SET
			extent = s.extent, begin_time = s.b, end_time = s.e, product_count = s.n, updated_at = now()
		FROM (SELECT ST_SetSRID(ST_Envelope(ST_Extent(footprint)::geometry), 4326) AS extent,
		             min(begin_time) AS b, max(end_time) AS e, count(*) AS n
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
	Coverages        []Coverage
}

// Query selects products.
type Query struct {
	Collection string
	// BBox in EPSG:4326 lon/lat; nil means everywhere.
	BBox *[4]float64
	// Start and End bound the time interval products must intersect; zero
	// values leave that side open.
	Start, End time.Time
	Limit      int
}

// Find returns the products matching q, newest first.
func (r *Registry) Find(ctx context.Context, q Query) ([]Record, error) {
	where := "WHERE p.collection = $1"
	args := []any{q.Collection}
	if q.BBox != nil {
		args = append(args, q.BBox[0], q.BBox[1], q.BBox[2], q.BBox[3])
		where += fmt.Sprintf(" AND p.footprint && ST_MakeEnvelope($%d, $%d, $%d, $%d, 4326)", len(args)-3, len(args)-2, len(args)-1, len(args))
		where += fmt.Sprintf(" AND ST_Intersects(p.footprint, ST_MakeEnvelope($%d, $%d, $%d, $%d, 4326))", len(args)-3, len(args)-2, len(args)-1, len(args))
	}
	if !q.Start.IsZero() {
		args = append(args, q.Start)
		where += fmt.Sprintf(" AND p.end_time >= $%d", len(args))
	}
	if !q.End.IsZero() {
		args = append(args, q.End)
		where += fmt.Sprintf(" AND p.begin_time <= $%d", len(args))
	}
	where += " ORDER BY p.begin_time DESC, p.id DESC"
	if q.Limit > 0 {
		args = append(args, q.Limit)
		where += fmt.Sprintf(" LIMIT $%d", len(args))
	}
	recs, err := queryRecords(ctx, r.pool, where, args...)
	if err != nil {
		return nil, fmt.Errorf("find products: %w", err)
	}
	return recs, nil
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
			ST_AsGeoJSON(p.footprint),
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
		var covs []byte
		if err := rows.Scan(&rec.ID, &rec.Identifier, &rec.Collection, &rec.ProductType, &rec.BeginTime, &rec.EndTime,
			&rec.BBox[0], &rec.BBox[1], &rec.BBox[2], &rec.BBox[3], &rec.FootprintGeoJSON, &covs); err != nil {
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
