-- A registration redelivered after it committed must succeed again, while a
-- different product under a registered identifier is refused (without
-- replace): the fingerprint is a hash of what was registered, so that the
-- two can be told apart. Products registered before it was kept have none
-- and count as different.
--
-- The previous extent is what a product covered before its last
-- replacement: a redelivered replacement announces it again, in case the
-- first attempt committed but never told the caches.
ALTER TABLE products
    ADD COLUMN fingerprint         text,
    ADD COLUMN previous_footprint  geometry(MultiPolygon, 4326),
    ADD COLUMN previous_begin_time timestamptz,
    ADD COLUMN previous_end_time   timestamptz;
