package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pvs/pvs/pkg/bandexpr"
)

// Config is the whole configuration of one collection's deployment.
type Config struct {
	Collection   Collection   `yaml:"collection"`
	Redis        Redis        `yaml:"redis"`
	Database     Database     `yaml:"database"`
	Storage      Storage      `yaml:"storage"`
	S3           S3           `yaml:"s3"`
	Preprocessor Preprocessor `yaml:"preprocessor"`
	Registrar    Registrar    `yaml:"registrar"`
	Renderer     Renderer     `yaml:"renderer"`
	Cache        Cache        `yaml:"cache"`
	Seeder       Seeder       `yaml:"seeder"`
	Ingestor     Ingestor     `yaml:"ingestor"`
}

// Collection describes the collection served by the deployment.
type Collection struct {
	Name         string        `yaml:"name"`
	Title        string        `yaml:"title"`
	ProductTypes []ProductType `yaml:"product_types"`
	Browses      []Browse      `yaml:"browses"`
}

// ProductType says how to recognise a product of one type in a package and
// how to turn it into a COG.
type ProductType struct {
	Name string `yaml:"name"`
	// Match, when set, is a substring the package name, or a path inside the package, must contain.
	Match string `yaml:"match"`
	// MetadataGlobs match the metadata file inside a package.
	MetadataGlobs []string `yaml:"metadata_globs"`
	// TypeExtractor, when set, must find a matching value in the metadata
	// (as PVS's type_extractor).
	TypeExtractor *Extractor `yaml:"type_extractor"`
	// DataGlobs match the raster file inside a package; the first match is
	// used. Not used with BandFiles.
	DataGlobs []string `yaml:"data_globs"`
	// BandFiles are globs each matching one single-band file; the files
	// are stacked into one raster in this order (e.g. B04, B03, B02).
	BandFiles []string `yaml:"band_files"`
	// Bands selects and orders bands of the raster, 1-based.
	Bands []int `yaml:"bands"`
	// NoData, Scale and Offset are assigned to every band when set.
	NoData *float64 `yaml:"nodata"`
	Scale  *float64 `yaml:"scale"`
	Offset *float64 `yaml:"offset"`
	// TargetCRS reprojects the product ("EPSG:4326"); empty keeps the native
	// CRS. Products georeferenced only by GCPs or RPCs are always warped.
	TargetCRS string `yaml:"target_crs"`
	// Resampling for warping: nearest, bilinear, cubic, average.
	Resampling string `yaml:"resampling"`
	// Browses give this type's band semantics for browses of the
	// collection, by name: the bands, expression, range or resampling
	// set here replace the collection browse's for products of this type
	// (a B,G,R,NIR type draws TRUE_COLOR from bands 3,2,1; a panchromatic
	// type draws it grey). See Collection.BrowseFor.
	Browses []Browse `yaml:"browses"`
}

// Extractor finds a value in a metadata document: Path is element local
// names separated by "/" (each step at any depth, like XPath's //a//b),
// Pattern a regular expression one of the values must match.
type Extractor struct {
	Path    string `yaml:"path"`
	Pattern string `yaml:"pattern"`
}

// Browse is one way to draw the collection's products.
type Browse struct {
	Name string `yaml:"name"`
	// Bands are 1-based band indexes mapped to red, green, blue (or one grey).
	Bands []int `yaml:"bands"`
	// Expression, instead of Bands, computes one grey value per pixel from
	// the bands (B1, B2, ...; + - * / and parentheses), stretched by Range:
	// NDVI is (B4-B3)/(B4+B3) with range [-1, 1] on B,G,R,NIR products.
	Expression string `yaml:"expression"`
	// Range is the value range stretched to 0..255; empty means the data
	// type's natural range for Byte and no stretch needed.
	Range []float64 `yaml:"range"`
	// Resampling for rendering: nearest, bilinear, cubic, average.
	Resampling string `yaml:"resampling"`
}

// Redis locates the queue server. The password may come from the
// environment (REDIS_PASSWORD) or a file (Docker secret) through
// PasswordFile; it then replaces the URL's password.
type Redis struct {
	URL          string `yaml:"url"`
	Prefix       string `yaml:"prefix"`
	PasswordFile string `yaml:"password_file"`
	// Password is only ever set from REDIS_PASSWORD: a password written
	// in the file belongs in the URL.
	Password string `yaml:"-"`
}

