package render

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/crs"
)

// firstPage is how many candidates the first catalogue query returns, and
// maxPage the most a later one does. Over a dense archive the newest
// product or the few newest cover the box, so the first page is all a map
// costs however many products lie beneath, and a small one spares reading
// the footprints of products that will not be drawn; later pages, which
// ask only about the part of the box still uncovered, grow.
const (
	firstPage = 4
	maxPage   = 64
)

// visible returns the products to draw for q, newest first: the newest
// products that can be drawn with the browse, down to the first set whose
// footprints together cover the request's area, leaving out every product
// whose footprint lies wholly under newer ones (such products are never
// opened). At most r.MaxProducts are returned; when that bound stops the
// selection short of covering the area, the map is drawn from the newest
// ones and the bound is logged.
//
// Footprint coverage stands for opaque coverage: the preprocessor traces a
// product's footprint around its valid pixels (pkg/cog ValidFootprint), so
// what lies under a newer footprint is hidden by that product's pixels. The
// proxy is off in two ways, both small: the footprint is traced at the
// precision of an overview about 512 pixels wide, so its edge may stray up
// to one such pixel from the data, and it keeps outer rings only, so
// nodata inside a scene shows as transparent instead of older products.
// Alpha below opaque inside a footprint is likewise taken as hiding.
func (r *Renderer) visible(ctx context.Context, q catalog.Query, area *coverage, drawable func(catalog.Record) bool) ([]catalog.Record, error) {
	var out []catalog.Record
	seen := map[string]bool{}
	q.Limit, q.Offset = firstPage, 0
	for {
		page, err := r.Products.Find(ctx, q)
		if err != nil {
			return nil, err
		}
		before := area.changes
		for _, rec := range page {
			if seen[rec.Identifier] || !drawable(rec) {
				continue
			}
			seen[rec.Identifier] = true
			if !area.add(rec) {
				continue // hidden under newer products
			}
			out = append(out, rec)
			if area.covered() {
				return out, nil
			}
			if r.MaxProducts > 0 && len(out) >= r.MaxProducts {
				r.logger().Info("map drawn from the newest products only: renderer.max_products reached before they cover the request",
					"collection", q.Collection, "drawn", len(out), "max_products", r.MaxProducts)
				return out, nil
			}
		}
		if len(page) < q.Limit {
			return out, nil
		}
		if err := area.settle(); err != nil {
			return nil, err
		}
		if area.covered() {
			return out, nil
		}
		if area.changes == before {
			q.Offset += len(page)
		} else {
			// Ask again about the uncovered part only, from the last begin
			// time seen down (that time included: products sharing it may
			// not all have been seen; seen ones are skipped). The offset
			// restarts with the new filter.
			wkt, err := area.wkt()
			if err != nil {
				return nil, err
			}
			q.GeometryWKT, q.End, q.Offset = wkt, page[len(page)-1].BeginTime, 0
		}
		q.Limit = min(q.Limit*4, maxPage)
	}
}

// coverage tracks the part of a request's area, in lon/lat, that the
// footprints of the products selected so far leave uncovered.
type coverage struct {
	// ring is the request's area. left and open are made only when a
	// second product, or a second catalogue page, needs them: the newest
	// product cannot be hidden, a map inside its footprint is settled by
	// footprintContains, and a map that the first page answers with one
	// product needs no subtraction at all.
	ring    [][2]float64
	whole   bool            // a footprint covers ring
	pending []string        // footprints shown but not yet taken out of left
	left    *godal.Geometry // uncovered
	// open is left shrunk by eps: slivers narrower than a fiftieth of a
	// pixel, where footprints meet or where the footprints as read back
	// (GeoJSON, rounded) differ from the stored ones, hold no pixel
	// centre worth drawing and would otherwise keep coverage from ever
	// completing and let hidden products match the next query.
	open    *godal.Geometry
	bounds  [4]float64 // of open
	eps     float64
	changes int // how many times left shrank
	// done holds the footprints taken out or found hidden: the same
	// footprint again (a series on a fixed grid, a product registered
	// anew) is hidden without parsing it.
	done map[string]bool
}

