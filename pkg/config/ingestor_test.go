package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const ingestBase = `collection: {name: C, product_types: [{name: T}]}
`

func TestIngestorDefaults(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(ingestBase+`ingestor:
  watchers:
    - {name: incoming, prefix: incoming/}
    - {name: safe, prefix: safe/, packages: directories, marker: manifest.safe, settle: 0s}
  harvesters:
    - {name: cat, catalog: stac/catalog.json}
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	in := c.Ingestor
	w, d, h := in.Watchers[0], in.Watchers[1], in.Harvesters[0]
	if in.MaxBodyBytes != 1<<20 || !*in.CheckExists || in.Concurrency != 16 {
		t.Errorf("ingestor defaults: %+v", in)
	}
	if w.Packages != "objects" || strings.Join(w.Include, ",") != "*.tar,*.tar.gz,*.tgz,*.zip" || *w.Settle != 15*time.Second || w.Interval != 30*time.Second || w.Depth != 1 {
		t.Errorf("watcher defaults: %+v", w)
	}
	if len(d.Include) != 0 || *d.Settle != 0 {
		t.Errorf("directory watcher: %+v (no include globs, an explicit settle of 0 kept)", d)
	}
	if h.Limit != 100 || h.Interval != 10*time.Minute {
		t.Errorf("harvester defaults: %+v", h)
	}
	// No ingestor section: nothing to run, nothing refused.
	c, err = Parse([]byte(ingestBase), env(nil))
	if err != nil || len(c.Ingestor.Watchers) != 0 || c.Ingestor.Listen != "" {
		t.Errorf("no ingestor section: %+v, %v", c.Ingestor, err)
	}
}

func TestIngestorValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ yaml, want string }{
		{`watchers: [{name: "a b", prefix: x/}]`, `ingestor.watchers[0].name: "a b"`},
		{`watchers: [{name: a, prefix: x/}, {name: a, prefix: y/}]`, `ingestor.watchers[1].name: "a" is also the name of watchers[0]`},
		{`watchers: [{name: a, prefix: /abs}]`, "ingestor.watchers[0].prefix"},
		{`watchers: [{name: a, packages: files}]`, "ingestor.watchers[0].packages: want objects or directories"},
		{`watchers: [{name: a, include: ["[x"]}]`, "ingestor.watchers[0].include"},
		{`watchers: [{name: a, marker: a/b}]`, "ingestor.watchers[0].marker"},
		{`watchers: [{name: a, settle: -1s}]`, "ingestor.watchers[0].settle"},
		{`harvesters: [{name: h}]`, "ingestor.harvesters[0]: give catalog"},
		{`harvesters: [{name: h, catalog: c.json, search: "http://x/search"}]`, "ingestor.harvesters[0]: give catalog"},
		{`harvesters: [{name: h, search: "ftp://x/search"}]`, "ingestor.harvesters[0].search"},
		{`harvesters: [{name: h, catalog: c.json, bbox: [1, 2]}]`, "ingestor.harvesters[0].bbox"},
	} {
		_, err := Parse([]byte(ingestBase+"ingestor:\n  "+tc.yaml+"\n"), env(nil))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q", tc.yaml, err, tc.want)
		}
	}
}

// The token comes from the file only when the ingestor asks: the other
// daemons load the same configuration without the secret mounted.
func TestIngestorToken(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("from-the-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]byte(ingestBase+"ingestor: {token_file: /run/secrets/missing}\n"), env(nil))
	if err != nil {
		t.Fatalf("a daemon without the secret: %v", err)
	}
	if _, err := c.Ingestor.ResolveToken(); err == nil || !strings.Contains(err.Error(), "ingestor.token_file") {
		t.Errorf("missing secret: %v", err)
	}
	c, err = Parse([]byte(ingestBase+"ingestor: {token: from-the-file}\n"), env(map[string]string{"PVS_INGESTOR_TOKEN_FILE": file}))
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := c.Ingestor.ResolveToken(); err != nil || tok != "from-the-secret" {
		t.Errorf("token from PVS_INGESTOR_TOKEN_FILE: %q, %v", tok, err)
	}
	c, _ = Parse([]byte(ingestBase), env(map[string]string{"PVS_INGESTOR_TOKEN": "from-env"}))
	if tok, _ := c.Ingestor.ResolveToken(); tok != "from-env" {
		t.Errorf("token from PVS_INGESTOR_TOKEN: %q", tok)
	}
}