// Database locates PostGIS. The password may come from a file (Docker
// secret) through PasswordFile; it then replaces the URL's password.
type Database struct {
	URL          string `yaml:"url"`
	PasswordFile string `yaml:"password_file"`
}

// Storage names the stores, as file:///dir, a plain path or s3://bucket/prefix.
type Storage struct {
	Source string `yaml:"source"` // where packages are read from
	Output string `yaml:"output"` // where preprocessed products are written
	Cache  string `yaml:"cache"`  // where tiles are cached
}

// S3 holds the settings shared by every s3:// store. Keys may come from
// files (Docker secrets) through AccessKeyFile and SecretKeyFile.
type S3 struct {
	Endpoint      string `yaml:"endpoint"`
	Region        string `yaml:"region"`
	AccessKey     string `yaml:"access_key"`
	SecretKey     string `yaml:"secret_key"`
	AccessKeyFile string `yaml:"access_key_file"`
	SecretKeyFile string `yaml:"secret_key_file"`
}

// Preprocessor settings.
type Preprocessor struct {
	WorkDir     string        `yaml:"workdir"`
	Concurrency int           `yaml:"concurrency"`
	Timeout     time.Duration `yaml:"timeout"`
	COG         COG           `yaml:"cog"`
	// InProcess runs GDAL conversions in the daemon itself instead of a
	// child process per item (faster start, but a timeout cannot stop
	// GDAL and a GDAL crash takes the daemon down).
	InProcess bool `yaml:"in_process"`
	// GDALCacheMB bounds GDAL's block cache in a conversion (GDAL_CACHEMAX).
	GDALCacheMB int `yaml:"gdal_cache_mb"`
	// MaxPackageBytes bounds what a package may unpack to. Kept for
	// existing files; Limits.UnpackedBytes is the same cap.
	MaxPackageBytes int64 `yaml:"max_package_bytes"`
	// Limits cap what one package may cost; a package past any of them
	// fails permanently with the cap in its reason.
	Limits PreprocessorLimits `yaml:"limits"`
}

// PreprocessorLimits cap what an untrusted package may make the
// preprocessor download, write, read and allocate. Zero takes the default.
type PreprocessorLimits struct {
	// DownloadBytes caps the bytes fetched from the source store for one
	// package (an archive, a single raster or all objects of a prefix).
	DownloadBytes int64 `yaml:"download_bytes"`
	// UnpackedBytes caps what an archive may unpack to.
	UnpackedBytes int64 `yaml:"unpacked_bytes"`
	// ExpansionRatio caps unpacked bytes over packed bytes of an archive,
	// so that a small compression bomb stops long before UnpackedBytes.
	ExpansionRatio float64 `yaml:"expansion_ratio"`
	// Entries caps the files and directories of a package.
	Entries int `yaml:"entries"`
	// RasterSide caps the width and the height of a raster, as its header
	// declares them, before any pixel is read.
	RasterSide int `yaml:"raster_side"`
	// RasterSamples caps width × height × bands of a raster.
	RasterSamples int64 `yaml:"raster_samples"`
	// XMLBytes and XMLDepth cap a metadata document's size and how deep
	// its elements nest.
	XMLBytes int64 `yaml:"xml_bytes"`
	XMLDepth int   `yaml:"xml_depth"`
}

// Default preprocessor limits: generous for real EO products (a
// Sentinel-2 tile is ~1 GiB and 10980² pixels, a Pleiades scene a few GiB
// and ~40000² pixels), far below what would exhaust a worker.
const (
	DefaultDownloadBytes  = 16 << 30
	DefaultUnpackedBytes  = 64 << 30
	DefaultExpansionRatio = 50
	DefaultEntries        = 100000
	DefaultRasterSide     = 100000
	DefaultRasterSamples  = 40_000_000_000
	DefaultXMLBytes       = 16 << 20
	DefaultXMLDepth       = 256
)

