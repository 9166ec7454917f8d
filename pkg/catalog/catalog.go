// Package catalog holds the product catalogue's value types, its errors and
// nothing else: what the registrar stores, what readers get back, the
// queries they run. It imports no backend, so the renderer, the seeder, the
// registrar and every front end speak of products without knowing that a
// PostGIS database (pkg/registry) keeps them. Each consumer declares the
// small interface it needs next to its own code.
package catalog

import (
	"errors"
	"time"

	"github.com/pvs/pvs/pkg/period"
)

// Band describes one band of a coverage.
type Band struct {
	Index    int      `json:"index"`
	DataType string   `json:"data_type"`
	Color    string   `json:"color"`
	NoData   *float64 `json:"nodata,omitempty"`
	// Stats are the band's statistics, when the preprocessor computed
	// them; a browse without an explicit range is stretched by them.
	Stats *BandStats `json:"stats,omitempty"`
}

// BandStats summarise a band's valid values (as pkg/cog computes them).
type BandStats struct {
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
	P2   float64 `json:"p2"`
	P98  float64 `json:"p98"`
}

// BandRange is the stretch range of one band (1-based) shared by the
// products of one type: the envelope of their 2nd and 98th percentiles.
type BandRange struct {
	Band int     `json:"band"`
	Low  float64 `json:"p2"`
	High float64 `json:"p98"`
}

// Coverage is one raster of a product.
type Coverage struct {
	Name         string
	Location     string // object key in the output store
	CRS          string
	Width        int
	Height       int
	GeoTransform [6]float64
	Bands        []Band
}

// Properties are the common EO properties kept as columns.
type Properties struct {
	Platform        string
	PlatformSerial  string
	Instrument      string
	SensorType      string
	AcquisitionType string
	OrbitNumber     string
	OrbitDirection  string
	CloudCover      *float64 // percent
}

// Browse is a browse image or mask produced for a product.
type Browse struct {
	Kind     string // "browse" or "mask"
	Name     string
	Location string
}

// Product is what registration stores.
type Product struct {
	Identifier  string
	Collection  string
	ProductType string
	// ParentIdentifier is the metadata's eop:parentIdentifier; empty when
	// it gives none.
	ParentIdentifier string
	BeginTime        time.Time
	EndTime          time.Time
	// FootprintGeoJSON is a GeoJSON Polygon or MultiPolygon in EPSG:4326.
	// Rings crossing the antimeridian may run past ±180 (unwrapped); they
	// are stored split in two at the antimeridian.
	FootprintGeoJSON string
	Properties       Properties
	Metadata         map[string]any
	Coverages        []Coverage
	Browses          []Browse
}

// ErrExists is returned by Register without replace for a known identifier
// under which a different product is registered.
var ErrExists = errors.New("product already registered")

// ErrNotFound is returned for an unknown identifier or collection.
var ErrNotFound = errors.New("not found")

// ErrInvalid marks a product the database refuses (geometry, times, values).
var ErrInvalid = errors.New("invalid product")

// Record is a registered product as the readers see it.
type Record struct {
	ID          int64
	Identifier  string
	Collection  string
	ProductType string
	BeginTime   time.Time
	EndTime     time.Time
	BBox        [4]float64 // footprint bbox, EPSG:4326
	// FootprintGeoJSON is the footprint as GeoJSON.
	FootprintGeoJSON string
	// Properties are the product's metadata properties.
	Properties map[string]any
	Coverages  []Coverage
	Platform   string
	CloudCover *float64
	// ParentIdentifier is the metadata's eop:parentIdentifier, if any.
	ParentIdentifier string
	// TypeRanges are the stretch ranges of the product's type in its
	// collection (see BandRange), one per band that has statistics.
	TypeRanges []BandRange
	// Updated is when the product was last registered.
	Updated time.Time
}

// Query selects products.
type Query struct {
	Collection string
	// Collections, when set, stands for Collection: products of any of
	// them.
	Collections []string
	// Identifiers, when set, selects these products only.
	Identifiers []string
	// BBox in BBoxCRS (EPSG:4326 lon/lat when 0); nil means everywhere.
	BBox    *[4]float64
	BBoxCRS int
	// Start and End bound the time interval products must intersect; zero
	// values leave that side open.
	Start, End time.Time
	// Times, when set, are intervals of which products must intersect one
	// (a WMS TIME list).
	Times []period.Period
	// Identifier, when set, selects that product only.
	Identifier string
	// GeometryWKT, when set, is a geometry in EPSG:4326 (lon/lat) that
	// footprints must intersect.
	GeometryWKT string
	// Point and Radius (metres), when Point is set, select footprints
	// within Radius of the lon/lat point.
	Point  *[2]float64
	Radius float64
	// ProductType, Platform and ParentIdentifier, when set, must match
	// exactly.
	ProductType      string
	Platform         string
	ParentIdentifier string
	// CloudCover, when set, bounds the cloud cover (percent); products
	// without one do not match.
	CloudCover *NumberRange
	// Sort orders the results by these keys in turn; empty is newest
	// first (begin time descending). Ties are broken by registration
	// order, so that the pages of one query neither overlap nor skip.
	Sort   []SortKey
	Limit  int
	Offset int
}

// SortField is a product attribute that results can be ordered by.
type SortField string

// The attributes results can be ordered by.
const (
	SortBeginTime  SortField = "begin_time"
	SortEndTime    SortField = "end_time"
	SortIdentifier SortField = "identifier"
	SortCollection SortField = "collection"
	SortPlatform   SortField = "platform"
	// SortCloudCover puts products without a cloud cover last, whatever
	// the direction.
	SortCloudCover SortField = "cloud_cover"
	SortUpdated    SortField = "updated"
)

// SortKey is one key of an ordering.
type SortKey struct {
	Field SortField
	Desc  bool
}

// NumberRange is a set of values or an interval, each end open or closed
// and either missing (unbounded).
type NumberRange struct {
	Set                        []float64
	Min, Max                   *float64
	MinExclusive, MaxExclusive bool
}

// Summary is a collection's summary.
type Summary struct {
	Name         string
	Title        string
	BBox         *[4]float64
	BeginTime    *time.Time
	EndTime      *time.Time
	ProductCount int64
}

// Registered is the outcome of a registration.
type Registered struct {
	ID       int64
	Replaced bool
	// Unchanged is set when the identifier already held this very product
	// (a redelivered registration): nothing was written, and the caller
	// announces it again in case the first attempt never did.
	Unchanged bool
	// BBox is the stored footprint's bbox, Footprint the footprint as
	// stored (GeoJSON MultiPolygon, split at the antimeridian).
	BBox      [4]float64
	Footprint string
	// Previous holds the footprint bbox and interval the product had before a
	// replacement, so that the caches can drop what it covered then. An
	// unchanged product reports its last replacement's, if any.
	Previous *Extent
}

// Extent is a footprint (GeoJSON), its bbox (EPSG:4326) and a time
// interval.
type Extent struct {
	BBox      [4]float64
	Footprint string
	BeginTime time.Time
	EndTime   time.Time
}

// Result is the outcome of one product of a batch.
type Result struct {
	Registered
	Err error
}

// Removal is a product taken out of the catalogue. Its tombstone is written
// in the transaction that deletes the product and stands for what is left
// to do once that committed: delete the product's objects, invalidate its
// tiles, reseed its interval. It is pending until SettleRemovals.
type Removal struct {
	ID        int64  // the tombstone
	Product   Record // the product as it was (no coverages, properties or platform)
	RemovedAt time.Time
	// SettledAt is when what followed the removal was done; nil while it
	// is pending.
	SettledAt *time.Time
}
