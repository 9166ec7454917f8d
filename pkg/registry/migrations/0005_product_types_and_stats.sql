-- The parent identifier the metadata gives (a collection, optionally with a
-- series: "Emergency/DM02_RGB_1B"), searchable like the product type and
-- platform.
--
-- product_type_stats is the envelope of the band statistics (2nd and 98th
-- percentiles, pkg/cog Statistics) of the products of one type in one
-- collection: a browse without an explicit range stretches every product of
-- the type by it, so that adjacent scenes of one type match. It only ever
-- widens (registration takes LEAST/GREATEST); a deregistration leaves it.
ALTER TABLE products ADD COLUMN parent_identifier text;
CREATE INDEX products_parent_identifier_idx ON products (collection, parent_identifier);
CREATE INDEX products_product_type_idx ON products (collection, product_type);

CREATE TABLE product_type_stats (
    collection   text NOT NULL REFERENCES collections(name) ON DELETE CASCADE,
    product_type text NOT NULL,
    band         integer NOT NULL CHECK (band >= 1),
    p2           double precision NOT NULL,
    p98          double precision NOT NULL,
    PRIMARY KEY (collection, product_type, band)
);
