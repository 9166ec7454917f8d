package ops

import (
	"context"

	"github.com/pvs/pvs/pkg/queue"
)

// RetryRequest selects items of a stage to queue again.
type RetryRequest struct {
	Stage string   `json:"stage"`
	Items []string `json:"items,omitempty"` // these items; none: the stage's failures
	Match string   `json:"match,omitempty"` // only the failures matching this Glob
}

// Retry queues items of a stage again on the queue each came from (the
// stage's first queue for an item it has not seen): the items named, else
// every item of the stage's failure set, or those matching Match.
func (o *Ops) Retry(ctx context.Context, r RetryRequest) ([]Pushed, error) {
	st, err := StageNamed(r.Stage)
	if err != nil {
		return nil, &InputError{Field: "stage", Msg: err.Error()}
	}
	if len(r.Items) > 0 && r.Match != "" {
		return nil, invalid("match", "give items or a pattern, not both")
	}
	for _, it := range r.Items {
		if err := queue.CheckItem(it); err != nil {
			return nil, invalid("items", "%q: %v", it, err)
		}
	}
	re, err := Glob(r.Match)
	if err != nil {
		return nil, invalid("match", "%v", err)
	}
	items := r.Items
	if len(items) == 0 {
		failed, err := o.Queue.Members(ctx, st.Failure)
		if err != nil {
			return nil, err
		}
		for _, it := range failed {
			if re.MatchString(it) {
				items = append(items, it)
			}
		}
	}
	out := []Pushed{}
	for _, it := range items {
		hs, err := o.Queue.History(ctx, it)
		if err != nil {
			return out, err
		}
		queueName := st.Queues[0]
		for _, h := range hs {
			if h.Stage == st.Name && h.Queue != "" {
				queueName = h.Queue
			}
		}
		ps, err := o.push(ctx, queueName, []string{it})
		out = append(out, ps...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}
