package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/registry"
)

func newEnqueueCmd(g *globals) *cobra.Command {
	var queueName string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "enqueue ITEM...",
		Short: "Push items onto a PVS queue (default preprocess_queue)",
		Long: `Push items onto a queue. For preprocess_queue an item is the object path of
a product package in the source store; for preprocess-md_queue a JSON
document {"path": ..., "identifier": ..., "begin_time": ..., "end_time": ...,
"footprint": GeoJSON}; for register_queue the prefix <collection>/<identifier>
of a preprocessed product; for seed_queue an interval start/end.

With --wait, pvs follows each item through the pipeline until it is
registered (or fails) and exits non-zero if any failed.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.connect("enqueue", false)
			if err != nil {
				return err
			}
			defer e.close()
			ctx := cmd.Context()
			if queueName == "preprocess-md_queue" {
				for _, a := range args {
					if !json.Valid([]byte(a)) {
						return fmt.Errorf("preprocess-md_queue items are JSON documents; %q is not", a)
					}
				}
			}
			for _, a := range args {
				if err := push(ctx, e.q, cmd.OutOrStdout(), queueName, a, "queued on"); err != nil {
					return err
				}
			}
			if wait <= 0 {
				return nil
			}
			ctx, cancel := context.WithTimeout(ctx, wait)
			defer cancel()
			failed := 0
			for _, a := range args {
				if !follow(ctx, e.q, cmd.OutOrStdout(), a) {
					failed++
				}
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d items did not make it through", failed, len(args))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&queueName, "queue", "q", "preprocess_queue", "queue to push onto")
	cmd.Flags().DurationVar(&wait, "wait", 0, "follow the items until registered or failed, at most this long")
	return cmd
}

// push enqueues item and says so; an item already queued or in flight in
// its stage is left alone (it runs once), and that is said too.
func push(ctx context.Context, q *queue.Client, w io.Writer, queueName, item, verb string) error {
	pushed, err := q.Push(ctx, queueName, item)
	if err != nil {
		return err
	}
	if !pushed {
		fmt.Fprintf(w, "already queued or in flight on %s, left as it is: %s\n", queueName, item)
		return nil
	}
	fmt.Fprintf(w, "%s %s: %s\n", verb, queueName, item)
	return nil
}

// follow waits for item's outcome in each stage it passes through and
// reports whether it ended well.
func follow(ctx context.Context, q *queue.Client, w io.Writer, item string) bool {
	stage := ""
	for {
		hs, err := q.History(ctx, item)
		if err != nil {
			fmt.Fprintf(w, "%s: %v\n", item, err)
			return false
		}
		var h *queue.History
		for i := range hs {
			if stage == "" || hs[i].Stage == stage {
				h = &hs[i]
				break
			}
		}
		if h != nil {
			switch h.Status {
			case queue.StatusFailure:
				fmt.Fprintf(w, "%s: %s failed: %s\n", item, h.Stage, h.Error)
				return false
			case queue.StatusSuccess:
				fmt.Fprintf(w, "%s: %s done: %s\n", item, h.Stage, h.Result)
				if h.Stage == queue.Preprocess.Name && h.Result != "" {
					item, stage = h.Result, queue.Register.Name
					continue
				}
				return true
			}
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(w, "%s: still not done: %v\n", item, ctx.Err())
			return false
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func newStatusCmd(g *globals) *cobra.Command {
	var asJSON, heldOnly bool
	cmd := &cobra.Command{
		Use:   "status [ITEM...]",
		Short: "Show queue lengths, set sizes and the items workers hold, or the history of items",
		Long: `Without arguments, print the length of every PVS queue and set, then every
item a worker holds (taken, not finished) and by whom, with how long ago the
worker last said it was alive. With --held, only the held items. With
items, print their history in every stage; with --json that is one JSON
array of histories (unknown items are named on stderr, never in it).

Exit status with items:
  0  every item is known and none failed (succeeded, queued, running or
     waiting for a retry)
  3  an item is unknown (never queued under this Redis prefix)
  4  an item failed in some stage (see its error; pvs retry queues it again)
  1  pvs itself failed (configuration, Redis unreachable)
With several items the highest of 3 and 4 wins.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.connect("status", false)
			if err != nil {
				return err
			}
			defer e.close()
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			if len(args) > 0 {
				return printHistories(ctx, e, out, cmd.ErrOrStderr(), args, asJSON)
			}
			if !heldOnly {
				if err := printCounts(ctx, e.q, out, asJSON); err != nil {
					return err
				}
			}
			if asJSON && !heldOnly {
				return nil // the counts alone, as before --held existed
			}
			if err := printHolders(ctx, e.q, out, asJSON, !heldOnly); err != nil || asJSON {
				return err
			}
			return printDegraded(ctx, e.q, out)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&heldOnly, "held", false, "only the items workers hold")
	return cmd
}