// SetDefaults fills in unset limits. An unset UnpackedBytes takes
// max_package_bytes, the key that held this cap before.
func (l *PreprocessorLimits) SetDefaults(maxPackageBytes int64) {
	orDefault(&l.DownloadBytes, DefaultDownloadBytes)
	if l.UnpackedBytes == 0 && maxPackageBytes > 0 {
		l.UnpackedBytes = maxPackageBytes
	}
	orDefault(&l.UnpackedBytes, DefaultUnpackedBytes)
	orDefault(&l.ExpansionRatio, DefaultExpansionRatio)
	orDefault(&l.Entries, DefaultEntries)
	orDefault(&l.RasterSide, DefaultRasterSide)
	orDefault(&l.RasterSamples, DefaultRasterSamples)
	orDefault(&l.XMLBytes, DefaultXMLBytes)
	orDefault(&l.XMLDepth, DefaultXMLDepth)
}

// Validate names the first limit that cannot work.
func (l PreprocessorLimits) Validate() error {
	var errs []error
	positive := func(key string, v int64) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("config preprocessor.limits.%s: must be positive, got %d", key, v))
		}
	}
	positive("download_bytes", l.DownloadBytes)
	positive("unpacked_bytes", l.UnpackedBytes)
	positive("entries", int64(l.Entries))
	positive("raster_side", int64(l.RasterSide))
	positive("raster_samples", l.RasterSamples)
	positive("xml_bytes", l.XMLBytes)
	positive("xml_depth", int64(l.XMLDepth))
	if l.ExpansionRatio < 1 {
		// Below 1 even an uncompressed tar (headers included) is refused.
		errs = append(errs, fmt.Errorf("config preprocessor.limits.expansion_ratio: must be at least 1, got %g", l.ExpansionRatio))
	}
	if l.XMLDepth > 0 && l.XMLDepth < 8 {
		errs = append(errs, fmt.Errorf("config preprocessor.limits.xml_depth: EO metadata nests at least 8 levels, got %d", l.XMLDepth))
	}
	return errors.Join(errs...)
}

// COG creation options.
type COG struct {
	Compress   string `yaml:"compress"`
	BlockSize  int    `yaml:"blocksize"`
	Resampling string `yaml:"overview_resampling"`
	Threads    string `yaml:"num_threads"`
	// Extra creation options, KEY=VALUE.
	Options []string `yaml:"options"`
}

// Registrar settings.
type Registrar struct {
	// Replace makes re-registration of an identifier an update rather than
	// a failure.
	Replace *bool `yaml:"replace"`
	// Seed pushes each registered product's interval to seed_queue.
	Seed *bool `yaml:"seed"`
	// DeleteObjects removes a deregistered product's objects from the
	// output store.
	DeleteObjects *bool `yaml:"delete_objects"`
	// Concurrency is the items worked on at once; registrations that
	// arrive together are committed in one transaction.
	Concurrency int `yaml:"concurrency"`
	// BatchDelay is how long a registration waits for others to share its
	// transaction.
	BatchDelay time.Duration `yaml:"batch_delay"`
}

// Renderer settings.
type Renderer struct {
	Listen    string `yaml:"listen"`
	PublicURL string `yaml:"public_url"`
	// AssetURL is the public base URL of the output store, under which
	// STAC assets point at the COGs and metadata; empty points the COG
	// asset at a WCS GetCoverage of the product.
	AssetURL string `yaml:"asset_url"`
	MaxSize  int    `yaml:"max_size"`
	// MaxProducts bounds how many products one map draws (the newest that
	// cover it); past it the newest are drawn, never an error.
	MaxProducts int `yaml:"max_products"`
	// WCSMaxMB bounds a WCS GetCoverage result, uncompressed, in MiB.
	WCSMaxMB int64 `yaml:"wcs_max_mb"`
	// ListedCoverages bounds the coverages listed in the WCS capabilities
	// (the newest); every product stays reachable by its identifier.
	ListedCoverages int `yaml:"listed_coverages"`
	// OpenSearchMaxCount bounds the count of one OpenSearch page.
	OpenSearchMaxCount int `yaml:"opensearch_max_count"`
	// OpenDatasets bounds the COGs kept open between requests.
	OpenDatasets int `yaml:"open_datasets"`
	// MaxRequests bounds the requests drawn at once; past it the renderer
	// answers 503 with Retry-After instead of queueing without end.
	MaxRequests int `yaml:"max_requests"`
}

