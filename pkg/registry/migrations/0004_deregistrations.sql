-- Tombstones of deregistered products. The row is written in the
-- transaction that deletes the product and holds what the registrar still
-- has to do once that committed (delete the product's objects, invalidate
-- its tiles, reseed its interval), so that a redelivered deregistration
-- finishes what an interrupted one left. settled_at is set when that is
-- done; settled rows are kept for a while so that a late redelivery is told
-- "already deregistered" rather than "not registered".
CREATE TABLE deregistrations (
    id           bigserial PRIMARY KEY,
    product_id   bigint NOT NULL,
    identifier   text NOT NULL,
    collection   text NOT NULL,
    product_type text NOT NULL,
    begin_time   timestamptz NOT NULL,
    end_time     timestamptz NOT NULL,
    footprint    geometry(MultiPolygon, 4326) NOT NULL,
    removed_at   timestamptz NOT NULL DEFAULT now(),
    settled_at   timestamptz
);
CREATE INDEX deregistrations_identifier_idx ON deregistrations (identifier, id);
CREATE INDEX deregistrations_settled_idx ON deregistrations (settled_at) WHERE settled_at IS NOT NULL;
