package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/pvs/pvs/pkg/queue"
)

// Pushed is what became of one item asked for.
type Pushed struct {
	Queue string `json:"queue"`
	Item  string `json:"item"`
	// Pushed is false for an item already queued or in flight in its
	// stage: it was left as it was, and runs once.
	Pushed bool `json:"pushed"`
}

// CheckEnqueue validates a request to push items onto queueName before
// any is pushed: a known queue, items Push accepts, and JSON documents on
// preprocess-md_queue.
func CheckEnqueue(queueName string, items []string) error {
	if _, ok := queue.StageOf(queueName); !ok {
		return invalid("queue", "unknown queue %q (want preprocess_queue, preprocess-md_queue, register_queue, seed_queue or deregister_queue)", queueName)
	}
	if len(items) == 0 {
		return invalid("items", "no item to push")
	}
	for _, it := range items {
		if err := queue.CheckItem(it); err != nil {
			return invalid("items", "%q: %v", it, err)
		}
		if queueName == "preprocess-md_queue" && !json.Valid([]byte(it)) {
			return invalid("items", "preprocess-md_queue items are JSON documents; %q is not", it)
		}
	}
	return nil
}

// Enqueue pushes items onto queueName, in order, after checking them all.
// It returns what became of each item pushed before any error.
func (o *Ops) Enqueue(ctx context.Context, queueName string, items []string) ([]Pushed, error) {
	if err := CheckEnqueue(queueName, items); err != nil {
		return nil, err
	}
	return o.push(ctx, queueName, items)
}

func (o *Ops) push(ctx context.Context, queueName string, items []string) ([]Pushed, error) {
	out := make([]Pushed, 0, len(items))
	for _, it := range items {
		pushed, err := o.Queue.Push(ctx, queueName, it)
		if err != nil {
			return out, err
		}
		out = append(out, Pushed{Queue: queueName, Item: it, Pushed: pushed})
	}
	return out, nil
}

// PrintPushed says what became of each item, verb naming a push ("queued
// on", "queued again on").
func PrintPushed(w io.Writer, ps []Pushed, verb string) {
	for _, p := range ps {
		if !p.Pushed {
			fmt.Fprintf(w, "already queued or in flight on %s, left as it is: %s\n", p.Queue, p.Item)
			continue
		}
		fmt.Fprintf(w, "%s %s: %s\n", verb, p.Queue, p.Item)
	}
}

// Follow waits for item's outcome in each stage it passes through (a
// preprocessed package on into registration), saying so on w, and reports
// whether it ended well.
func (o *Ops) Follow(ctx context.Context, w io.Writer, item string) bool {
	stage := ""
	for {
		hs, err := o.Queue.History(ctx, item)
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