// Cache settings.
type Cache struct {
	Listen      string `yaml:"listen"`
	PublicURL   string `yaml:"public_url"`
	RendererURL string `yaml:"renderer_url"`
	// MemoryMB keeps the most recently served tiles in memory (bodies up
	// to this many MiB, each for at most 30 s); negative turns it off.
	MemoryMB int64  `yaml:"memory_mb"`
	Format   string `yaml:"format"`
}

// Seeder settings.
type Seeder struct {
	MinZoom     int    `yaml:"min_zoom"`
	MaxZoom     int    `yaml:"max_zoom"`
	Grid        string `yaml:"grid"`
	Concurrency int    `yaml:"concurrency"`
	// MetaTile is the side, in tiles, of the blocks rendered in one request.
	MetaTile int `yaml:"metatile"`
	// Layers to seed; default the collection's default layer.
	Layers []string `yaml:"layers"`
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// Expand replaces ${VAR} and ${VAR:-default} with values from lookup.
func Expand(s string, lookup func(string) (string, bool)) string {
	return envRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := envRef.FindStringSubmatch(m)
		if v, ok := lookup(sub[1]); ok && v != "" {
			return v
		}
		return sub[3]
	})
}

// Load reads a configuration file, expands environment references, applies
// defaults and environment overrides, and validates the result.
func Load(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(raw, os.LookupEnv)
}

