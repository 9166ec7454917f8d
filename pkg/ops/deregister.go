package ops

import (
	"context"
	"errors"
	"fmt"

	"github.com/pvs/pvs/pkg/queue"
)

// Removal is what became of one product asked to be removed now.
type Removal struct {
	Identifier string `json:"identifier"`
	Removed    bool   `json:"removed"`
	Error      string `json:"error,omitempty"`
}

func checkIdentifiers(ids []string) error {
	if len(ids) == 0 {
		return invalid("identifiers", "no product identifier given")
	}
	for _, id := range ids {
		if err := queue.CheckItem(id); err != nil {
			return invalid("identifiers", "%q: %v", id, err)
		}
	}
	return nil
}

// DeregisterNow removes the products now, each on its own: one that
// cannot be removed does not keep the others. The error joins those of the
// products not removed.
func (o *Ops) DeregisterNow(ctx context.Context, ids []string) ([]Removal, error) {
	if err := checkIdentifiers(ids); err != nil {
		return nil, err
	}
	if o.Deregister == nil {
		return nil, fmt.Errorf("deregister now: %w", ErrUnavailable)
	}
	out := make([]Removal, 0, len(ids))
	var errs []error
	for _, id := range ids {
		if err := o.Deregister(ctx, id); err != nil {
			errs = append(errs, err)
			out = append(out, Removal{Identifier: id, Error: err.Error()})
			continue
		}
		out = append(out, Removal{Identifier: id, Removed: true})
	}
	return out, errors.Join(errs...)
}

// DeregisterQueued hands the products to the registrars through
// deregister_queue.
func (o *Ops) DeregisterQueued(ctx context.Context, ids []string) ([]Pushed, error) {
	if err := checkIdentifiers(ids); err != nil {
		return nil, err
	}
	return o.push(ctx, queue.Deregister.Queues[0], ids)
}
