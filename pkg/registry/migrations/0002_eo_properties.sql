-- Common EO properties as columns (searchable, indexable), collection
-- configuration in the summary, browses and masks, and the indexes the
-- renderer's "newest in bbox and interval" query needs.
ALTER TABLE collections
    ADD COLUMN product_types text[] NOT NULL DEFAULT '{}',
    ADD COLUMN browse_types  text[] NOT NULL DEFAULT '{}';

ALTER TABLE products
    ADD COLUMN platform         text,
    ADD COLUMN platform_serial  text,
    ADD COLUMN instrument       text,
    ADD COLUMN sensor_type      text,
    ADD COLUMN acquisition_type text,
    ADD COLUMN orbit_number     text,
    ADD COLUMN orbit_direction  text,
    ADD COLUMN cloud_cover      double precision CHECK (cloud_cover BETWEEN 0 AND 100),
    ADD CONSTRAINT products_footprint_not_empty CHECK (NOT ST_IsEmpty(footprint));

CREATE INDEX products_collection_newest_idx ON products (collection, begin_time DESC, id DESC);
CREATE INDEX products_cloud_cover_idx ON products (collection, cloud_cover);

CREATE TABLE browses (
    id         bigserial PRIMARY KEY,
    product_id bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('browse', 'mask')),
    name       text NOT NULL,
    location   text NOT NULL,
    UNIQUE (product_id, kind, name)
);