// Parse is Load on bytes, with an explicit environment.
func Parse(raw []byte, lookup func(string) (string, bool)) (*Config, error) {
	expanded := Expand(string(raw), lookup)
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	c.ApplyEnv(lookup)
	c.SetDefaults()
	if err := c.ResolveSecrets(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// ApplyEnv lets the environment override connection settings.
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) {
	set := func(dst *string, names ...string) {
		for _, n := range names {
			if v, ok := lookup(n); ok && v != "" {
				*dst = v
				return
			}
		}
	}
	set(&c.Redis.URL, "REDIS_URL")
	set(&c.Redis.Prefix, "PVS_REDIS_PREFIX")
	set(&c.Redis.Password, "REDIS_PASSWORD")
	set(&c.Redis.PasswordFile, "REDIS_PASSWORD_FILE")
	set(&c.Database.URL, "DATABASE_URL")
	set(&c.Database.PasswordFile, "DATABASE_PASSWORD_FILE")
	set(&c.S3.Endpoint, "S3_ENDPOINT", "AWS_ENDPOINT_URL")
	set(&c.S3.Region, "S3_REGION", "AWS_REGION")
	set(&c.S3.AccessKey, "S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID")
	set(&c.S3.SecretKey, "S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY")
	set(&c.S3.AccessKeyFile, "S3_ACCESS_KEY_FILE")
	set(&c.S3.SecretKeyFile, "S3_SECRET_KEY_FILE")
	set(&c.Storage.Source, "PVS_SOURCE")
	set(&c.Storage.Output, "PVS_OUTPUT")
	set(&c.Storage.Cache, "PVS_CACHE_STORE")
	set(&c.Renderer.PublicURL, "PVS_PUBLIC_URL")
	set(&c.Cache.PublicURL, "PVS_PUBLIC_URL")
	set(&c.Cache.RendererURL, "PVS_RENDERER_URL")
	set(&c.Ingestor.Token, "PVS_INGESTOR_TOKEN")
	set(&c.Ingestor.TokenFile, "PVS_INGESTOR_TOKEN_FILE")
}

// ResolveSecrets reads keys given as files (Docker secrets).
func (c *Config) ResolveSecrets() error {
	read := func(dst *string, file, field string) error {
		if file == "" {
			return nil
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("config %s: %w", field, err)
		}
		*dst = strings.TrimSpace(string(b))
		return nil
	}
	if err := read(&c.S3.AccessKey, c.S3.AccessKeyFile, "s3.access_key_file"); err != nil {
		return err
	}
	if err := read(&c.S3.SecretKey, c.S3.SecretKeyFile, "s3.secret_key_file"); err != nil {
		return err
	}
	if c.Database.PasswordFile != "" {
		var pw string
		if err := read(&pw, c.Database.PasswordFile, "database.password_file"); err != nil {
			return err
		}
		u, err := url.Parse(c.Database.URL)
		if err != nil || u.User == nil {
			return fmt.Errorf("config database.url: a password file needs a URL with a user name")
		}
		u.User = url.UserPassword(u.User.Username(), pw)
		c.Database.URL = u.String()
	}
	return c.resolveRedisPassword(read)
}

// resolveRedisPassword puts the password of REDIS_PASSWORD_FILE, else of
// REDIS_PASSWORD, into redis.url. Unlike PostgreSQL, Redis needs no user
// name: without one the password is the default user's (AUTH password).
func (c *Config) resolveRedisPassword(read func(dst *string, file, field string) error) error {
	if err := read(&c.Redis.Password, c.Redis.PasswordFile, "redis.password_file"); err != nil {
		return err
	}
	if c.Redis.Password == "" {
		return nil
	}
	u, err := url.Parse(c.Redis.URL)
	if err != nil || u.Host == "" && u.Scheme != "unix" {
		return fmt.Errorf("config redis.url: %s is not a URL a password can be added to", Redact(c.Redis.URL))
	}
	user := ""
	if u.User != nil {
		user = u.User.Username()
	}
	u.User = url.UserPassword(user, c.Redis.Password)
	c.Redis.URL = u.String()
	return nil
}

// SetDefaults fills in unset values.
func (c *Config) SetDefaults() {
	c.Collection.setDefaults()
	orDefault(&c.Redis.URL, "redis://127.0.0.1:6379/0")
	orDefault(&c.Database.URL, "postgres://postgres@127.0.0.1:5432/pvs")
	orDefault(&c.Storage.Source, "var/data/incoming")
	orDefault(&c.Storage.Output, "var/data/products")
	orDefault(&c.Storage.Cache, "var/data/cache")
	orDefault(&c.S3.Region, "us-east-1")
	c.Preprocessor.setDefaults()
	c.Registrar.setDefaults()
	c.Renderer.setDefaults()
	c.Cache.setDefaults(c.Renderer.Listen)
	c.Seeder.setDefaults()
	c.Ingestor.SetDefaults()
}

// orDefault sets *v to def when it is the zero value.
func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// positiveOr sets *v to def when it is zero or negative.
func positiveOr[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// trueUnlessSet sets an unset switch to true.
func trueUnlessSet(v **bool) {
	if *v == nil {
		t := true
		*v = &t
	}
}

func (c *Collection) setDefaults() {
	orDefault(&c.Title, c.Name)
	for i := range c.ProductTypes {
		pt := &c.ProductTypes[i]
		if len(pt.DataGlobs) == 0 && len(pt.BandFiles) == 0 {
			pt.DataGlobs = []string{"*.tif", "*.TIF", "*.tiff", "*.jp2"}
		}
		if len(pt.MetadataGlobs) == 0 {
			pt.MetadataGlobs = []string{"*.xml"}
		}
	}
	if len(c.Browses) == 0 {
		c.Browses = []Browse{{Name: "TRUE_COLOR", Bands: []int{1, 2, 3}}}
	}
	for i := range c.Browses {
		orDefault(&c.Browses[i].Resampling, "nearest")
	}
}

func (p *Preprocessor) setDefaults() {
	orDefault(&p.WorkDir, os.TempDir())
	positiveOr(&p.Concurrency, 1)
	positiveOr(&p.Timeout, 30*time.Minute)
	positiveOr(&p.GDALCacheMB, 256)
	p.Limits.SetDefaults(p.MaxPackageBytes)
	positiveOr(&p.MaxPackageBytes, p.Limits.UnpackedBytes)
	orDefault(&p.COG.Compress, "DEFLATE")
	orDefault(&p.COG.BlockSize, 512)
	orDefault(&p.COG.Resampling, "AVERAGE")
	orDefault(&p.COG.Threads, "ALL_CPUS")
}

func (r *Registrar) setDefaults() {
	trueUnlessSet(&r.Replace)
	trueUnlessSet(&r.Seed)
	trueUnlessSet(&r.DeleteObjects)
	positiveOr(&r.Concurrency, 16)
	positiveOr(&r.BatchDelay, 5*time.Millisecond)
}

func (r *Renderer) setDefaults() {
	orDefault(&r.Listen, "127.0.0.1:8081")
	orDefault(&r.MaxSize, 4096)
	// Drawing is CPU-bound: more at once only adds memory and latency.
	positiveOr(&r.MaxRequests, 8*runtime.GOMAXPROCS(0))
	orDefault(&r.OpenDatasets, 256)
	orDefault(&r.WCSMaxMB, 512)
	orDefault(&r.ListedCoverages, 1000)
	orDefault(&r.OpenSearchMaxCount, 200)
	orDefault(&r.MaxProducts, 50)
}

func (c *Cache) setDefaults(rendererListen string) {
	orDefault(&c.Listen, "127.0.0.1:8082")
	orDefault(&c.MemoryMB, 64)
	orDefault(&c.RendererURL, "http://"+rendererListen+"/ows")
	orDefault(&c.Format, "png")
}

func (s *Seeder) setDefaults() {
	orDefault(&s.Grid, "GoogleMapsCompatible")
	if s.MaxZoom == 0 && s.MinZoom == 0 {
		s.MinZoom, s.MaxZoom = 0, 10
	}
	// One block more than there are CPUs: while one waits for the
	// renderer, another's tiles are encoded.
	positiveOr(&s.Concurrency, runtime.GOMAXPROCS(0)+1)
	// Blocks of 8×8 tiles (2048² pixels, trimmed to the tiles to store):
	// fewer requests, each with its catalogue query and round trips.
	positiveOr(&s.MetaTile, 8)
}

var collectionName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// Validate checks the configuration and names the first bad field.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if !collectionName.MatchString(c.Collection.Name) {
		bad("collection.name", "%q is not a valid collection name (letters, digits, _ and -, starting with a letter)", c.Collection.Name)
	}
	if strings.Contains(c.Collection.Name, "__") {
		bad("collection.name", "%q must not contain '__' (it separates layer name parts)", c.Collection.Name)
	}
	if len(c.Collection.ProductTypes) == 0 {
		bad("collection.product_types", "at least one product type is required")
	}
	seen := map[string]bool{}
	for i, pt := range c.Collection.ProductTypes {
		if pt.Name == "" {
			bad(fmt.Sprintf("collection.product_types[%d].name", i), "empty")
		}
		if seen[pt.Name] {
			bad(fmt.Sprintf("collection.product_types[%d].name", i), "duplicate %q", pt.Name)
		}
		seen[pt.Name] = true
		f := fmt.Sprintf("collection.product_types[%d]", i)
		if len(pt.BandFiles) > 0 && len(pt.DataGlobs) > 0 {
			bad(f+".band_files", "give data_globs or band_files, not both")
		}
		for _, b := range pt.Bands {
			if b < 1 {
				bad(f+".bands", "band indexes start at 1, got %d", b)
			}
		}
		if e := pt.TypeExtractor; e != nil {
			if e.Path == "" {
				bad(f+".type_extractor.path", "empty")
			}
			if _, err := regexp.Compile(e.Pattern); err != nil {
				bad(f+".type_extractor.pattern", "%v", err)
			}
		}
		switch pt.Resampling {
		case "", "nearest", "bilinear", "cubic", "average":
		default:
			bad(f+".resampling", "unknown resampling %q", pt.Resampling)
		}
	}
	for i, b := range c.Collection.Browses {
		validateBrowse(fmt.Sprintf("collection.browses[%d]", i), b, bad)
	}
	c.Collection.validateTypeBrowses(bad)
	if c.Seeder.MinZoom < 0 || c.Seeder.MaxZoom < c.Seeder.MinZoom || c.Seeder.MaxZoom > 24 {
		bad("seeder.min_zoom/max_zoom", "want 0 <= min_zoom <= max_zoom <= 24, got %d..%d", c.Seeder.MinZoom, c.Seeder.MaxZoom)
	}
	if c.Renderer.MaxSize < 256 {
		bad("renderer.max_size", "must be at least 256, got %d", c.Renderer.MaxSize)
	} else if side := c.Seeder.MetaTile * 256; side > c.Renderer.MaxSize {
		// A block is one GetMap of metatile × 256 pixels a side (the grids'
		// tiles are 256 pixels).
		bad("seeder.metatile", "blocks of %d tiles are %d pixels a side, above renderer.max_size %d: want at most %d", c.Seeder.MetaTile, side, c.Renderer.MaxSize, c.Renderer.MaxSize/256)
	}
	switch c.Cache.Format {
	case "png", "jpeg":
	default:
		bad("cache.format", "want png or jpeg, got %q", c.Cache.Format)
	}
	if c.Preprocessor.COG.BlockSize%16 != 0 || c.Preprocessor.COG.BlockSize < 16 {
		bad("preprocessor.cog.blocksize", "must be a multiple of 16, got %d", c.Preprocessor.COG.BlockSize)
	}
	if p := c.Preprocessor; p.MaxPackageBytes != p.Limits.UnpackedBytes {
		bad("preprocessor.limits.unpacked_bytes", "%d, but max_package_bytes says %d: give one of them", p.Limits.UnpackedBytes, p.MaxPackageBytes)
	}
	errs = append(errs, c.Preprocessor.Limits.Validate())
	errs = append(errs, c.Ingestor.Validate())
	return errors.Join(errs...)
}

