package admin

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/pvs/pvs/pkg/ops"
	"github.com/pvs/pvs/pkg/queue"
)

func (s *Server) stages(w http.ResponseWriter, r *http.Request) {
	st, err := s.Ops.Stages(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"stages": st})
}

func (s *Server) items(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	iq := ops.ItemQuery{Stage: q.Get("stage"), Set: q.Get("set"), Match: q.Get("match")}
	if iq.Stage == "" {
		writeError(w, http.StatusBadRequest, "stage", "stage: required (preprocess, register, seed or deregister)")
		return
	}
	if iq.Set == "" {
		iq.Set = ops.SetFailure
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		switch {
		case err != nil:
			writeError(w, http.StatusBadRequest, "limit", fmt.Sprintf("limit: %q is not a whole number", l))
			return
		case n < 1 || n > 10000:
			writeError(w, http.StatusBadRequest, "limit", fmt.Sprintf("limit: %d is not within 1-10000", n))
			return
		}
		iq.Limit = n
	}
	page, err := s.Ops.Items(r.Context(), iq)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// itemAnswer is an item's history in every stage that has seen it.
type itemAnswer struct {
	Item   string        `json:"item"`
	Stages []ops.History `json:"stages"`
}

func (s *Server) item(w http.ResponseWriter, r *http.Request) {
	// The item is a query parameter, not a path segment: items are object
	// paths and intervals, full of slashes a router would clean up.
	item := r.URL.Query().Get("item")
	if item == "" {
		writeError(w, http.StatusBadRequest, "item", "item: required, e.g. ?item=incoming/scene.tar")
		return
	}
	if err := queue.CheckItem(item); err != nil {
		writeError(w, http.StatusBadRequest, "item", "item: "+err.Error())
		return
	}
	hs, err := s.Ops.Item(r.Context(), item)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(hs) == 0 {
		writeError(w, http.StatusNotFound, "item", fmt.Sprintf("unknown item %q (never queued under prefix %q)", item, s.Ops.Prefix))
		return
	}
	writeJSON(w, http.StatusOK, itemAnswer{Item: item, Stages: hs})
}

func (s *Server) workers(w http.ResponseWriter, r *http.Request) {
	ws, err := s.Ops.Workers(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"workers": ws})
}

// pushedAnswer is what became of the items of an enqueue or a retry.
type pushedAnswer struct {
	Results []ops.Pushed `json:"results"`
}

type enqueueRequest struct {
	Queue string   `json:"queue"`
	Items []string `json:"items"`
}

func (s *Server) enqueue(w http.ResponseWriter, r *http.Request) {
	var req enqueueRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Queue == "" {
		req.Queue = queue.Preprocess.Queues[0]
	}
	ps, err := s.Ops.Enqueue(r.Context(), req.Queue, req.Items)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pushedAnswer{Results: ps})
}

func (s *Server) retry(w http.ResponseWriter, r *http.Request) {
	var req ops.RetryRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Stage == "" {
		writeError(w, http.StatusBadRequest, "stage", "stage: required (preprocess, register, seed or deregister)")
		return
	}
	ps, err := s.Ops.Retry(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pushedAnswer{Results: ps})
}

type deregisterRequest struct {
	Identifiers []string `json:"identifiers"`
	// Queue hands the products to the registrars through deregister_queue
	// instead of removing them now.
	Queue bool `json:"queue"`
}

type deregisterAnswer struct {
	Queued   []ops.Pushed  `json:"queued,omitempty"`
	Removals []ops.Removal `json:"removals,omitempty"`
}

func (s *Server) deregister(w http.ResponseWriter, r *http.Request) {
	var req deregisterRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Queue {
		ps, err := s.Ops.DeregisterQueued(r.Context(), req.Identifiers)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, deregisterAnswer{Queued: ps})
		return
	}
	rms, err := s.Ops.DeregisterNow(r.Context(), req.Identifiers)
	if rms == nil && err != nil {
		s.fail(w, r, err)
		return
	}
	// Each product on its own: those not removed say why in the answer.
	writeJSON(w, http.StatusOK, deregisterAnswer{Removals: rms})
}

func (s *Server) seed(w http.ResponseWriter, r *http.Request) {
	var req ops.SeedRequest
	if !decode(w, r, &req) {
		return
	}
	sum, err := s.Ops.Seed(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sum)
}
