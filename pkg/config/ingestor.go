package config

import (
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"
	"time"
)

// Ingestor settings: what `pvs ingestor` listens on, which prefixes of the
// source store it watches and which STAC catalogues it harvests.
type Ingestor struct {
	// Listen is the address of the HTTP endpoint (POST /ingest); empty
	// runs no endpoint.
	Listen string `yaml:"listen"`
	// Token is the bearer token the endpoint requires; TokenFile reads it
	// from a file (a Docker secret) instead. Neither is resolved for the
	// other daemons, which do not mount the secret: see ResolveToken.
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// MaxBodyBytes bounds one request body.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// CheckExists makes the endpoint refuse a path that is neither an
	// object nor a prefix of the source store.
	CheckExists *bool `yaml:"check_exists"`
	// Concurrency is how many packages one pass pushes at once.
	Concurrency int         `yaml:"concurrency"`
	Watchers    []Watcher   `yaml:"watchers"`
	Harvesters  []Harvester `yaml:"harvesters"`
}

// Watcher watches one prefix of the source store for new packages.
type Watcher struct {
	// Name identifies the watcher's cursor in Redis; keep it when the
	// prefix changes and the cursor should survive.
	Name   string `yaml:"name"`
	Prefix string `yaml:"prefix"`
	// Packages is "objects" (each object matching Include is a package)
	// or "directories" (each prefix Depth levels below Prefix is one).
	Packages string   `yaml:"packages"`
	Include  []string `yaml:"include"`
	Depth    int      `yaml:"depth"`
	// Marker, when set, must exist before a package is complete: for
	// objects a suffix of the package's key (".done": a.tar.done), for
	// directories the name of an object inside (_SUCCESS).
	Marker string `yaml:"marker"`
	// Settle is how long a package must stay the same size before it is
	// complete; 0 trusts the store (an S3 object appears whole).
	Settle *time.Duration `yaml:"settle"`
	// Interval between two listings.
	Interval time.Duration `yaml:"interval"`
}

// Harvester harvests one STAC catalogue into preprocess-md_queue.
type Harvester struct {
	Name string `yaml:"name"`
	// Catalog is a static catalog: a key in the source store, or an
	// http(s) URL of its root document.
	Catalog string `yaml:"catalog"`
	// Search is the item search URL of a STAC API (…/search).
	Search      string    `yaml:"search"`
	Collections []string  `yaml:"collections"`
	BBox        []float64 `yaml:"bbox"`
	Datetime    string    `yaml:"datetime"`
	Limit       int       `yaml:"limit"`
	// Asset is the key of the asset that is the package; empty: the
	// first asset with role "data", else the first GeoTIFF.
	Asset string `yaml:"asset"`
	// ProductType is given to every item; empty: the item's
	// product:type or eop:productType property, when set.
	ProductType string `yaml:"product_type"`
	// HrefPrefixes are URL prefixes under which an asset href names a key
	// of the source store (https://s3.example.com/bucket/); s3:// and
	// /vsis3/ hrefs into the source bucket, and files under a local
	// source, need none.
	HrefPrefixes []string      `yaml:"href_prefixes"`
	Interval     time.Duration `yaml:"interval"`
}

// SetDefaults fills in unset ingestor values.
func (in *Ingestor) SetDefaults() {
	if in.MaxBodyBytes <= 0 {
		in.MaxBodyBytes = 1 << 20
	}
	if in.CheckExists == nil {
		t := true
		in.CheckExists = &t
	}
	if in.Concurrency <= 0 {
		in.Concurrency = 16
	}
	for i := range in.Watchers {
		w := &in.Watchers[i]
		if w.Packages == "" {
			w.Packages = "objects"
		}
		if len(w.Include) == 0 && w.Packages == "objects" {
			w.Include = []string{"*.tar", "*.tar.gz", "*.tgz", "*.zip"}
		}
		if w.Depth <= 0 {
			w.Depth = 1
		}
		if w.Settle == nil {
			d := 15 * time.Second
			w.Settle = &d
		}
		if w.Interval <= 0 {
			w.Interval = 30 * time.Second
		}
	}
	for i := range in.Harvesters {
		h := &in.Harvesters[i]
		if h.Limit <= 0 {
			h.Limit = 100
		}
		if h.Interval <= 0 {
			h.Interval = 10 * time.Minute
		}
	}
}

var ingestName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Validate names the first ingestor field that cannot work.
func (in Ingestor) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config ingestor.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	names := map[string]string{}
	name := func(field, n string) {
		if !ingestName.MatchString(n) {
			bad(field+".name", "%q: want letters, digits, '_', '.' and '-'", n)
			return
		}
		if other, dup := names[n]; dup {
			bad(field+".name", "%q is also the name of %s", n, other)
		}
		names[n] = field
	}
	for i, w := range in.Watchers {
		f := fmt.Sprintf("watchers[%d]", i)
		name(f, w.Name)
		switch w.Packages {
		case "objects", "directories":
		default:
			bad(f+".packages", "want objects or directories, got %q", w.Packages)
		}
		if strings.HasPrefix(w.Prefix, "/") {
			bad(f+".prefix", "%q: a key prefix of the source store, without a leading /", w.Prefix)
		}
		for _, g := range w.Include {
			if _, err := path.Match(g, ""); err != nil {
				bad(f+".include", "%q: %v", g, err)
			}
		}
		if strings.Contains(w.Marker, "/") {
			bad(f+".marker", "%q: a suffix or a name, without /", w.Marker)
		}
		if w.Settle != nil && *w.Settle < 0 {
			bad(f+".settle", "must not be negative")
		}
	}
	for i, h := range in.Harvesters {
		f := fmt.Sprintf("harvesters[%d]", i)
		name(f, h.Name)
		if (h.Catalog == "") == (h.Search == "") {
			bad(f, "give catalog (a static catalog) or search (a STAC API item search), one of them")
		}
		if h.Search != "" && !strings.HasPrefix(h.Search, "http://") && !strings.HasPrefix(h.Search, "https://") {
			bad(f+".search", "%q is not an http(s) URL", h.Search)
		}
		if n := len(h.BBox); n != 0 && n != 4 {
			bad(f+".bbox", "want [minlon, minlat, maxlon, maxlat], got %d numbers", n)
		}
		if h.Limit > 10000 {
			bad(f+".limit", "%d: at most 10000 items a page", h.Limit)
		}
	}
	return errors.Join(errs...)
}

// ResolveToken returns the endpoint's token, read from TokenFile when it
// is set. Only the ingestor calls it: the secret is mounted in its
// service alone.
func (in Ingestor) ResolveToken() (string, error) {
	if in.TokenFile == "" {
		return in.Token, nil
	}
	b, err := os.ReadFile(in.TokenFile)
	if err != nil {
		return "", fmt.Errorf("config ingestor.token_file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