// Redact hides the secret parts of a connection URL for logging.
func Redact(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	rest := raw[i+3:]
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return raw
	}
	userinfo := rest[:at]
	if c := strings.Index(userinfo, ":"); c >= 0 {
		userinfo = userinfo[:c] + ":xxxxx"
	}
	return raw[:i+3] + userinfo + rest[at:]
}

// ProductTypeNames lists the collection's product type names.
func (c Collection) ProductTypeNames() []string {
	out := make([]string, len(c.ProductTypes))
	for i, pt := range c.ProductTypes {
		out[i] = pt.Name
	}
	return out
}

// Accepts says whether the collection takes a product whose metadata names
// collection (the collection part of parentIdentifier, "" for none) and
// productType: the product must not name another collection, and its type
// must be one the collection lists. The reasons name both sides, so that an
// operator sees at once whether the package went to the wrong collection
// or the configuration lacks a type.
func (c Collection) Accepts(identifier, collection, parentIdentifier, productType string) error {
	if collection != "" && collection != c.Name {
		via := ""
		if parentIdentifier != "" && parentIdentifier != collection {
			via = fmt.Sprintf(" (eop:parentIdentifier %s)", parentIdentifier)
		}
		return fmt.Errorf("product %s belongs to collection %s%s, not %s; enqueue it to the %s deployment",
			identifier, collection, via, c.Name, collection)
	}
	if types := c.ProductTypeNames(); !slices.Contains(types, productType) {
		return fmt.Errorf("product %s has product type %q, which collection %s does not list (it lists %s); add it to collection.product_types, or enqueue the product to a collection that has it",
			identifier, productType, c.Name, strings.Join(types, ", "))
	}
	return nil
}

