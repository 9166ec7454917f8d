// Package tile defines the tile matrix sets pvs serves (GoogleMapsCompatible,
// WorldCRS84Quad), the arithmetic between tiles and bounding boxes, and the
// key that names a cached tile.
package tile
