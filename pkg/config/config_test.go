package config

import (
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestExpand(t *testing.T) {
	lookup := env(map[string]string{"A": "1", "EMPTY": ""})
	for in, want := range map[string]string{
		"${A}":          "1",
		"x${A}y":        "x1y",
		"${B:-def}":     "def",
		"${EMPTY:-def}": "def",
		"${A:-def}":     "1",
		"${B}":          "",
		"$A and ${A}":   "$A and 1",
		"${B:-a:b/c}":   "a:b/c",
		"no references": "no references",
	} {
		if got := Expand(in, lookup); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShippedConfigsLoad(t *testing.T) {
	for _, name := range []string{"vhr18.yaml", "emg.yaml"} {
		raw, err := os.ReadFile("../../config/" + name)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Parse(raw, env(map[string]string{"REDIS_URL": "redis://r:1/2", "S3_SECRET_KEY": "s3cr3t"}))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Redis.URL != "redis://r:1/2" || c.S3.SecretKey != "s3cr3t" {
			t.Errorf("%s: environment overrides not applied: %+v %+v", name, c.Redis, c.S3.Endpoint)
		}
		// The seeder draws one block more than there are CPUs, unless set.
		if want := runtime.GOMAXPROCS(0) + 1; c.Seeder.Concurrency != want {
			t.Errorf("%s: seeder concurrency %d, want the default %d", name, c.Seeder.Concurrency, want)
		}
	}
}

func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/key", []byte("AKIA\n"), 0o600)
	raw := []byte("collection: {name: C, product_types: [{name: T}]}\ns3: {access_key_file: " + dir + "/key}\n")
	c, err := Parse(raw, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.S3.AccessKey != "AKIA" {
		t.Errorf("access key = %q", c.S3.AccessKey)
	}
	os.WriteFile(dir+"/pw", []byte("p@ss:word\n"), 0o600)
	raw = []byte("collection: {name: C, product_types: [{name: T}]}\ndatabase: {url: 'postgres://pvs@db:5432/pvs', password_file: " + dir + "/pw}\n")
	c, err = Parse(raw, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.URL != "postgres://pvs:p%40ss%3Aword@db:5432/pvs" {
		t.Errorf("database URL = %q", c.Database.URL)
	}
	if r := Redact(c.Database.URL); strings.Contains(r, "word") {
		t.Errorf("redacted URL still shows the password: %s", r)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	for yaml, field := range map[string]string{
		"collection: {name: '9bad', product_types: [{name: T}]}":                                                               "collection.name",
		"collection: {name: A__B, product_types: [{name: T}]}":                                                                 "collection.name",
		"collection: {name: C}":                                                                                                "collection.product_types",
		"collection: {name: C, product_types: [{name: T}, {name: T}]}":                                                         "collection.product_types[1].name",
		"collection: {name: C, product_types: [{name: T}], browses: [{name: X, bands: [1, 2]}]}":                               "collection.browses[0].bands",
		"collection: {name: C, product_types: [{name: T}], browses: [{name: X, bands: [0]}]}":                                  "collection.browses[0].bands",
		"collection: {name: C, product_types: [{name: T}], browses: [{name: X, bands: [1], range: [5, 1]}]}":                   "collection.browses[0].range",
		"collection: {name: C, product_types: [{name: T}], browses: [{name: X, expression: '(B4-B3)/(B4+', range: [-1, 1]}]}":  "collection.browses[0].expression",
		"collection: {name: C, product_types: [{name: T}], browses: [{name: X, expression: '(B4-B3)/(B4+B3)'}]}":               "collection.browses[0].range",
		"collection: {name: C, product_types: [{name: T}], browses: [{name: X, expression: 'B1', bands: [1], range: [0, 1]}]}": "collection.browses[0].bands",
		"collection: {name: C, product_types: [{name: T}], browses: [{name: X, bands: [1], resampling: lanczos9}]}":            "collection.browses[0].resampling",
		"collection: {name: C, product_types: [{name: T}]}\nseeder: {min_zoom: 5, max_zoom: 3}":                                "seeder.min_zoom",
		"collection: {name: C, product_types: [{name: T}]}\ncache: {format: gif}":                                              "cache.format",
		"collection: {name: C, product_types: [{name: T}]}\nrenderer: {max_size: 1024}":                                        "seeder.metatile",
		"collection: {name: C, product_types: [{name: T}]}\npreprocessor: {cog: {blocksize: 100}}":                             "preprocessor.cog.blocksize",
		"collection: {name: C, product_types: [{name: T}]}\nunknown_key: 1":                                                    "unknown_key",
	} {
		_, err := Parse([]byte(yaml), env(nil))
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%q: error %v does not name %s", yaml, err, field)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://pvs:secret@db:5432/pvs": "postgres://pvs:xxxxx@db:5432/pvs",
		"redis://:pw@r:6379/0":              "redis://:xxxxx@r:6379/0",
		"redis://r:6379/0":                  "redis://r:6379/0",
		"postgres://user@db/pvs":            "postgres://user@db/pvs",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedisPassword(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/redis-pw", []byte("fr0m/f:le@\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const base = "collection: {name: C, product_types: [{name: T}]}\n"
	for _, c := range []struct {
		name, yaml string
		env        map[string]string
		want       string
	}{
		{"no password", base + "redis: {url: 'redis://r:6379/0'}", nil, "redis://r:6379/0"},
		{"from env", base + "redis: {url: 'redis://r:6379/0'}", map[string]string{"REDIS_PASSWORD": "s3cret"}, "redis://:s3cret@r:6379/0"},
		{"env replaces the URL's", base + "redis: {url: 'redis://:old@r:6379/0'}", map[string]string{"REDIS_PASSWORD": "new"}, "redis://:new@r:6379/0"},
		{"keeps the ACL user", base + "redis: {url: 'redis://pvs:old@r:6379/0'}", map[string]string{"REDIS_PASSWORD": "new"}, "redis://pvs:new@r:6379/0"},
		{"file from env", base + "redis: {url: 'redis://r:6379/0'}", map[string]string{"REDIS_PASSWORD_FILE": dir + "/redis-pw"}, "redis://:fr0m%2Ff%3Ale%40@r:6379/0"},
		{"file wins over env", base + "redis: {url: 'redis://r:6379/0'}",
			map[string]string{"REDIS_PASSWORD": "plain", "REDIS_PASSWORD_FILE": dir + "/redis-pw"}, "redis://:fr0m%2Ff%3Ale%40@r:6379/0"},
		{"file from yaml", base + "redis: {url: 'redis://r:6379/0', password_file: " + dir + "/redis-pw}", nil, "redis://:fr0m%2Ff%3Ale%40@r:6379/0"},
		{"default URL", base, map[string]string{"REDIS_PASSWORD": "pw"}, "redis://:pw@127.0.0.1:6379/0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse([]byte(c.yaml), env(c.env))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Redis.URL != c.want {
				t.Errorf("redis URL = %q, want %q", cfg.Redis.URL, c.want)
			}
			r := Redact(cfg.Redis.URL)
			if pw := cfg.Redis.Password; pw != "" && (!strings.Contains(r, ":xxxxx@") || strings.Contains(r, url.PathEscape(pw)) || strings.Contains(r, "fr0m")) {
				t.Errorf("redacted URL %s still shows the password", r)
			}
		})
	}
}

func TestRedisPasswordFileMissing(t *testing.T) {
	t.Parallel()
	raw := []byte("collection: {name: C, product_types: [{name: T}]}\n")
	_, err := Parse(raw, env(map[string]string{"REDIS_PASSWORD_FILE": "/nonexistent/redis-pw"}))
	if err == nil || !strings.Contains(err.Error(), "redis.password_file") {
		t.Errorf("error %v does not name redis.password_file", err)
	}
}

func TestPreprocessorLimits(t *testing.T) {
	t.Parallel()
	const base = "collection: {name: C, product_types: [{name: T}]}\n"
	defaults := PreprocessorLimits{DownloadBytes: 16 << 30, UnpackedBytes: 64 << 30, ExpansionRatio: 50, Entries: 100000,
		RasterSide: 100000, RasterSamples: 4e10, XMLBytes: 16 << 20, XMLDepth: 256}
	for _, c := range []struct {
		name, yaml  string
		want        PreprocessorLimits
		wantPackage int64 // max_package_bytes after defaults
	}{
		{"defaults", base, defaults, 64 << 30},
		{"max_package_bytes is the unpacked cap", base + "preprocessor: {max_package_bytes: 1000}",
			with(defaults, func(l *PreprocessorLimits) { l.UnpackedBytes = 1000 }), 1000},
		{"unpacked_bytes sets max_package_bytes", base + "preprocessor: {limits: {unpacked_bytes: 2000}}",
			with(defaults, func(l *PreprocessorLimits) { l.UnpackedBytes = 2000 }), 2000},
		{"each key", base + "preprocessor: {limits: {download_bytes: 1, expansion_ratio: 2.5, entries: 3, raster_side: 4, raster_samples: 5, xml_bytes: 6, xml_depth: 70}}",
			with(defaults, func(l *PreprocessorLimits) {
				*l = PreprocessorLimits{DownloadBytes: 1, UnpackedBytes: 64 << 30, ExpansionRatio: 2.5, Entries: 3, RasterSide: 4, RasterSamples: 5, XMLBytes: 6, XMLDepth: 70}
			}), 64 << 30},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse([]byte(c.yaml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Preprocessor.Limits != c.want || cfg.Preprocessor.MaxPackageBytes != c.wantPackage {
				t.Errorf("limits %+v, max_package_bytes %d; want %+v, %d", cfg.Preprocessor.Limits, cfg.Preprocessor.MaxPackageBytes, c.want, c.wantPackage)
			}
		})
	}
}

func TestPreprocessorLimitsValidate(t *testing.T) {
	t.Parallel()
	for limits, field := range map[string]string{
		"{download_bytes: -1}":                        "preprocessor.limits.download_bytes",
		"{expansion_ratio: 0.5}":                      "preprocessor.limits.expansion_ratio",
		"{xml_depth: 3}":                              "preprocessor.limits.xml_depth",
		"{raster_samples: -5}":                        "preprocessor.limits.raster_samples",
		"{unpacked_bytes: 20}, max_package_bytes: 10": "preprocessor.limits.unpacked_bytes",
		"{entries: -1, raster_side: -1}":              "preprocessor.limits.raster_side",
		"{xml_bytes: -1}":                             "preprocessor.limits.xml_bytes",
	} {
		yaml := "collection: {name: C, product_types: [{name: T}]}\npreprocessor: {limits: " + limits + "}"
		_, err := Parse([]byte(yaml), env(nil))
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%q: error %v does not name %s", limits, err, field)
		}
	}
}

func with(l PreprocessorLimits, f func(*PreprocessorLimits)) PreprocessorLimits {
	f(&l)
	return l
}

func TestAcceptsNamesBothSides(t *testing.T) {
	t.Parallel()
	vhr := Collection{Name: "VHR_IMAGE_2018", ProductTypes: []ProductType{{Name: "VHR_OPTICAL"}, {Name: "PHR_FUS__2A"}}}
	cases := []struct {
		name, collection, parent, productType string
		want                                  string // "" accepted
	}{
		{"listed type, own collection", "VHR_IMAGE_2018", "VHR_IMAGE_2018", "PHR_FUS__2A", ""},
		{"listed type, no collection named", "", "", "VHR_OPTICAL", ""},
		{"unlisted type", "", "", "DM02_RGB_1B",
			`product X has product type "DM02_RGB_1B", which collection VHR_IMAGE_2018 does not list (it lists VHR_OPTICAL, PHR_FUS__2A)`},
		{"another collection", "Emergency", "Emergency/DM02_RGB_1B", "DM02_RGB_1B",
			"product X belongs to collection Emergency (eop:parentIdentifier Emergency/DM02_RGB_1B), not VHR_IMAGE_2018"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := vhr.Accepts("X", c.collection, c.parent, c.productType)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)):
				t.Errorf("error %v, want it to start %q", err, c.want)
			}
		})
	}
}