// newCoverage starts with the whole area of req, whose lon/lat bbox
// (clamped to the CRS's valid area) is wgs.
func newCoverage(req Request, wgs [4]float64) (*coverage, error) {
	pixel := math.Min((wgs[2]-wgs[0])/float64(req.Width), (wgs[3]-wgs[1])/float64(req.Height))
	c := &coverage{ring: requestRing(req, wgs), eps: pixel / 100, done: map[string]bool{}}
	c.bounds = [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, p := range c.ring {
		c.bounds = [4]float64{math.Min(c.bounds[0], p[0]), math.Min(c.bounds[1], p[1]), math.Max(c.bounds[2], p[0]), math.Max(c.bounds[3], p[1])}
	}
	if !ringSimple(c.ring) {
		c.ring = rectRing(wgs)
		c.bounds = wgs
	}
	return c, nil
}

// geometry makes left and open from the request's area, once.
func (c *coverage) geometry() error {
	if c.left != nil {
		return nil
	}
	g, err := godal.NewGeometryFromWKT(ringWKT(c.ring), nil)
	if err != nil {
		return fmt.Errorf("request area: %w", err)
	}
	if !g.Valid() {
		g.Close()
		return fmt.Errorf("request area: invalid ring %v", c.ring)
	}
	if err := c.set(g); err != nil {
		return fmt.Errorf("request area: %w", err)
	}
	return nil
}

// set makes left the uncovered area, taking it over.
func (c *coverage) set(left *godal.Geometry) error {
	open, err := left.Buffer(-c.eps, 2)
	if err != nil {
		left.Close()
		return err
	}
	bounds := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	if !open.Empty() {
		if bounds, err = open.Bounds(); err != nil {
			left.Close()
			open.Close()
			return err
		}
	}
	if c.left != nil {
		c.left.Close()
		c.open.Close()
		c.changes++
	}
	c.left, c.open, c.bounds = left, open, bounds
	return nil
}

// add takes rec's footprint out of the uncovered area and reports whether
// any of it lay there, that is whether rec shows. A footprint that cannot
// be read or subtracted (an invalid geometry) shows and hides nothing.
func (c *coverage) add(rec catalog.Record) bool {
	gj := rec.FootprintGeoJSON
	if gj == "" {
		return true
	}
	if c.whole || c.done[gj] || (rec.BBox != [4]float64{} && !overlaps(rec.BBox, c.bounds)) {
		return false
	}
	if c.left == nil && len(c.pending) == 0 {
		c.done[gj] = true
		if polys, ok := footprints.get(gj); ok && footprintContains(polys, c.ring) {
			c.whole = true
			c.changes++
			return true
		}
		c.pending = append(c.pending, gj)
		return true
	}
	if err := c.settle(); err != nil {
		return true
	}
	fp, err := godal.NewGeometryFromGeoJSON(gj)
	if err != nil {
		return true
	}
	defer fp.Close()
	if hit, err := c.open.Intersects(fp); err == nil && !hit {
		c.done[gj] = true
		return false
	}
	left, err := c.left.Difference(fp)
	if err != nil {
		return true
	}
	if err := c.set(left); err != nil {
		return true
	}
	c.done[gj] = true
	return true
}

// settle makes left and open, and takes the pending footprints out.
func (c *coverage) settle() error {
	if c.whole {
		return nil
	}
	if err := c.geometry(); err != nil {
		return err
	}
	for _, gj := range c.pending {
		fp, err := godal.NewGeometryFromGeoJSON(gj)
		if err != nil {
			continue // shows and hides nothing
		}
		left, err := c.left.Difference(fp)
		fp.Close()
		if err != nil {
			continue
		}
		if err := c.set(left); err != nil {
			return err
		}
	}
	c.pending = nil
	return nil
}

// covered reports whether the footprints added, once settled, cover the
// whole area; false while some are pending.
func (c *coverage) covered() bool { return c.whole || c.left != nil && c.open.Empty() }

// wkt is the uncovered area for the catalogue query.
func (c *coverage) wkt() (string, error) {
	if err := c.settle(); err != nil {
		return "", err
	}
	s, err := c.open.WKT()
	if err != nil {
		return "", fmt.Errorf("uncovered area: %w", err)
	}
	return s, nil
}

func (c *coverage) close() {
	if c.left != nil {
		c.left.Close()
		c.open.Close()
	}
}

// requestRing returns the outline of req's area in lon/lat. A box in
// EPSG:4326 or EPSG:3857 is a lon/lat rectangle, its bbox wgs; a UTM box
// bends, and is traced densified (its bbox would hold corners outside the
// map that no product need cover). Where tracing fails the bbox stands in:
// larger than the area, so coverage of it still means coverage of the map.
func requestRing(req Request, wgs [4]float64) [][2]float64 {
	if req.CRS.Code == 4326 || req.CRS.Code == 3857 {
		return rectRing(wgs)
	}
	box, err := crs.TransformBBox(req.CRS.Code, req.CRS.Code, req.BBox) // clamped to the CRS's valid area
	if err != nil {
		return rectRing(wgs)
	}
	const n = 8
	var xs, ys []float64
	corners := [5][2]float64{{box[0], box[1]}, {box[2], box[1]}, {box[2], box[3]}, {box[0], box[3]}, {box[0], box[1]}}
	for k := 0; k < 4; k++ {
		a, b := corners[k], corners[k+1]
		for i := 0; i < n; i++ {
			t := float64(i) / n
			xs, ys = append(xs, a[0]+(b[0]-a[0])*t), append(ys, a[1]+(b[1]-a[1])*t)
		}
	}
	ok, err := crs.Transform(req.CRS.Code, 4326, xs, ys)
	if err != nil {
		return rectRing(wgs)
	}
	ring := make([][2]float64, 0, len(xs)+1)
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range xs {
		if !ok[i] || math.IsNaN(xs[i]) || math.IsNaN(ys[i]) {
			return rectRing(wgs)
		}
		lo, hi = math.Min(lo, xs[i]), math.Max(hi, xs[i])
		ring = append(ring, [2]float64{xs[i], ys[i]})
	}
	if hi-lo > 180 {
		return rectRing(wgs) // across the antimeridian
	}
	return append(ring, ring[0])
}

// overlaps reports whether boxes a and b meet.
func overlaps(a, b [4]float64) bool {
	return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

func rectRing(b [4]float64) [][2]float64 {
	return [][2]float64{{b[0], b[1]}, {b[2], b[1]}, {b[2], b[3]}, {b[0], b[3]}, {b[0], b[1]}}
}

func ringWKT(ring [][2]float64) string {
	var sb strings.Builder
	sb.WriteString("POLYGON((")
	for i, p := range ring {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(ftoa(p[0]))
		sb.WriteByte(' ')
		sb.WriteString(ftoa(p[1]))
	}
	sb.WriteString("))")
	return sb.String()
}
