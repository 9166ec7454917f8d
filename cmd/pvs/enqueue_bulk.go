package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/ingest"
)

// bulkFlags are the bulk feeds of `pvs enqueue`.
type bulkFlags struct {
	fromList string
	prefix   string
	include  []string
	force    bool
}

func (b *bulkFlags) active() bool { return b.fromList != "" || b.prefix != "" }

// addBulkEnqueue gives the enqueue command its bulk feeds: --from-list and
// --prefix replace the ITEM arguments, and push through the ingestor's
// ledger, so that a package already queued, in progress or registered is
// left alone unless --force.
func addBulkEnqueue(cmd *cobra.Command, g *globals) {
	b := &bulkFlags{}
	cmd.Flags().StringVar(&b.fromList, "from-list", "", "push the packages listed in FILE, one path or preprocess-md_queue JSON document a line ('-': standard input; blank lines and # comments skipped)")
	cmd.Flags().StringVar(&b.prefix, "prefix", "", "push every package under PREFIX of the source store")
	cmd.Flags().StringSliceVar(&b.include, "include", []string{"*.tar", "*.tar.gz", "*.tgz", "*.zip"}, "with --prefix: names of the objects that are packages ('*' for all)")
	cmd.Flags().BoolVar(&b.force, "force", false, "with --from-list or --prefix: push packages already queued, in progress or registered too")
	cmd.Example = strings.TrimPrefix(cmd.Example+`
  pvs enqueue --from-list packages.txt
  pvs enqueue --prefix incoming/2018/ --include '*.zip'
  find . -name '*.tar' | pvs enqueue --from-list -`, "\n")
	args, run := cmd.Args, cmd.RunE
	cmd.Args = func(c *cobra.Command, a []string) error {
		if !b.active() {
			return args(c, a)
		}
		if len(a) > 0 {
			return errors.New("give ITEM arguments, or --from-list / --prefix, not both")
		}
		if b.fromList != "" && b.prefix != "" {
			return errors.New("give --from-list or --prefix, not both")
		}
		return nil
	}
	cmd.RunE = func(c *cobra.Command, a []string) error {
		if !b.active() {
			return run(c, a)
		}
		if w, _ := c.Flags().GetDuration("wait"); w > 0 {
			return errors.New("--wait follows ITEM arguments; for a bulk feed follow the pipeline with pvs status")
		}
		queueName, _ := c.Flags().GetString("queue")
		return runBulkEnqueue(c, g, queueName, b)
	}
}

// runBulkEnqueue reads the feed, checks all of it, then pushes it with a
// progress line on stderr and a summary on stdout.
func runBulkEnqueue(cmd *cobra.Command, g *globals, queueName string, b *bulkFlags) error {
	if queueName != ingest.PackageQueue && queueName != ingest.MetadataQueue {
		return fmt.Errorf("--from-list and --prefix feed the preprocessor: -q %s or %s, not %s", ingest.PackageQueue, ingest.MetadataQueue, queueName)
	}
	e, err := g.connect("enqueue", false)
	if err != nil {
		return err
	}
	defer e.close()
	ctx := cmd.Context()
	var reqs []ingest.Request
	if b.fromList != "" {
		if reqs, err = readFeedList(cmd.InOrStdin(), b.fromList, e.cfg.Collection); err != nil {
			return err
		}
	} else {
		src, err := openStore(e.cfg, e.cfg.Storage.Source)
		if err != nil {
			return err
		}
		objs, err := src.List(ctx, b.prefix)
		if err != nil {
			return err
		}
		for _, p := range (ingest.Layout{Prefix: b.prefix, Include: b.include}).Packages(objs) {
			reqs = append(reqs, ingest.PathRequest(p.Path, "enqueue"))
		}
		if len(reqs) == 0 {
			return fmt.Errorf("no package under %s%s matching %s", src.URL(), b.prefix, strings.Join(b.include, ", "))
		}
	}
	for i := range reqs {
		reqs[i].Force = b.force
	}
	bar := newFeedProgress(cmd.ErrOrStderr())
	start := time.Now()
	feed := &ingest.Feed{Ledger: ingest.NewLedger(e.q), Concurrency: e.cfg.Ingestor.Concurrency, Progress: bar.update}
	c, err := feed.Run(ctx, reqs)
	bar.finish(c)
	el := time.Since(start)
	fmt.Fprintf(cmd.OutOrStdout(), "%d packages: %d queued, %d left alone (already queued, in progress or registered), %d failed, in %.1fs (%.0f packages/s)\n",
		c.Total, c.Pushed, c.Skipped, c.Failed, el.Seconds(), float64(c.Done)/max(el.Seconds(), 1e-9))
	return err
}

// readFeedList reads a list of packages: a path, or a preprocess-md_queue
// document, per line. Every bad line is named before anything is pushed.
func readFeedList(stdin io.Reader, name string, coll config.Collection) ([]ingest.Request, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("--from-list: %w", err)
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 2<<20)
	var reqs []ingest.Request
	var bad []string
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var d ingest.Document
		var err error
		if strings.HasPrefix(line, "{") {
			d, err = ingest.ParseDocument([]byte(line))
		} else {
			d = ingest.Document{Path: line}
		}
		if err == nil {
			err = d.Check(coll)
		}
		if err != nil {
			if len(bad) < 20 {
				bad = append(bad, fmt.Sprintf("%s:%d: %v", name, n, err))
			}
			continue
		}
		reqs = append(reqs, d.Request("enqueue"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--from-list %s: %w", name, err)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("--from-list: nothing pushed, fix these lines first:\n  %s", strings.Join(bad, "\n  "))
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("--from-list %s: no package listed", name)
	}
	return reqs, nil
}

// feedProgress is the progress line of a bulk feed: redrawn in place at
// most 5 times a second on a terminal, one line every 5 seconds in a log.
// It is not the seeder's bar: it counts packages queued and left alone
// beside the done/total, and a log file gets lines, not carriage returns.
type feedProgress struct {
	w        io.Writer
	terminal bool
	mu       sync.Mutex
	start    time.Time
	last     time.Time
	drawn    bool
}

func newFeedProgress(w io.Writer) *feedProgress {
	p := &feedProgress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *feedProgress) update(c ingest.Counts) {
	p.mu.Lock()
	defer p.mu.Unlock()
	every := 5 * time.Second
	if p.terminal {
		every = 200 * time.Millisecond
	}
	if time.Since(p.last) < every {
		return
	}
	p.last = time.Now()
	p.draw(c)
}

func (p *feedProgress) draw(c ingest.Counts) {
	el := time.Since(p.start).Seconds()
	rate := float64(c.Done) / max(el, 1e-9)
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(c.Total-c.Done)/rate) * time.Second).Round(time.Second).String()
	}
	const width = 30
	fill := 0
	if c.Total > 0 {
		fill = width * c.Done / c.Total
	}
	line := fmt.Sprintf("[%s%s] %d/%d packages  %d queued  %d left alone  %d failed  %.0f/s  ETA %s",
		strings.Repeat("#", fill), strings.Repeat(".", width-fill), c.Done, c.Total, c.Pushed, c.Skipped, c.Failed, rate, eta)
	if p.terminal {
		fmt.Fprintf(p.w, "\r%s   ", line)
		p.drawn = true
	} else {
		fmt.Fprintln(p.w, line)
	}
}

// finish draws the final state and ends the line.
func (p *feedProgress) finish(c ingest.Counts) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw(c)
	if p.terminal && p.drawn {
		fmt.Fprintln(p.w)
	}
}
