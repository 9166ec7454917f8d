// Package backend assembles the renderer daemon's application from its
// parts: the product catalogue (any Catalogue, PostGIS in production), the
// drawing engine (pkg/render) and the protocol handlers (WMS, WCS,
// OpenSearch), and gives the tile cache its view of the catalogue. cmd/pvs
// only opens the stores and the database and hands them over.
package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"net/http"
	"strings"

	"github.com/pvs/pvs/pkg/catalog"
	"github.com/pvs/pvs/pkg/layer"
	"github.com/pvs/pvs/pkg/opensearch"
	"github.com/pvs/pvs/pkg/period"
	"github.com/pvs/pvs/pkg/render"
	"github.com/pvs/pvs/pkg/wcs"
	"github.com/pvs/pvs/pkg/wms"
)

// Catalogue is what the renderer's front ends read of the product
// catalogue.
type Catalogue interface {
	Get(ctx context.Context, identifier string) (catalog.Record, error)
	Find(ctx context.Context, q catalog.Query) ([]catalog.Record, error)
	Count(ctx context.Context, q catalog.Query) (int64, error)
	Collection(ctx context.Context, name string) (catalog.Summary, error)
}

// OGC joins the layer catalogue, the renderer and the product catalogue
// behind the protocol handlers: it is the wms.Backend, wcs.Backend and
// opensearch.Backend of the renderer daemon.
type OGC struct {
	layer.Catalog
	Renderer *render.Renderer
	Products Catalogue
}

func (b OGC) Render(ctx context.Context, m wms.MapRequest) (*image.NRGBA, error) {
	req := render.Request{Collection: m.Layer.Collection, Browse: m.Layer.Browse,
		CRS: m.CRS, BBox: m.BBox, Width: m.Width, Height: m.Height,
		Outlines: m.Layer.Draw == layer.Outlined, OutlinesOnly: m.Layer.Draw == layer.Outlines, Identifier: m.Layer.Identifier,
		Background: m.Background}
	for _, p := range m.Times {
		req.Times = append(req.Times, period.Period{Start: p.Start, End: p.End})
	}
	for _, c := range b.Collections {
		if c.Name == m.Layer.Collection {
			req.ByType = c.TypeBrowses(m.Layer.Browse.Name)
		}
	}
	img, _, err := b.Renderer.Render(ctx, req)
	return img, err
}

// Recycle implements wms.Recycler: the renderer reuses the canvas.
func (b OGC) Recycle(img *image.NRGBA) { render.Recycle(img) }

// ProductLayer implements wms.ProductLayers: a registered product of the
// served collections, drawn with the collection's default browse.
func (b OGC) ProductLayer(ctx context.Context, name string) (layer.Layer, bool, error) {
	rec, err := b.Products.Get(ctx, name)
	if errors.Is(err, catalog.ErrNotFound) {
		return layer.Layer{}, false, nil
	}
	if err != nil {
		return layer.Layer{}, false, err
	}
	for _, c := range b.Collections {
		if c.Name == rec.Collection {
			bb := rec.BBox
			return layer.Layer{Name: rec.Identifier, Title: rec.Identifier, Collection: rec.Collection, Browse: c.Browses[0],
				BBox: &bb, Start: rec.BeginTime, End: rec.EndTime, Identifier: rec.Identifier}, true, nil
		}
	}
	return layer.Layer{}, false, nil
}

// FeatureInfo implements wms.FeatureInfoer: the products whose footprint
// holds the point, newest first.
func (b OGC) FeatureInfo(ctx context.Context, m wms.MapRequest, pt [2]float64, count int) ([]wms.Feature, error) {
	wgs, err := render.ToWGS84(m.CRS, [4]float64{pt[0], pt[1], pt[0], pt[1]})
	if err != nil {
		return nil, nil // outside the CRS's domain: nothing there
	}
	// A point as a box a nanodegree wide: PostGIS does not intersect an
	// envelope of zero area reliably.
	const eps = 1e-9
	wgs = [4]float64{wgs[0] - eps, wgs[1] - eps, wgs[2] + eps, wgs[3] + eps}
	q := catalog.Query{Collection: m.Layer.Collection, BBox: &wgs, Identifier: m.Layer.Identifier, Limit: count}
	for _, p := range m.Times {
		q.Times = append(q.Times, period.Period{Start: p.Start, End: p.End})
	}
	recs, err := b.Products.Find(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]wms.Feature, 0, len(recs))
	for _, r := range recs {
		f := wms.Feature{Identifier: r.Identifier, Collection: r.Collection, ProductType: r.ProductType,
			BeginTime: r.BeginTime, EndTime: r.EndTime, Footprint: json.RawMessage(r.FootprintGeoJSON), Properties: map[string]string{}}
		for k, v := range r.Properties {
			f.Properties[k] = fmt.Sprint(v)
		}
		out = append(out, f)
	}
	return out, nil
}

