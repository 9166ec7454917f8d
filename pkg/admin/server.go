package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/pvs/pvs/pkg/ops"
)

// Server serves the management API, its OpenAPI document and the console.
type Server struct {
	Ops *ops.Ops
	// Token is the bearer token every API request must carry. Empty
	// refuses every API request.
	Token string
	// BasePath is the path the server is reached under, e.g. "/admin"
	// behind a proxy that routes that prefix without stripping it; ""
	// serves from the root.
	BasePath string
	Log      *slog.Logger
}

//go:embed console
var consoleFiles embed.FS

// route is one operation of the API, its path relative to the base path
// as the OpenAPI document spells it.
type route struct {
	method, path string
	public       bool // served without the token
	handle       func(s *Server, w http.ResponseWriter, r *http.Request)
}

// routes lists everything the server serves; the OpenAPI document
// describes exactly these (the tests hold them together).
var routes = []route{
	{"GET", "/", true, (*Server).console},
	{"GET", "/assets/{file}", true, (*Server).asset},
	{"GET", "/openapi.json", true, (*Server).openAPI},
	{"GET", "/api/stages", false, (*Server).stages},
	{"GET", "/api/items", false, (*Server).items},
	{"GET", "/api/item", false, (*Server).item},
	{"GET", "/api/workers", false, (*Server).workers},
	{"POST", "/api/enqueue", false, (*Server).enqueue},
	{"POST", "/api/retry", false, (*Server).retry},
	{"POST", "/api/deregister", false, (*Server).deregister},
	{"POST", "/api/seed", false, (*Server).seed},
}

// Handler returns the server's routes under its base path.
func (s *Server) Handler() http.Handler {
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimSuffix(s.BasePath, "/")
	mux := http.NewServeMux()
	for _, rt := range routes {
		pattern := base + rt.path
		if rt.path == "/" {
			pattern = base + "/{$}"
		}
		h := func(w http.ResponseWriter, r *http.Request) { rt.handle(s, w, r) }
		if !rt.public {
			h = s.authorized(h)
		}
		mux.HandleFunc(rt.method+" "+pattern, h)
	}
	if base != "" {
		mux.Handle("GET "+base, http.RedirectHandler(base+"/", http.StatusMovedPermanently))
	}
	// Anything else under the API answers in JSON too.
	mux.HandleFunc(base+"/api/", s.authorized(func(w http.ResponseWriter, r *http.Request) {
		rel := strings.TrimPrefix(r.URL.Path, base)
		var allow []string
		for _, rt := range routes {
			if rt.path == rel {
				allow = append(allow, rt.method)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, "", fmt.Sprintf("%s %s: method not allowed (use %s)", r.Method, rel, strings.Join(allow, ", ")))
			return
		}
		writeError(w, http.StatusNotFound, "", fmt.Sprintf("no API route %s (see %s/openapi.json)", rel, base))
	}))
	return securityHeaders(mux)
}

// securityHeaders keeps the console's page and answers from being framed,
// sniffed or cached by the browser: they carry the state of the pipeline.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// authorized lets a request through only with the bearer token.
func (s *Server) authorized(next http.HandlerFunc) http.HandlerFunc {
	want := sha256.Sum256([]byte(s.Token))
	return func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		scheme, token, ok := strings.Cut(auth, " ")
		if auth == "" || !ok || !strings.EqualFold(scheme, "Bearer") {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pvs admin"`)
			writeError(w, http.StatusUnauthorized, "", "missing bearer token: send the header Authorization: Bearer <token>")
			return
		}
		// Hashes of equal length, compared in constant time: neither the
		// token nor its length leaks through the time taken.
		got := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if s.Token == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pvs admin", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "", "invalid token")
			return
		}
		next(w, r)
	}
}

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"` // the parameter or field at fault
}

func writeError(w http.ResponseWriter, status int, field, msg string) {
	writeJSON(w, status, apiError{Error: msg, Field: field})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// fail answers an error of a verb: the operator's input (400), a verb
// this daemon cannot do (503), or the deployment's (500, logged).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ie *ops.InputError
	switch {
	case errors.As(err, &ie):
		writeError(w, http.StatusBadRequest, ie.Field, ie.Error())
	case errors.Is(err, ops.ErrUnavailable):
		writeError(w, http.StatusServiceUnavailable, "", err.Error())
	case r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
	default:
		s.Log.Error("management API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "", err.Error())
	}
}

// maxBody bounds a request body: a thousand items of the largest size
// preprocess-md_queue documents reach in practice.
const maxBody = 16 << 20

// decode reads a JSON request body into v, refusing unknown fields so that
// a misspelt option is an error rather than silently ignored.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "", fmt.Sprintf("request body of type %q: send application/json", ct))
			return false
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("request body past %d bytes", maxBody))
			return false
		}
		writeError(w, http.StatusBadRequest, "", "request body: "+jsonProblem(err))
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "", "request body: one JSON object expected, found more")
		return false
	}
	return true
}

// jsonProblem says what is wrong with a body in the request's terms.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("field %q must be %s, not %s", te.Field, jsonType(te.Type.String()), te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("not JSON (%v at byte %d)", se, se.Offset)
	case errors.Is(err, io.EOF):
		return "empty; a JSON object is expected"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "not JSON (it ends early)"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonType(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int"):
		return "an integer"
	}
	return "an object"
}

func (s *Server) console(w http.ResponseWriter, r *http.Request) {
	b, err := consoleFiles.ReadFile("console/index.html")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The page's own script and style only: nothing from elsewhere.
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	w.Write(b)
}

func (s *Server) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := fs.ReadFile(consoleFiles, "console/"+name)
	if err != nil || name == "index.html" || strings.Contains(name, "/") {
		writeError(w, http.StatusNotFound, "file", fmt.Sprintf("no asset %q", name))
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Write(b)
}
