CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE collections (
    name          text PRIMARY KEY,
    title         text NOT NULL DEFAULT '',
    -- summary, kept current by registration and deregistration
    extent        geometry(Polygon, 4326),
    begin_time    timestamptz,
    end_time      timestamptz,
    product_count bigint NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE products (
    id            bigserial PRIMARY KEY,
    identifier    text NOT NULL UNIQUE,
    collection    text NOT NULL REFERENCES collections(name),
    product_type  text NOT NULL,
    begin_time    timestamptz NOT NULL,
    end_time      timestamptz NOT NULL,
    footprint     geometry(MultiPolygon, 4326) NOT NULL,
    metadata      jsonb NOT NULL DEFAULT '{}',
    registered_at timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT products_time_order CHECK (end_time >= begin_time)
);
CREATE INDEX products_footprint_idx ON products USING gist (footprint);
CREATE INDEX products_collection_time_idx ON products (collection, begin_time, end_time);

CREATE TABLE coverages (
    id           bigserial PRIMARY KEY,
    product_id   bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    name         text NOT NULL,
    location     text NOT NULL,
    crs          text NOT NULL,
    width        integer NOT NULL,
    height       integer NOT NULL,
    geotransform double precision[] NOT NULL,
    bands        jsonb NOT NULL DEFAULT '[]',
    UNIQUE (product_id, name)
);