func TestProductTypeBrowses(t *testing.T) {
	c := Collection{Name: "C", Browses: []Browse{
		{Name: "TRUE_COLOR", Bands: []int{1, 2, 3}, Resampling: "nearest"},
		{Name: "NDVI", Expression: "(B4-B1)/(B4+B1)", Range: []float64{-1, 1}, Resampling: "nearest"},
	}, ProductTypes: []ProductType{
		{Name: "MS", Browses: []Browse{{Name: "TRUE_COLOR", Bands: []int{3, 2, 1}, Range: []float64{0, 4095}},
			{Name: "NDVI", Expression: "(B4-B3)/(B4+B3)"}}},
		{Name: "PAN", Browses: []Browse{{Name: "TRUE_COLOR", Bands: []int{1}}}},
		{Name: "RGB"},
	}}
	b, ok := c.BrowseFor("MS", "TRUE_COLOR")
	if !ok || !slices.Equal(b.Bands, []int{3, 2, 1}) || !slices.Equal(b.Range, []float64{0, 4095}) || b.Resampling != "nearest" {
		t.Errorf("MS TRUE_COLOR = %+v", b)
	}
	if b, _ := c.BrowseFor("MS", "NDVI"); b.Expression != "(B4-B3)/(B4+B3)" || b.Bands != nil || !slices.Equal(b.Range, []float64{-1, 1}) {
		t.Errorf("MS NDVI = %+v", b)
	}
	if b, _ := c.BrowseFor("RGB", "TRUE_COLOR"); !slices.Equal(b.Bands, []int{1, 2, 3}) || b.Range != nil {
		t.Errorf("RGB TRUE_COLOR = %+v", b)
	}
	if _, ok := c.BrowseFor("MS", "NOPE"); ok {
		t.Error("an unknown browse was found")
	}
	tb := c.TypeBrowses("TRUE_COLOR")
	if len(tb) != 2 || !slices.Equal(tb["PAN"].Bands, []int{1}) {
		t.Errorf("TypeBrowses = %+v", tb)
	}
	var errs []string
	bad := func(field, format string, args ...any) { errs = append(errs, field) }
	c.ProductTypes[2].Browses = []Browse{{Name: "FALSE_COLOR", Bands: []int{4, 3, 2}}, {Name: "TRUE_COLOR", Bands: []int{1, 2}}}
	c.validateTypeBrowses(bad)
	if !slices.Equal(errs, []string{"collection.product_types[2].browses[0].name", "collection.product_types[2].browses[1].bands"}) {
		t.Errorf("validation errors = %v", errs)
	}
}
