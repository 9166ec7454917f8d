package ingest

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/store"
)

// Handler is the ingestor's HTTP endpoint:
//
//	POST /ingest            a package path (text/plain) or a preprocess-md_queue
//	                        document (application/json); ?force=true pushes it
//	                        even if it is queued, in progress or registered
//	GET  /ingest?path=PATH  where the package stands
//
// Every request needs "Authorization: Bearer TOKEN".
type Handler struct {
	Token      string
	Ledger     *Ledger
	Source     store.Store
	Collection config.Collection
	// CheckExists refuses a path that is neither an object nor a prefix
	// of the source store.
	CheckExists bool
	MaxBytes    int64
	Log         *slog.Logger
}

// Answer is the body of a successful reply.
type Answer struct {
	// Item is what `pvs status ITEM` takes (with the JSON document of a
	// preprocess-md_queue item quoted as one argument).
	Item   string `json:"item"`
	Queue  string `json:"queue"`
	Path   string `json:"path"`
	Queued bool   `json:"queued"`
	// State is where the package stood before this request.
	State  State  `json:"state"`
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
}

type problem struct {
	Error string `json:"error"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pvs ingestor"`)
		h.fail(w, http.StatusUnauthorized, "missing or wrong bearer token (Authorization: Bearer TOKEN)")
		return
	}
	switch r.Method {
	case http.MethodPost:
		h.post(w, r)
	case http.MethodGet, http.MethodHead:
		h.get(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		h.fail(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: POST a package, GET its state")
	}
}

func (h *Handler) authorized(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || h.Token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(h.Token)) == 1
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query().Get("path")
	if err := CheckPath(p); err != nil {
		h.fail(w, http.StatusBadRequest, "query parameter path: "+err.Error())
		return
	}
	st, err := h.Ledger.Status(r.Context(), p)
	if err != nil {
		h.unavailable(w, err)
		return
	}
	h.reply(w, http.StatusOK, st)
}

func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	force, err := boolParam(r, "force")
	if err != nil {
		h.fail(w, http.StatusBadRequest, err.Error())
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBytes()))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		h.fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", tooLarge.Limit))
		return
	case err != nil:
		h.fail(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	doc, status, err := h.parse(r.Header.Get("Content-Type"), body)
	if err != nil {
		h.fail(w, status, err.Error())
		return
	}
	if err := doc.Check(h.Collection); err != nil {
		h.fail(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	if h.CheckExists {
		if err := h.exists(r.Context(), doc.Path); errors.Is(err, fs.ErrNotExist) {
			h.fail(w, http.StatusUnprocessableEntity, fmt.Sprintf("path %q: no object or prefix of that name in the source store %s", doc.Path, h.Source.URL()))
			return
		} else if err != nil {
			h.unavailable(w, err)
			return
		}
	}
	req := doc.Request("http")
	req.Force = force
	if len(req.Item) > queue.MaxItemBytes {
		h.fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("item of %d bytes, past the queue's limit of %d", len(req.Item), queue.MaxItemBytes))
		return
	}
	out, err := h.Ledger.Submit(r.Context(), req)
	if err != nil {
		h.unavailable(w, err)
		return
	}
	a := Answer{Item: out.Item, Queue: out.Queue, Path: doc.Path, Queued: out.Pushed, State: out.State, Reason: out.Reason, Detail: out.Detail}
	code := http.StatusOK
	if out.Pushed {
		code = http.StatusAccepted
		h.Log.Info("package queued", "path", doc.Path, "queue", out.Queue, "forced", force)
	}
	h.reply(w, code, a)
}

// parse reads the body as a path (text/plain) or a document (JSON).
func (h *Handler) parse(contentType string, body []byte) (Document, int, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		mt, err = "application/json", nil
		if t := strings.TrimSpace(string(body)); t != "" && t[0] != '{' {
			mt = "text/plain"
		}
	}
	if err != nil {
		return Document{}, http.StatusUnsupportedMediaType, fmt.Errorf("Content-Type %q: %v", contentType, err)
	}
	switch mt {
	case "text/plain":
		p := strings.TrimSpace(string(body))
		if strings.ContainsAny(p, "\n\r") {
			return Document{}, http.StatusBadRequest, errors.New("text/plain body: one package path, on one line")
		}
		return Document{Path: p}, 0, nil
	case "application/json":
		d, err := ParseDocument(body)
		if err != nil {
			return d, http.StatusBadRequest, err
		}
		return d, 0, nil
	default:
		return Document{}, http.StatusUnsupportedMediaType, fmt.Errorf("Content-Type %q: send application/json (a preprocess-md_queue document) or text/plain (a package path)", mt)
	}
}

// exists checks that path is an object or a non-empty prefix.
func (h *Handler) exists(ctx context.Context, path string) error {
	if _, err := h.Source.Stat(ctx, strings.TrimSuffix(path, "/")); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	objs, err := h.Source.List(ctx, strings.TrimSuffix(path, "/")+"/")
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		return fs.ErrNotExist
	}
	return nil
}

func (h *Handler) maxBytes() int64 {
	if h.MaxBytes > 0 {
		return h.MaxBytes
	}
	return 1 << 20
}

func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("query parameter %s=%q: want true or false", name, v)
	}
	return b, nil
}

func (h *Handler) reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func (h *Handler) fail(w http.ResponseWriter, code int, msg string) {
	h.reply(w, code, problem{Error: msg})
}

// unavailable answers a failure of Redis or the store: the request may
// succeed later, so 503, and the cause stays in the log.
func (h *Handler) unavailable(w http.ResponseWriter, err error) {
	h.Log.Error("ingest request", "err", err)
	w.Header().Set("Retry-After", "5")
	h.fail(w, http.StatusServiceUnavailable, "the queue or the source store did not answer; try again later")
}
