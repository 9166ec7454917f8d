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

	"github.com/pvs/pvs/pkg/ops"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/registry"
)

// The operator verbs live in pkg/ops, shared with the management API
// (pvs admin); the commands here turn flags into requests and print.

// operations returns the verbs on e's queues; deregistration and seeding
// now are added by the commands that open what they need.
func operations(e *env) *ops.Ops {
	return &ops.Ops{Queue: e.q, Prefix: e.cfg.Redis.Prefix}
}

// flagError names the flag of an invalid request the way the command line
// spells it: flags maps the request's fields to flags ("" for arguments).
func flagError(err error, flags map[string]string) error {
	var ie *ops.InputError
	if !errors.As(err, &ie) {
		return err
	}
	flag, ok := flags[ie.Field]
	switch {
	case !ok:
		return err
	case flag == "":
		return errors.New(ie.Msg)
	}
	return fmt.Errorf("--%s: %s", flag, ie.Msg)
}

func newEnqueueCmd(g *globals) *cobra.Command {
	var queueName string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "enqueue [ITEM...]",
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
			return enqueue(cmd.Context(), operations(e), cmd.OutOrStdout(), queueName, args, wait)
		},
	}
	cmd.Flags().StringVarP(&queueName, "queue", "q", "preprocess_queue", "queue to push onto")
	cmd.Flags().DurationVar(&wait, "wait", 0, "follow the items until registered or failed, at most this long")
	addBulkEnqueue(cmd, g)
	return cmd
}

// enqueue pushes items onto queueName, saying what became of each, and
// with wait > 0 follows them through the pipeline. Items may come from the
// arguments or from anywhere else a flag names.
func enqueue(ctx context.Context, o *ops.Ops, out io.Writer, queueName string, items []string, wait time.Duration) error {
	pushed, err := o.Enqueue(ctx, queueName, items)
	ops.PrintPushed(out, pushed, "queued on")
	if err != nil {
		return flagError(err, map[string]string{"queue": "queue", "items": ""})
	}
	if wait <= 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	failed := 0
	for _, it := range items {
		if !o.Follow(ctx, out, it) {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d items did not make it through", failed, len(items))
	}
	return nil
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
	counts, err := (&ops.Ops{Queue: q}).Counts(ctx)
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
	hs, err := (&ops.Ops{Queue: q}).Holders(ctx)
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
	ds, err := (&ops.Ops{Queue: q}).Degraded(ctx)
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

// Exit codes of `pvs status ITEM...` (see ops.ExitUnknown).
const (
	exitUnknown = ops.ExitUnknown
	exitFailed  = ops.ExitFailed
)

// printHistories prints the history of items in every stage. With asJSON
// stdout holds one JSON array and nothing else, whatever the items: the
// unknown ones are named on errOut and in the exit code.
func printHistories(ctx context.Context, e *env, out, errOut io.Writer, items []string, asJSON bool) error {
	r, err := operations(e).Histories(ctx, items)
	if err != nil {
		return err
	}
	all := []queue.History{} // [] rather than null
	for _, it := range r.Items {
		if len(it.Histories) == 0 {
			w := out
			if asJSON {
				w = errOut
			}
			fmt.Fprintf(w, "%s: unknown item (never queued under prefix %q)\n", it.Item, e.cfg.Redis.Prefix)
			continue
		}
		all = append(all, it.Histories...)
		if !asJSON {
			for _, h := range it.Histories {
				printHistory(out, h)
			}
		}
	}
	if asJSON {
		if err := json.NewEncoder(out).Encode(all); err != nil {
			return err
		}
	}
	return r.Err()
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
	var stageName, match string
	cmd := &cobra.Command{
		Use:   "retry [ITEM...]",
		Short: "Queue failed items again (all of a stage's failure set without arguments)",
		Long: `Queue items of a stage again, on the queue each came from: the items named,
else every item of the stage's failure set, or with --match those whose
name matches the pattern (* matches any run of characters, slashes
included; ? any one character).

  pvs retry --stage register
  pvs retry --stage preprocess --match 'incoming/2018-06/*'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.connect("retry", false)
			if err != nil {
				return err
			}
			defer e.close()
			pushed, err := operations(e).Retry(cmd.Context(), ops.RetryRequest{Stage: stageName, Items: args, Match: match})
			ops.PrintPushed(cmd.OutOrStdout(), pushed, "queued again on")
			return flagError(err, map[string]string{"stage": "", "items": "", "match": "match"})
		},
	}
	cmd.Flags().StringVar(&stageName, "stage", "preprocess", "stage whose failures to retry: preprocess, register, seed or deregister")
	cmd.Flags().StringVar(&match, "match", "", "retry only the failures whose item matches this pattern")
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
			o := operations(e)
			if viaQueue {
				pushed, err := o.DeregisterQueued(ctx, args)
				ops.PrintPushed(cmd.OutOrStdout(), pushed, "queued on")
				return flagError(err, map[string]string{"identifiers": ""})
			}
			r, reg, err := newRegistrar(ctx, e)
			if err != nil {
				return err
			}
			defer reg.Close()
			if keepObjects {
				r.DeleteObjects = false
			}
			o.Deregister = func(ctx context.Context, id string) error {
				_, err := r.Deregister(ctx, id)
				return err
			}
			removed, err := o.DeregisterNow(ctx, args)
			for _, rm := range removed {
				if rm.Removed {
					fmt.Fprintf(cmd.OutOrStdout(), "deregistered %s\n", rm.Identifier)
				}
			}
			return flagError(err, map[string]string{"identifiers": ""})
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
