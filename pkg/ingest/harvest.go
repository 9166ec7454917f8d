package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/store"
)

// Harvester turns the items of a STAC catalogue into preprocess-md_queue
// items: a static catalog (its root document a key of the source store or
// an http(s) URL, its children and items followed by their links) or the
// item search of a STAC API (paged by its "next" links). An item's asset
// must name a key of the source store; its id, geometry and times become
// the document's identifier, footprint and begin/end times, its platform,
// instruments, cloud cover and orbit the document's properties.
//
// The harvester's cursor, the Redis hash pvs:ingest:harvest:<name>, holds
// a digest of every item it handed over, so that an unchanged item costs
// no look-up in the ledger on the next pass.
type Harvester struct {
	Name string
	// Source is the store the preprocessor reads; a static catalog given
	// as a key is read from it.
	Source     store.Store
	SourceBase *url.URL // the store's root as a URL, to resolve relative hrefs
	Catalog    string   // key in Source, or http(s) URL
	Search     string   // STAC API item search URL
	Params     SearchParams
	Policy     itemPolicy
	// Collection is the collection served: a product type an item names
	// must be one of its types.
	Collection config.Collection
	Interval   time.Duration
	Ledger     *Ledger
	Client     *http.Client
	Owner      string
	// MaxDocuments bounds the documents one pass reads (a catalogue with
	// a loop, or far bigger than expected, ends the pass with an error).
	MaxDocuments int
	Concurrency  int
	Log          *slog.Logger
}

// SearchParams are the item search's filters.
type SearchParams struct {
	Collections []string
	BBox        []float64
	Datetime    string
	Limit       int
}

// HarvestResult tallies one pass.
type HarvestResult struct {
	Items    int // items read
	Pushed   int
	Skipped  int // left alone by the ledger or unchanged since the last pass
	Rejected int // items that cannot become a document (reasons logged)
	Foreign  int // items whose package is outside the source store
}

// maxDocumentBytes bounds one catalogue document.
const maxDocumentBytes = 32 << 20

func (h *Harvester) cursorKey() string { return h.Ledger.Q.Key("pvs:ingest:harvest:" + h.Name) }