func printCounts(ctx context.Context, q *queue.Client, out io.Writer, asJSON bool) error {
	counts, err := q.Counts(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(out).Encode(counts)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tTYPE\tCOUNT")
	for _, c := range counts {
		fmt.Fprintf(tw, "%s\t%s\t%d\n", c.Key, c.Kind, c.Count)
	}
	return tw.Flush()
}

// printHolders lists the items in workers' processing lists. An item
// without a lease is one its worker will give back (a lost take reply, an
// outcome it could not record); a worker silent for long is dead and a
// reclaimer will give its items back.
func printHolders(ctx context.Context, q *queue.Client, out io.Writer, asJSON, blankLine bool) error {
	hs, err := q.Holders(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		if hs == nil {
			hs = []queue.Holding{}
		}
		return json.NewEncoder(out).Encode(hs)
	}
	if blankLine {
		fmt.Fprintln(out)
	}
	if len(hs) == 0 {
		fmt.Fprintln(out, "no item is held by a worker")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HELD ITEM\tSTAGE\tQUEUE\tWORKER\tATTEMPT\tSTARTED\tLAST HEARTBEAT")
	for _, h := range hs {
		beat := "never (not registered)"
		if h.Silent >= 0 {
			beat = h.Silent.Round(time.Millisecond).String() + " ago"
		}
		worker := h.Worker
		if !h.Leased {
			worker += " (no lease: being given back)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", h.Item, h.Stage, h.Queue, worker, h.Attempts, h.StartedAt, beat)
	}
	return tw.Flush()
}

// printDegraded lists the workers holding off new items under failure
// pressure, if any.
func printDegraded(ctx context.Context, q *queue.Client, out io.Writer) error {
	ds, err := q.DegradedWorkers(ctx)
	if err != nil || len(ds) == 0 {
		return err
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEGRADED WORKER	HOLDS FOR	WHY")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Worker, d.Left.Round(time.Second), d.Reason)
	}
	return tw.Flush()
}

// Exit codes of `pvs status ITEM...`, so that a script can tell an item
// that does not exist (a typo, another prefix) from one that failed without
// parsing the output. With several items the highest code wins.
const (
	exitUnknown = 3 // an item was never queued under this prefix
	exitFailed  = 4 // an item failed in some stage (it is in a failure set)
)

// exitError is an error that ends pvs with a code of its own instead of 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// ExitCode is the process's exit status for this error.
func (e *exitError) ExitCode() int { return e.code }

// printHistories prints the history of items in every stage. With asJSON
// stdout holds one JSON array and nothing else, whatever the items: the
// unknown ones are named on errOut and in the exit code.
func printHistories(ctx context.Context, e *env, out, errOut io.Writer, items []string, asJSON bool) error {
	var all []queue.History
	var unknown []string
	failed := 0
	for _, item := range items {
		hs, err := e.q.History(ctx, item)
		if err != nil {
			return err
		}
		if len(hs) == 0 {
			unknown = append(unknown, item)
			w := out
			if asJSON {
				w = errOut
			}
			fmt.Fprintf(w, "%s: unknown item (never queued under prefix %q)\n", item, e.cfg.Redis.Prefix)
			continue
		}
		if anyFailed(hs) {
			failed++
		}
		all = append(all, hs...)
		if !asJSON {
			for _, h := range hs {
				printHistory(out, h)
			}
		}
	}
	if asJSON {
		if all == nil {
			all = []queue.History{} // [] rather than null
		}
		if err := json.NewEncoder(out).Encode(all); err != nil {
			return err
		}
	}
	return historiesOutcome(len(unknown), failed)
}

func anyFailed(hs []queue.History) bool {
	for _, h := range hs {
		if h.Status == queue.StatusFailure {
			return true
		}
	}
	return false
}

// historiesOutcome turns what printHistories found into its exit: nil when
// every item is known and none failed.
func historiesOutcome(unknown, failed int) error {
	switch {
	case failed > 0:
		return &exitError{exitFailed, fmt.Errorf("%d item(s) failed", failed)}
	case unknown > 0:
		return &exitError{exitUnknown, fmt.Errorf("%d unknown item(s)", unknown)}
	}
	return nil
}

func printHistory(out io.Writer, h queue.History) {
	fmt.Fprintf(out, "item:      %s\nstage:     %s (%s)\nstatus:    %s\nattempts:  %d\n", h.Item, h.Stage, h.Queue, h.Status, h.Attempts)
	fmt.Fprintf(out, "enqueued:  %s\nstarted:   %s\nfinished:  %s\nworker:    %s\n", h.EnqueuedAt, h.StartedAt, h.FinishedAt, h.Worker)
	if h.Lease != "" {
		fmt.Fprintf(out, "held by:   %s (lease %s)\n", h.Worker, h.Lease)
	}
	if h.Status == queue.StatusRetrying && h.RetryAt != "" {
		fmt.Fprintf(out, "retry at:  %s\n", h.RetryAt)
	}
	if h.Result != "" {
		fmt.Fprintf(out, "result:    %s\n", h.Result)
	}
	if h.Error != "" {
		fmt.Fprintf(out, "error:     %s\n", h.Error)
	}
	fmt.Fprintln(out)
}

func newRetryCmd(g *globals) *cobra.Command {
	var stageName string
	cmd := &cobra.Command{
		Use:   "retry [ITEM...]",
		Short: "Queue failed items again (all of a stage's failure set without arguments)",
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.connect("retry", false)
			if err != nil {
				return err
			}
			defer e.close()
			var st *queue.Stage
			for _, s := range queue.Stages {
				if s.Name == stageName {
					st = &s
				}
			}
			if st == nil {
				return fmt.Errorf("unknown stage %q (want preprocess, register, seed or deregister)", stageName)
			}
			ctx := cmd.Context()
			items := args
			if len(items) == 0 {
				if items, err = e.q.Members(ctx, st.Failure); err != nil {
					return err
				}
			}
			for _, it := range items {
				hs, err := e.q.History(ctx, it)
				if err != nil {
					return err
				}
				queueName := st.Queues[0]
				for _, h := range hs {
					if h.Stage == st.Name && h.Queue != "" {
						queueName = h.Queue
					}
				}
				if err := push(ctx, e.q, cmd.OutOrStdout(), queueName, it, "queued again on"); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&stageName, "stage", "preprocess", "stage whose failures to retry: preprocess, register, seed or deregister")
	return cmd
}

func newMigrateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations embedded in this binary",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			reg, err := registry.Open(cmd.Context(), cfg.Database.URL)
			if err != nil {
				return err
			}
			defer reg.Close()
			applied, err := reg.Migrate(cmd.Context())
			if err != nil {
				return err
			}
			if err := reg.EnsureCollection(cmd.Context(), cfg.Collection.Name, cfg.Collection.Title, cfg.Collection.ProductTypeNames(), cfg.Collection.BrowseNames()); err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "database is up to date")
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "applied migrations %v\n", applied)
			}
			return nil
		},
	}
}

