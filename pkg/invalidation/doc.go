// Package invalidation carries catalogue changes to the tile caches: the
// registrar appends an event to a Redis stream for every registration,
// replacement and deregistration, with the bbox and interval the product
// covers (and covered before a replacement), so that caches drop exactly the
// tiles it touches.
package invalidation