// Run harvests every Interval until ctx ends.
func (h *Harvester) Run(ctx context.Context) error {
	l := &lease{q: h.Ledger.Q, key: h.Ledger.Q.Key("pvs:ingest:lock:harvest:" + h.Name), owner: h.Owner, ttl: 3*h.Interval + time.Minute}
	defer l.release(context.WithoutCancel(ctx))
	t := time.NewTicker(h.Interval)
	defer t.Stop()
	for {
		held, err := l.hold(ctx)
		if err == nil && held {
			var r HarvestResult
			r, err = h.Pass(ctx)
			if err == nil {
				h.Log.Info("harvest pass", "items", r.Items, "pushed", r.Pushed, "skipped", r.Skipped,
					"rejected", r.Rejected, "outside_source", r.Foreign)
			}
		}
		if err != nil && ctx.Err() == nil {
			h.Log.Warn("harvest pass failed; trying again next pass", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// found is an item and the location of the document that held it.
type found struct {
	item *stacDoc
	base *url.URL
}

// Pass reads the catalogue once and hands over the new items.
func (h *Harvester) Pass(ctx context.Context) (HarvestResult, error) {
	var items []found
	var err error
	if h.Search != "" {
		items, err = h.search(ctx)
	} else {
		items, err = h.walk(ctx)
	}
	if err != nil {
		return HarvestResult{}, fmt.Errorf("harvest %s: %w", h.Name, err)
	}
	res := HarvestResult{Items: len(items)}
	cursor, err := h.Ledger.Q.Redis().HGetAll(ctx, h.cursorKey()).Result()
	if err != nil {
		return res, fmt.Errorf("harvest %s: read cursor: %w", h.Name, err)
	}
	var reqs []Request
	digests := map[string]string{}
	present := make(map[string]bool, len(items))
	for _, f := range items {
		present[f.item.Collection+"/"+f.item.ID] = true
		d, err := h.Policy.document(f.item, f.base)
		if errors.Is(err, errNotInStore) {
			res.Foreign++
			h.Log.Debug("item skipped", "reason", err.Error())
			continue
		}
		if err == nil {
			err = d.Check(h.Collection)
		}
		if err != nil {
			res.Rejected++
			h.Log.Warn("item rejected", "item", f.item.ID, "reason", err.Error())
			continue
		}
		r := d.Request("harvest:" + h.Name)
		sum := sha256.Sum256([]byte(r.Item))
		digest := hex.EncodeToString(sum[:12])
		id := f.item.Collection + "/" + f.item.ID
		if cursor[id] == digest {
			res.Skipped++
			continue
		}
		r.Fingerprint = digest
		digests[r.Path] = id
		reqs = append(reqs, r)
	}
	// Items gone from the catalogue leave the cursor, which so stays the
	// size of the catalogue.
	var stale []string
	for id := range cursor {
		if !present[id] {
			stale = append(stale, id)
		}
	}
	if len(stale) > 0 {
		if err := h.Ledger.Q.Redis().HDel(ctx, h.cursorKey(), stale...).Err(); err != nil {
			return res, fmt.Errorf("harvest %s: prune cursor: %w", h.Name, err)
		}
	}
	if len(reqs) == 0 {
		return res, nil
	}
	answered := make(chan Request, len(reqs))
	feed := &Feed{Ledger: h.Ledger, Concurrency: h.Concurrency, Answer: func(r Request, o Outcome, err error) {
		if err == nil && !o.Contended {
			answered <- r
			if !o.Pushed {
				h.Log.Debug("item left alone", "path", r.Path, "reason", o.Reason)
			}
		}
	}}
	c, ferr := feed.Run(ctx, reqs)
	close(answered)
	fields := make([]any, 0, 2*len(reqs))
	for r := range answered {
		fields = append(fields, digests[r.Path], r.Fingerprint)
	}
	if len(fields) > 0 {
		if err := h.Ledger.Q.Redis().HSet(context.WithoutCancel(ctx), h.cursorKey(), fields...).Err(); err != nil {
			ferr = errors.Join(ferr, fmt.Errorf("advance cursor: %w", err))
		}
	}
	res.Pushed, res.Skipped = c.Pushed, res.Skipped+c.Skipped
	if ferr != nil {
		return res, fmt.Errorf("harvest %s: %w", h.Name, ferr)
	}
	return res, nil
}

// walk follows a static catalog from its root through its child and item
// links, and the features of item collections.
func (h *Harvester) walk(ctx context.Context) ([]found, error) {
	root, err := h.rootURL()
	if err != nil {
		return nil, err
	}
	maxDocs := h.MaxDocuments
	if maxDocs <= 0 {
		maxDocs = 1_000_000
	}
	var out []found
	visited := map[string]bool{}
	todo := []*url.URL{root}
	for len(todo) > 0 {
		u := todo[0]
		todo = todo[1:]
		if visited[u.String()] {
			continue
		}
		visited[u.String()] = true
		if len(visited) > maxDocs {
			return nil, fmt.Errorf("catalog %s: more than %d documents", root, maxDocs)
		}
		var d stacDoc
		if err := h.read(ctx, u, nil, &d); err != nil {
			return nil, err
		}
		if d.isItem() {
			out = append(out, found{item: &d, base: u})
			continue
		}
		for _, raw := range d.Features {
			var it stacDoc
			if json.Unmarshal(raw, &it) == nil && it.isItem() {
				out = append(out, found{item: &it, base: u})
			}
		}
		for _, l := range d.Links {
			if l.Rel != "child" && l.Rel != "item" {
				continue
			}
			v, err := resolve(u, l.Href)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", u, err)
			}
			todo = append(todo, v)
		}
	}
	return out, nil
}

// rootURL is the catalog's root document as a URL.
func (h *Harvester) rootURL() (*url.URL, error) {
	if strings.HasPrefix(h.Catalog, "http://") || strings.HasPrefix(h.Catalog, "https://") {
		return url.Parse(h.Catalog)
	}
	if err := CheckPath(h.Catalog); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return h.SourceBase.ResolveReference(&url.URL{Path: h.Catalog}), nil
}

// read fetches one JSON document: over HTTP, or from the source store
// when the URL lies in it.
func (h *Harvester) read(ctx context.Context, u *url.URL, body []byte, v any) error {
	var r io.ReadCloser
	switch u.Scheme {
	case "http", "https":
		method := http.MethodGet
		var rd io.Reader
		if body != nil {
			method, rd = http.MethodPost, bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "application/geo+json, application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := h.client().Do(req)
		if err != nil {
			return fmt.Errorf("read %s: %w", u, err)
		}
		if resp.StatusCode != http.StatusOK {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			return fmt.Errorf("read %s: %s: %s", u, resp.Status, strings.TrimSpace(string(msg)))
		}
		r = resp.Body
	default:
		key, ok := h.Policy.Hrefs.Key(u.String())
		if !ok {
			return fmt.Errorf("read %s: neither http(s) nor in the source store %s", u, h.Source.URL())
		}
		var err error
		if r, err = h.Source.Get(ctx, key); err != nil {
			return fmt.Errorf("read catalog document: %w", err)
		}
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxDocumentBytes+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", u, err)
	}
	if len(data) > maxDocumentBytes {
		return fmt.Errorf("read %s: over %d bytes", u, maxDocumentBytes)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("read %s: not JSON: %w", u, err)
	}
	return nil
}

func (h *Harvester) client() *http.Client {
	if h.Client != nil {
		return h.Client
	}
	return http.DefaultClient
}

// search pages through a STAC API item search.
func (h *Harvester) search(ctx context.Context) ([]found, error) {
	u, err := url.Parse(h.Search)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", h.Search, err)
	}
	q := u.Query()
	p := h.Params
	if len(p.Collections) > 0 {
		q.Set("collections", strings.Join(p.Collections, ","))
	}
	if len(p.BBox) == 4 {
		parts := make([]string, 4)
		for i, v := range p.BBox {
			parts[i] = strconv.FormatFloat(v, 'f', -1, 64)
		}
		q.Set("bbox", strings.Join(parts, ","))
	}
	if p.Datetime != "" {
		q.Set("datetime", p.Datetime)
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	u.RawQuery = q.Encode()
	maxPages := h.MaxDocuments
	if maxPages <= 0 {
		maxPages = 100_000
	}
	var out []found
	var body []byte
	seenPage := map[string]bool{}
	for page := 0; u != nil; page++ {
		if page >= maxPages {
			return nil, fmt.Errorf("search %s: more than %d pages", h.Search, maxPages)
		}
		pageKey := u.String() + string(body)
		if seenPage[pageKey] {
			break // a "next" link back to a page already read
		}
		seenPage[pageKey] = true
		var d stacDoc
		if err := h.read(ctx, u, body, &d); err != nil {
			return nil, err
		}
		for _, raw := range d.Features {
			var it stacDoc
			if json.Unmarshal(raw, &it) == nil && it.isItem() {
				out = append(out, found{item: &it, base: u})
			}
		}
		next := d.link("next")
		if next == nil || next.Href == "" || len(d.Features) == 0 {
			break
		}
		nu, err := resolve(u, next.Href)
		if err != nil {
			return nil, fmt.Errorf("search %s: %w", h.Search, err)
		}
		body = nil
		if strings.EqualFold(next.Method, http.MethodPost) {
			body = next.Body
			if body == nil {
				body = []byte("{}")
			}
		}
		u = nu
	}
	return out, nil
}
