package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pvs/pvs/pkg/catalog"
)

// tombstoneRetention is how long settled tombstones are kept: long enough
// for any redelivery of the deregistration to find one and be told that it
// was done.
const tombstoneRetention = 30 * 24 * time.Hour

// Deregister removes a product and its coverages, updates its collection's
// summary and leaves a tombstone, all in one transaction. It returns the
// removals of identifier newest first: the one just made, the pending ones
// that interrupted deregistrations left, or, when there is nothing left to
// do, the last settled one. ErrNotFound means that identifier is neither
// registered nor was deregistered lately.
func (r *Registry) Deregister(ctx context.Context, identifier string) ([]catalog.Removal, error) {
	var out []catalog.Removal
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		// The lock of registration: a registration and a deregistration
		// of one identifier take turns.
		if _, err := tx.Exec(ctx, lockIdentifier, identifier); err != nil {
			return err
		}
		if err := remove(ctx, tx, identifier); err != nil {
			return err
		}
		var err error
		out, err = removals(ctx, tx, identifier)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("deregister %s: %w", identifier, err)
	}
	if len(out) == 0 {
		return nil, notRegistered(identifier)
	}
	return out, nil
}

// remove turns the product, if there is one, into a tombstone.
func remove(ctx context.Context, tx pgx.Tx, identifier string) error {
	var coll string
	err := tx.QueryRow(ctx, `WITH gone AS (
			DELETE FROM products WHERE identifier = $1
			RETURNING id, identifier, collection, product_type, begin_time, end_time, footprint)
		INSERT INTO deregistrations (product_id, identifier, collection, product_type, begin_time, end_time, footprint)
		SELECT * FROM gone RETURNING collection`, identifier).Scan(&coll)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return updateSummary(ctx, tx, coll)
}

func removals(ctx context.Context, tx pgx.Tx, identifier string) ([]catalog.Removal, error) {
	rows, err := tx.Query(ctx, `SELECT id, product_id, identifier, collection, product_type, begin_time, end_time,
			ST_XMin(footprint), ST_YMin(footprint), ST_XMax(footprint), ST_YMax(footprint), ST_AsGeoJSON(footprint),
			removed_at, settled_at
		FROM deregistrations
		WHERE identifier = $1 AND (settled_at IS NULL OR id = (SELECT max(id) FROM deregistrations WHERE identifier = $1))
		ORDER BY id DESC`, identifier)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (catalog.Removal, error) {
		var rm catalog.Removal
		p := &rm.Product
		err := row.Scan(&rm.ID, &p.ID, &p.Identifier, &p.Collection, &p.ProductType, &p.BeginTime, &p.EndTime,
			&p.BBox[0], &p.BBox[1], &p.BBox[2], &p.BBox[3], &p.FootprintGeoJSON, &rm.RemovedAt, &rm.SettledAt)
		return rm, err
	})
}

// SettleRemovals records that what followed the removals ids is done, and
// drops tombstones settled longer than the retention ago.
func (r *Registry) SettleRemovals(ctx context.Context, ids []int64) error {
	_, err := r.pool.Exec(ctx, `WITH settled AS (
			UPDATE deregistrations SET settled_at = now() WHERE id = ANY($1) AND settled_at IS NULL)
		DELETE FROM deregistrations WHERE settled_at < now() - $2::interval`,
		ids, fmt.Sprintf("%d seconds", int64(tombstoneRetention/time.Second)))
	if err != nil {
		return fmt.Errorf("settle removals %v: %w", ids, err)
	}
	return nil
}

// notRegisteredError reads as a reason an operator understands and is
// ErrNotFound.
type notRegisteredError string

func (e notRegisteredError) Error() string {
	return fmt.Sprintf("product %s is not registered (nor was it deregistered lately): nothing to deregister", string(e))
}

func (e notRegisteredError) Is(target error) bool { return target == catalog.ErrNotFound }

func notRegistered(identifier string) error { return notRegisteredError(identifier) }
