package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/store"
)

// Ingestor is the set of watchers and harvesters of one deployment.
type Ingestor struct {
	Watchers   []*Watcher
	Harvesters []*Harvester
}

// Options are what New needs beside the configuration.
type Options struct {
	Ledger *Ledger
	// Source is the store the preprocessor reads, at location
	// SourceLocation (storage.source).
	Source         store.Store
	SourceLocation string
	// Owner names this replica in the leases of watchers and harvesters.
	Owner  string
	Client *http.Client
	Log    *slog.Logger
}

// SourceHrefs are the href prefixes that name the root of the store at
// location: s3:// and /vsis3/ for a bucket, file:// and the absolute path
// for a folder.
func SourceHrefs(location string) (Hrefs, *url.URL, error) {
	loc, err := store.ParseLocation(location)
	if err != nil {
		return Hrefs{}, nil, err
	}
	switch loc.Scheme {
	case "s3":
		p := loc.Bucket + "/"
		if loc.Prefix != "" {
			p += strings.Trim(loc.Prefix, "/") + "/"
		}
		base := &url.URL{Scheme: "s3", Host: loc.Bucket, Path: "/" + strings.TrimPrefix(p, loc.Bucket+"/")}
		return Hrefs{Prefixes: []string{"s3://" + p, "/vsis3/" + p}}, base, nil
	default:
		abs, err := filepath.Abs(loc.Path)
		if err != nil {
			return Hrefs{}, nil, err
		}
		abs = filepath.ToSlash(abs) + "/"
		base := &url.URL{Scheme: "file", Path: abs}
		return Hrefs{Prefixes: []string{base.String(), "file://" + abs, abs}}, base, nil
	}
}

// New builds the watchers and harvesters of cfg.Ingestor.
func New(cfg *config.Config, o Options) (*Ingestor, error) {
	in := cfg.Ingestor
	hrefs, base, err := SourceHrefs(o.SourceLocation)
	if err != nil {
		return nil, err
	}
	out := &Ingestor{}
	for _, wc := range in.Watchers {
		settle := time.Duration(0)
		if wc.Settle != nil {
			settle = *wc.Settle
		}
		out.Watchers = append(out.Watchers, &Watcher{Name: wc.Name, Source: o.Source,
			Layout: Layout{Prefix: wc.Prefix, Directories: wc.Packages == "directories", Depth: wc.Depth, Include: wc.Include, Marker: wc.Marker},
			Settle: settle, Interval: wc.Interval, Ledger: o.Ledger, Owner: o.Owner, Concurrency: in.Concurrency,
			Log: o.Log.With("watcher", wc.Name)})
	}
	for _, hc := range in.Harvesters {
		h := hrefs
		h.Prefixes = append(append([]string(nil), h.Prefixes...), hc.HrefPrefixes...)
		out.Harvesters = append(out.Harvesters, &Harvester{Name: hc.Name, Source: o.Source, SourceBase: base,
			Catalog: hc.Catalog, Search: hc.Search,
			Params: SearchParams{Collections: hc.Collections, BBox: hc.BBox, Datetime: hc.Datetime, Limit: hc.Limit},
			Policy: itemPolicy{Asset: hc.Asset, ProductType: hc.ProductType, Hrefs: h}, Collection: cfg.Collection,
			Interval: hc.Interval, Ledger: o.Ledger, Client: o.Client, Owner: o.Owner, Concurrency: in.Concurrency,
			Log: o.Log.With("harvester", hc.Name)})
	}
	return out, nil
}

// Run runs every watcher and harvester until ctx ends.
func (in *Ingestor) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, w := range in.Watchers {
		wg.Go(func() { w.Run(ctx) })
	}
	for _, h := range in.Harvesters {
		wg.Go(func() { h.Run(ctx) })
	}
	wg.Wait()
	return nil
}

// String names the loops, for the start-up log line.
func (in *Ingestor) String() string {
	var parts []string
	for _, w := range in.Watchers {
		parts = append(parts, fmt.Sprintf("watch %s every %s", w.Source.URL()+w.Layout.Prefix, w.Interval))
	}
	for _, h := range in.Harvesters {
		src := h.Catalog
		if h.Search != "" {
			src = h.Search
		}
		parts = append(parts, fmt.Sprintf("harvest %s every %s", src, h.Interval))
	}
	return strings.Join(parts, "; ")
}
