package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pvs/pvs/pkg/catalog"
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

// where builds the filter of q (without order or limit) and its args.
func where(q catalog.Query) (string, []any) {
	where := "WHERE p.collection = $1"
	args := []any{q.Collection}
	switch {
	case len(q.Collections) == 1:
		// An equality, which the (collection, time) indexes serve.
		args = []any{q.Collections[0]}
	case len(q.Collections) > 1:
		where = "WHERE p.collection = ANY($1)"
		args = []any{q.Collections}
	}
	if len(q.Identifiers) > 0 {
		args = append(args, q.Identifiers)
		where += fmt.Sprintf(" AND p.identifier = ANY($%d)", len(args))
	}
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
		where += " AND ST_Intersects(p.footprint, (SELECT " + env + "))"
	}
	if q.GeometryWKT != "" {
		args = append(args, q.GeometryWKT)
		// A scalar subquery: with the parameter inside it, a generic plan
		// (which PostgreSQL picks after a few runs of one query) parses
		// the WKT once, not once per row.
		where += fmt.Sprintf(" AND ST_Intersects(p.footprint, (SELECT ST_GeomFromText($%d, 4326)))", len(args))
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
	if q.ParentIdentifier != "" {
		args = append(args, q.ParentIdentifier)
		where += fmt.Sprintf(" AND p.parent_identifier = $%d", len(args))
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

// sortColumns are the columns of the fields results can be ordered by.
var sortColumns = map[catalog.SortField]string{
	catalog.SortBeginTime: "p.begin_time", catalog.SortEndTime: "p.end_time", catalog.SortIdentifier: "p.identifier",
	catalog.SortCollection: "p.collection", catalog.SortPlatform: "p.platform", catalog.SortCloudCover: "p.cloud_cover",
	catalog.SortUpdated: "p.updated_at",
}

// orderBy is the ORDER BY clause of keys; the row id ends it so that the
// order is total and pages of one query never overlap.
func orderBy(keys []catalog.SortKey) (string, error) {
	if len(keys) == 0 {
		return " ORDER BY p.begin_time DESC, p.id DESC", nil
	}
	parts := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		col, ok := sortColumns[k.Field]
		if !ok {
			return "", fmt.Errorf("%w: products cannot be sorted by %q", catalog.ErrInvalid, k.Field)
		}
		dir := " ASC"
		if k.Desc {
			dir = " DESC"
		}
		parts = append(parts, col+dir+" NULLS LAST")
	}
	return " ORDER BY " + strings.Join(append(parts, "p.id DESC"), ", "), nil
}

// Find returns the products matching q in q.Sort's order, newest first by
// default.
func (r *Registry) Find(ctx context.Context, q catalog.Query) ([]catalog.Record, error) {
	where, args := where(q)
	order, err := orderBy(q.Sort)
	if err != nil {
		return nil, fmt.Errorf("find products: %w", err)
	}
	where += order
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
func (r *Registry) Count(ctx context.Context, q catalog.Query) (int64, error) {
	where, args := where(q)
	var n int64
	if err := r.pool.QueryRow(ctx, "SELECT count(*) FROM products p "+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count products: %w", describe(err))
	}
	return n, nil
}

// Get returns one product by identifier.
func (r *Registry) Get(ctx context.Context, identifier string) (catalog.Record, error) {
	recs, err := queryRecords(ctx, r.pool, "WHERE p.identifier = $1", identifier)
	if err != nil {
		return catalog.Record{}, fmt.Errorf("get product %s: %w", identifier, err)
	}
	if len(recs) == 0 {
		return catalog.Record{}, fmt.Errorf("product %q: %w", identifier, catalog.ErrNotFound)
	}
	return recs[0], nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func queryRecords(ctx context.Context, q querier, where string, args ...any) ([]catalog.Record, error) {
	rows, err := q.Query(ctx, `SELECT p.id, p.identifier, p.collection, p.product_type, p.begin_time, p.end_time,
			ST_XMin(p.footprint), ST_YMin(p.footprint), ST_XMax(p.footprint), ST_YMax(p.footprint),
			ST_AsGeoJSON(p.footprint), p.metadata, COALESCE(p.platform, ''), p.cloud_cover, p.updated_at,
			COALESCE((SELECT json_agg(json_build_object('name', c.name, 'location', c.location, 'crs', c.crs,
				'width', c.width, 'height', c.height, 'geotransform', c.geotransform, 'bands', c.bands) ORDER BY c.name)
				FROM coverages c WHERE c.product_id = p.id), '[]'),
			COALESCE(p.parent_identifier, ''),
			COALESCE((SELECT json_agg(json_build_object('band', s.band, 'p2', s.p2, 'p98', s.p98) ORDER BY s.band)
				FROM product_type_stats s WHERE s.collection = p.collection AND s.product_type = p.product_type), '[]')
		FROM products p `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []catalog.Record
	for rows.Next() {
		var rec catalog.Record
		var covs, md, ranges []byte
		if err := rows.Scan(&rec.ID, &rec.Identifier, &rec.Collection, &rec.ProductType, &rec.BeginTime, &rec.EndTime,
			&rec.BBox[0], &rec.BBox[1], &rec.BBox[2], &rec.BBox[3], &rec.FootprintGeoJSON, &md, &rec.Platform, &rec.CloudCover, &rec.Updated, &covs,
			&rec.ParentIdentifier, &ranges); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(ranges, &rec.TypeRanges); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(md, &rec.Properties); err != nil {
			return nil, err
		}
		var cj []struct {
			Name         string         `json:"name"`
			Location     string         `json:"location"`
			CRS          string         `json:"crs"`
			Width        int            `json:"width"`
			Height       int            `json:"height"`
			GeoTransform []float64      `json:"geotransform"`
			Bands        []catalog.Band `json:"bands"`
		}
		if err := json.Unmarshal(covs, &cj); err != nil {
			return nil, err
		}
		for _, c := range cj {
			cov := catalog.Coverage{Name: c.Name, Location: c.Location, CRS: c.CRS, Width: c.Width, Height: c.Height, Bands: c.Bands}
			copy(cov.GeoTransform[:], c.GeoTransform)
			rec.Coverages = append(rec.Coverages, cov)
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// Collection returns the collection's summary.
func (r *Registry) Collection(ctx context.Context, name string) (catalog.Summary, error) {
	s := catalog.Summary{Name: name}
	var minx, miny, maxx, maxy *float64
	err := r.pool.QueryRow(ctx, `SELECT title, ST_XMin(extent), ST_YMin(extent), ST_XMax(extent), ST_YMax(extent),
			begin_time, end_time, product_count FROM collections WHERE name = $1`, name).
		Scan(&s.Title, &minx, &miny, &maxx, &maxy, &s.BeginTime, &s.EndTime, &s.ProductCount)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("collection %q: %w", name, catalog.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("collection %s: %w", name, err)
	}
	if minx != nil {
		s.BBox = &[4]float64{*minx, *miny, *maxx, *maxy}
	}
	return s, nil
}