func newDeregisterCmd(g *globals) *cobra.Command {
	var keepObjects, viaQueue bool
	cmd := &cobra.Command{
		Use:   "deregister IDENTIFIER...",
		Short: "Remove products from the registry and their objects from the output store, and reseed",
		Long: `Remove products now, or with --queue hand them to the registrars through
deregister_queue. Either way the collection summary is updated, the product's
objects are deleted (unless --keep-objects or registrar.delete_objects is
false), the caches are told which tiles changed and the interval is reseeded.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.connect("deregister", false)
			if err != nil {
				return err
			}
			defer e.close()
			ctx := cmd.Context()
			if viaQueue {
				for _, id := range args {
					if err := push(ctx, e.q, cmd.OutOrStdout(), "deregister_queue", id, "queued on"); err != nil {
						return err
					}
				}
				return nil
			}
			r, reg, err := newRegistrar(ctx, e)
			if err != nil {
				return err
			}
			defer reg.Close()
			if keepObjects {
				r.DeleteObjects = false
			}
			var errs []error
			for _, id := range args {
				if _, err := r.Deregister(ctx, id); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deregistered %s\n", id)
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().BoolVar(&keepObjects, "keep-objects", false, "leave the product's COG and metadata in the output store")
	cmd.Flags().BoolVar(&viaQueue, "queue", false, "push onto deregister_queue instead of deregistering now")
	return cmd
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "pvs %s\n", version)
		},
	}
}