// BrowseNames lists the collection's browse type names.
func (c Collection) BrowseNames() []string {
	out := make([]string, len(c.Browses))
	for i, b := range c.Browses {
		out[i] = b.Name
	}
	return out
}

// validateBrowse checks one browse at field f.
func validateBrowse(f string, b Browse, bad func(field, format string, args ...any)) {
	if b.Name == "" || strings.Contains(b.Name, "__") {
		bad(f+".name", "%q is not a valid browse name", b.Name)
	}
	if b.Expression != "" {
		if _, err := bandexpr.Parse(b.Expression); err != nil {
			bad(f+".expression", "%v", err)
		}
		if len(b.Bands) != 0 {
			bad(f+".bands", "give either bands or an expression")
		}
		if len(b.Range) == 0 {
			bad(f+".range", "an expression needs the [min, max] its values are stretched from")
		}
	} else if n := len(b.Bands); n != 1 && n != 3 {
		bad(f+".bands", "want 1 (grey) or 3 (red, green, blue) bands, got %d", n)
	}
	for _, bi := range b.Bands {
		if bi < 1 {
			bad(f+".bands", "band indexes start at 1, got %d", bi)
		}
	}
	if len(b.Range) != 0 && (len(b.Range) != 2 || b.Range[0] >= b.Range[1]) {
		bad(f+".range", "want [min, max] with min < max, got %v", b.Range)
	}
	switch b.Resampling {
	case "nearest", "bilinear", "cubic", "average":
	default:
		bad(f+".resampling", "unknown resampling %q", b.Resampling)
	}
}
