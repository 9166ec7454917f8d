// Package seed is the seeder: for a seed_queue interval it finds the products
// whose time intersects it, computes the tiles their extents cover at the
// configured zoom levels, and renders them into the tile cache.
package seed