// Coverages implements wcs.Backend: the collection's newest products.
func (b OGC) Coverages(ctx context.Context, limit int) ([]wcs.Coverage, error) {
	var out []wcs.Coverage
	for _, c := range b.Collections {
		recs, err := b.Products.Find(ctx, catalog.Query{Collection: c.Name, Limit: limit})
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			out = append(out, wcsCoverage(r))
		}
	}
	return out, nil
}

// Coverage implements wcs.Backend: a product of a served collection.
func (b OGC) Coverage(ctx context.Context, id string) (wcs.Coverage, error) {
	rec, err := b.Products.Get(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return wcs.Coverage{}, wcs.ErrNotFound
	}
	if err != nil {
		return wcs.Coverage{}, err
	}
	for _, c := range b.Collections {
		if c.Name == rec.Collection && len(rec.Coverages) > 0 {
			return wcsCoverage(rec), nil
		}
	}
	return wcs.Coverage{}, wcs.ErrNotFound
}

// GDALPath implements wcs.Backend.
func (b OGC) GDALPath(key string) string { return b.Renderer.Objects.GDALPath(key) }

func wcsCoverage(r catalog.Record) wcs.Coverage {
	c := wcs.Coverage{ID: r.Identifier, BBox: r.BBox}
	if len(r.Coverages) > 0 {
		rc := r.Coverages[0]
		c.CRS, c.Width, c.Height, c.GeoTransform, c.Location = rc.CRS, rc.Width, rc.Height, rc.GeoTransform, rc.Location
		for _, band := range rc.Bands {
			c.Bands = append(c.Bands, wcs.Band{DataType: band.DataType, Color: band.Color, NoData: band.NoData})
		}
	}
	return c
}

// Search implements opensearch.Backend over the served collection.
func (b OGC) Search(ctx context.Context, q opensearch.Query) ([]opensearch.Product, int64, error) {
	rq := catalog.Query{Collection: b.Collections[0].Name, BBox: q.BBox, GeometryWKT: q.GeometryWKT, Point: q.Point, Radius: q.Radius,
		Start: q.Start, End: q.End, Identifier: q.UID, ProductType: q.ProductType, Platform: q.Platform,
		Limit: q.Count, Offset: q.StartIndex - 1}
	if c := q.CloudCover; c != nil {
		rq.CloudCover = &catalog.NumberRange{Set: c.Set, Min: c.Min, Max: c.Max, MinExclusive: c.MinExclusive, MaxExclusive: c.MaxExclusive}
	}
	total, err := b.Products.Count(ctx, rq)
	if err != nil || q.Count == 0 {
		return nil, total, err
	}
	recs, err := b.Products.Find(ctx, rq)
	if err != nil {
		return nil, 0, err
	}
	out := make([]opensearch.Product, 0, len(recs))
	for _, r := range recs {
		out = append(out, opensearch.Product{Identifier: r.Identifier, ProductType: r.ProductType, Platform: r.Platform,
			CloudCover: r.CloudCover, Begin: r.BeginTime, End: r.EndTime, Updated: r.Updated, BBox: r.BBox,
			Footprint: json.RawMessage(r.FootprintGeoJSON)})
	}
	return out, total, nil
}

// OWS sends each request on /ows to the service it names: WCS, or WMS
// (also when SERVICE is missing, as WMS 1.1.1 clients may leave it out).
func OWS(wmsH, wcsH http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range r.URL.Query() {
			if strings.EqualFold(k, "SERVICE") && len(v) > 0 && strings.EqualFold(v[0], "WCS") {
				wcsH.ServeHTTP(w, r)
				return
			}
		}
		wmsH.ServeHTTP(w, r)
	})
}

// Extents reads collection extents from the catalogue's summaries: the
// layer.ExtentReader of the renderer and the cache.
type Extents struct{ Products Catalogue }

// CollectionExtent implements layer.ExtentReader.
func (e Extents) CollectionExtent(ctx context.Context, name string) (layer.Extent, error) {
	s, err := e.Products.Collection(ctx, name)
	return layer.Extent{BBox: s.BBox, Start: s.BeginTime, End: s.EndTime}, err
}

// Intervals implements tilecache.Intervals on the catalogue.
type Intervals struct{ Products Catalogue }

// HasInterval implements tilecache.Intervals: whether a product of the
// collection (and identifier, when set) has exactly the interval p.
func (iv Intervals) HasInterval(ctx context.Context, collection, identifier string, p period.Period) (bool, error) {
	// Products with exactly p intersect p; a short interval is intersected
	// by few, so the first page holds the match if there is one.
	recs, err := iv.Products.Find(ctx, catalog.Query{Collection: collection, Identifier: identifier,
		Times: []period.Period{{Start: p.Start, End: p.End}}, Limit: 100})
	if err != nil {
		return false, err
	}
	for _, r := range recs {
		if r.BeginTime.Equal(p.Start) && r.EndTime.Equal(p.End) {
			return true, nil
		}
	}
	return false, nil
}
