package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/ops"
	"github.com/pvs/pvs/pkg/queue"
)

const testToken = "s3cret-token-of-the-tests-0123"

// loadDoc loads and validates the OpenAPI document as served under base.
func loadDoc(t *testing.T, base string) *openapi3.T {
	t.Helper()
	b, err := OpenAPI(base)
	testenv.Must(t, err, "render the OpenAPI document")
	doc, err := openapi3.NewLoader().LoadFromData(b)
	testenv.Must(t, err, "load the OpenAPI document")
	testenv.Must(t, doc.Validate(context.Background()), "validate the OpenAPI document")
	return doc
}

// The document is valid OpenAPI 3, and describes exactly the routes the
// server serves: every operation it lists is routed, every route listed.
func TestOpenAPIDocumentMatchesTheRoutes(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t, "/admin")
	if got := doc.Servers[0].URL; got != "/admin" {
		t.Errorf("server URL %q, want the base path /admin", got)
	}
	var documented, served []string
	for p, item := range doc.Paths.Map() {
		for m := range item.Operations() {
			documented = append(documented, m+" "+p)
		}
	}
	for _, rt := range routes {
		served = append(served, rt.method+" "+rt.path)
		op := doc.Paths.Find(rt.path).GetOperation(rt.method)
		if op == nil {
			continue
		}
		// Public routes say so, protected ones inherit the bearer scheme.
		if public := op.Security != nil && len(*op.Security) == 0; public != rt.public {
			t.Errorf("%s %s: public %v in the document, %v in the router", rt.method, rt.path, public, rt.public)
		}
		if !rt.public && op.Responses.Status(http.StatusUnauthorized) == nil {
			t.Errorf("%s %s: no 401 answer documented", rt.method, rt.path)
		}
	}
	sort.Strings(documented)
	sort.Strings(served)
	if !slices.Equal(documented, served) {
		t.Errorf("documented operations:\n%s\nserved routes:\n%s", strings.Join(documented, "\n"), strings.Join(served, "\n"))
	}
	if b, err := OpenAPI(""); err != nil || !bytes.Contains(b, []byte(`"url": "/"`)) {
		t.Errorf("document served from the root does not name / as its server (%v)", err)
	}
}

// fixture is a management API on a Redis prefix of its own, with the
// OpenAPI document every answer is checked against.
type fixture struct {
	rdb    interface{ Close() error }
	prefix string
	q      *queue.Client
	ops    *ops.Ops
	srv    *httptest.Server
	router routers.Router
}

func newFixture(t *testing.T, configure func(o *ops.Ops)) *fixture {
	t.Helper()
	rdb, prefix := testenv.Redis(t)
	f := &fixture{rdb: rdb, prefix: prefix, q: queue.New(rdb, prefix)}
	f.ops = &ops.Ops{Queue: f.q, Prefix: prefix}
	if configure != nil {
		configure(f.ops)
	}
	s := &Server{Ops: f.ops, Token: testToken, BasePath: "/admin", Log: slog.New(slog.DiscardHandler)}
	f.srv = httptest.NewServer(s.Handler())
	t.Cleanup(f.srv.Close)
	doc := loadDoc(t, "/admin")
	doc.Servers = openapi3.Servers{{URL: f.srv.URL + "/admin"}}
	var err error
	f.router, err = legacy.NewRouter(doc)
	testenv.Must(t, err, "router of the document")
	return f
}

// answer is a response of the API.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d is not the JSON expected (%v): %s", a.status, err, a.body)
	}
}

// apiErr decodes an error answer.
func (a answer) apiErr(t *testing.T) apiError {
	t.Helper()
	var e apiError
	a.json(t, &e)
	if e.Error == "" {
		t.Errorf("error answer %d without a message: %s", a.status, a.body)
	}
	return e
}

// call sends a request with a JSON body (nil: none; a string: sent as it
// is) and the token (empty: none), and checks the answer against the
// document: its status must be documented for the operation and its body
// match the schema. Valid requests (answered below 400) are checked
// against the document too.
func (f *fixture) call(t *testing.T, method, path, token string, body any) answer {
	t.Helper()
	return f.send(t, method, path, token, "application/json", body, true)
}

func (f *fixture) send(t *testing.T, method, path, token, ctype string, body any, documented bool) answer {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		raw, err = json.Marshal(b)
		testenv.Must(t, err, "encode body")
	}
	newReq := func() *http.Request {
		var rd io.Reader
		if raw != nil {
			rd = bytes.NewReader(raw)
		}
		req, err := http.NewRequest(method, f.srv.URL+"/admin"+path, rd)
		testenv.Must(t, err, "request")
		if raw != nil {
			req.Header.Set("Content-Type", ctype)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return req
	}
	res, err := http.DefaultClient.Do(newReq())
	testenv.Must(t, err, "%s %s", method, path)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	testenv.Must(t, err, "read answer")
	a := answer{status: res.StatusCode, header: res.Header, body: b}
	if !documented {
		return a
	}
	req := newReq()
	route, params, err := f.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: not in the OpenAPI document: %v", method, path, err)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		ExcludeResponseBody: !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json")}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if a.status < 400 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("%s %s: the request served does not match the document: %v", method, path, err)
		}
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: newReq(), PathParams: params, Route: route, Options: opts},
		Status:                 a.status, Header: a.header, Body: io.NopCloser(bytes.NewReader(b)), Options: opts})
	if err != nil {
		t.Errorf("%s %s: answer %d does not match the document: %v\n%s", method, path, a.status, err, b)
	}
	return a
}

func (f *fixture) want(t *testing.T, a answer, status int, what string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("%s: HTTP %d, want %d: %s", what, a.status, status, a.body)
	}
}

// Every API route refuses a request without the token, with a wrong one
// or with another scheme (401, a JSON error, WWW-Authenticate); the
// console, its assets and the document need none.
func TestAuthorization(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for _, rt := range routes {
		path := strings.ReplaceAll(rt.path, "{file}", "console.js")
		var body any
		if rt.method == "POST" {
			body = map[string]any{}
		}
		if rt.public {
			a := f.call(t, rt.method, path, "", body)
			f.want(t, a, http.StatusOK, rt.method+" "+path+" without a token")
			continue
		}
		for _, tc := range []struct{ name, token, header string }{
			{"no token", "", ""},
			{"wrong token", testToken + "x", ""},
			{"empty bearer", "", "Bearer "},
			{"basic scheme", "", "Basic " + testToken},
			{"token as scheme", "", testToken},
		} {
			a := func() answer {
				if tc.header == "" {
					return f.call(t, rt.method, path, tc.token, body)
				}
				req, _ := http.NewRequest(rt.method, f.srv.URL+"/admin"+path, nil)
				req.Header.Set("Authorization", tc.header)
				res, err := http.DefaultClient.Do(req)
				testenv.Must(t, err, "request")
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return answer{status: res.StatusCode, header: res.Header, body: b}
			}()
			f.want(t, a, http.StatusUnauthorized, rt.method+" "+path+" with "+tc.name)
			if e := a.apiErr(t); !strings.Contains(e.Error, "token") {
				t.Errorf("%s %s with %s: error %q does not say what is wrong", rt.method, path, tc.name, e.Error)
			}
			if !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") || a.header.Get("Content-Type") != "application/json" {
				t.Errorf("%s %s with %s: headers %v", rt.method, path, tc.name, a.header)
			}
		}
	}
	// Unknown API paths and methods answer in JSON, and only with the token.
	a := f.send(t, "GET", "/api/nope", "", "", nil, false)
	f.want(t, a, http.StatusUnauthorized, "unknown route without a token")
	a = f.send(t, "GET", "/api/nope", testToken, "", nil, false)
	f.want(t, a, http.StatusNotFound, "unknown route")
	a.apiErr(t)
	a = f.send(t, "DELETE", "/api/stages", testToken, "", nil, false)
	f.want(t, a, http.StatusMethodNotAllowed, "DELETE /api/stages")
	if a.header.Get("Allow") != "GET" || !strings.Contains(a.apiErr(t).Error, "use GET") {
		t.Errorf("405 without the methods allowed: %v %s", a.header, a.body)
	}
}

// The console, its assets and the document are served under the base
// path, which the page never spells (its URLs are relative); the bare
// base path redirects to the page.
func TestConsoleAndDocumentAreServed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	a := f.call(t, "GET", "/", "", nil)
	f.want(t, a, http.StatusOK, "console")
	if !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !bytes.Contains(a.body, []byte(`src="assets/console.js"`)) ||
		bytes.Contains(a.body, []byte("/admin")) || !strings.Contains(a.header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("console page: %v\n%s", a.header, a.body)
	}
	for name, ctype := range map[string]string{"console.js": "text/javascript", "console.css": "text/css"} {
		a := f.call(t, "GET", "/assets/"+name, "", nil)
		f.want(t, a, http.StatusOK, name)
		if !strings.HasPrefix(a.header.Get("Content-Type"), ctype) || len(a.body) < 100 {
			t.Errorf("%s: %s, %d bytes", name, a.header.Get("Content-Type"), len(a.body))
		}
	}
	for _, name := range []string{"nope.js", "index.html"} {
		a := f.call(t, "GET", "/assets/"+name, "", nil)
		f.want(t, a, http.StatusNotFound, name)
		a.apiErr(t)
	}
	a = f.call(t, "GET", "/openapi.json", "", nil)
	f.want(t, a, http.StatusOK, "document")
	var doc map[string]any
	a.json(t, &doc)
	if doc["openapi"] != "3.0.3" {
		t.Errorf("document: %v", doc["openapi"])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(f.srv.URL + "/admin")
	testenv.Must(t, err, "GET /admin")
	res.Body.Close()
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/admin/" {
		t.Errorf("GET /admin: %d to %q, want a redirect to /admin/", res.StatusCode, res.Header.Get("Location"))
	}
	// Outside the base path there is nothing.
	res, err = http.Get(f.srv.URL + "/api/stages")
	testenv.Must(t, err, "GET /api/stages")
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /api/stages outside the base path: %d", res.StatusCode)
	}
}

// run runs a consumer of stage with h until stop is called.
func run(t *testing.T, q *queue.Client, stage queue.Stage, worker string, h queue.Handler) (stop func()) {
	t.Helper()
	c := q.NewConsumer(stage, queue.ConsumerOptions{WorkerID: worker, Heartbeat: 50 * time.Millisecond, RetryBase: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, h) }()
	return func() {
		cancel()
		testenv.Must(t, <-done, "consumer %s", worker)
	}
}

// The read routes: counts per stage, failures with their reasons, an
// item's history with its log tail, workers with what they hold.
func TestReadRoutes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()
	for _, it := range []string{"packages/good.tar", "packages/bad.tar", "packages/other/bad2.tar"} {
		testenv.Must(t, f.q.Enqueue(ctx, "preprocess_queue", it), "enqueue")
	}
	stop := run(t, f.q, queue.Preprocess, "preprocessor-1", func(ctx context.Context, it queue.Item) (string, error) {
		queue.ItemLogger(ctx, nil).Info("unpacking", "bytes", 1234)
		if strings.Contains(it.Value, "bad") {
			return "", queue.Permanent(errors.New("not a product package: no metadata file"))
		}
		return "VHR_IMAGE_2018/GOOD", nil
	})
	testenv.Eventually(t, 10*time.Second, "three items done", func() (bool, error) {
		n, err := f.q.Redis().SCard(ctx, f.q.Key(queue.Preprocess.Failure)).Result()
		m, _ := f.q.Redis().SCard(ctx, f.q.Key(queue.Preprocess.Success)).Result()
		lines, _ := f.q.LogTail(ctx, "preprocess", "packages/bad.tar")
		return n == 2 && m == 1 && len(lines) == 3, err
	})
	stop()
	// A register worker holding an item, and one item waiting.
	release := make(chan struct{})
	started := make(chan struct{})
	testenv.Must(t, f.q.Enqueue(ctx, "register_queue", "VHR_IMAGE_2018/HELD"), "enqueue")
	stop = run(t, f.q, queue.Register, "registrar-2", func(ctx context.Context, it queue.Item) (string, error) {
		close(started)
		<-release
		return "", nil
	})
	defer stop()
	defer close(release)
	<-started
	testenv.Must(t, f.q.Enqueue(ctx, "seed_queue", "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z"), "enqueue")

	var st struct{ Stages []ops.StageCounts }
	a := f.call(t, "GET", "/api/stages", testToken, nil)
	f.want(t, a, http.StatusOK, "stages")
	a.json(t, &st)
	got := map[string]string{}
	for _, s := range st.Stages {
		got[s.Stage] = fmt.Sprintf("queued %d running %d success %d failure %d", s.Queues[0].Queued, s.InProgress, s.Success, s.Failure)
	}
	for stage, want := range map[string]string{
		"preprocess": "queued 0 running 0 success 1 failure 2",
		"register":   "queued 0 running 1 success 0 failure 0",
		"seed":       "queued 1 running 0 success 0 failure 0",
		"deregister": "queued 0 running 0 success 0 failure 0",
	} {
		if got[stage] != want {
			t.Errorf("stage %s: %s, want %s", stage, got[stage], want)
		}
	}
	if len(st.Stages) != 4 || len(st.Stages[0].Queues) != 2 || st.Stages[0].FailureSet != "preprocess-failure_set" {
		t.Errorf("stages: %+v", st.Stages)
	}

	var page ops.ItemPage
	a = f.call(t, "GET", "/api/items?stage=preprocess", testToken, nil)
	f.want(t, a, http.StatusOK, "failures")
	a.json(t, &page)
	if page.Total != 2 || len(page.Items) != 2 || page.Items[0].Item != "packages/bad.tar" ||
		page.Items[0].Error != "not a product package: no metadata file" || page.Items[0].Status != "failure" {
		t.Errorf("failures: %+v", page)
	}
	a = f.call(t, "GET", "/api/items?stage=preprocess&set=failure&match=packages/other/*&limit=5", testToken, nil)
	f.want(t, a, http.StatusOK, "failures matching")
	a.json(t, &page)
	if page.Total != 1 || page.Items[0].Item != "packages/other/bad2.tar" {
		t.Errorf("failures matching packages/other/*: %+v", page)
	}
	a = f.call(t, "GET", "/api/items?stage=preprocess&set=success", testToken, nil)
	f.want(t, a, http.StatusOK, "successes")
	a.json(t, &page)
	if page.Total != 1 || page.Items[0].Result != "VHR_IMAGE_2018/GOOD" {
		t.Errorf("successes: %+v", page)
	}
	a = f.call(t, "GET", "/api/items?stage=seed&set=queued", testToken, nil)
	f.want(t, a, http.StatusOK, "queued")
	a.json(t, &page)
	if page.Total != 1 || page.Items[0].Status != "queued" {
		t.Errorf("queued seeds: %+v", page)
	}
	a = f.call(t, "GET", "/api/items?stage=register&set=running&limit=1", testToken, nil)
	f.want(t, a, http.StatusOK, "running")
	a.json(t, &page)
	if page.Total != 1 || !page.Items[0].Held || page.Items[0].Worker != "registrar-2" {
		t.Errorf("running registrations: %+v", page)
	}

	var item struct {
		Item   string
		Stages []ops.History
	}
	a = f.call(t, "GET", "/api/item?item=packages/bad.tar", testToken, nil)
	f.want(t, a, http.StatusOK, "item")
	a.json(t, &item)
	if len(item.Stages) != 1 {
		t.Fatalf("item: %s", a.body)
	}
	h := item.Stages[0]
	if h.Status != "failure" || h.Attempts != 1 || h.Worker != "preprocessor-1" || h.EnqueuedAt == "" || h.StartedAt == "" ||
		h.FinishedAt == "" || h.Error != "not a product package: no metadata file" || len(h.Log) != 3 ||
		!strings.HasPrefix(h.Log[1].Message, "unpacking bytes=1234") || !strings.HasPrefix(h.Log[2].Message, "item failed") {
		t.Errorf("history of packages/bad.tar: %+v", h)
	}
	a = f.call(t, "GET", "/api/item?item="+urlQuery("2018-06-15T00:00:00Z/2018-06-16T00:00:00Z"), testToken, nil)
	f.want(t, a, http.StatusOK, "interval item")
	a = f.call(t, "GET", "/api/item?item=packages/nope.tar", testToken, nil)
	f.want(t, a, http.StatusNotFound, "unknown item")
	if e := a.apiErr(t); !strings.Contains(e.Error, "packages/nope.tar") || e.Field != "item" {
		t.Errorf("unknown item: %+v", e)
	}

	var ws struct{ Workers []ops.WorkerState }
	a = f.call(t, "GET", "/api/workers", testToken, nil)
	f.want(t, a, http.StatusOK, "workers")
	a.json(t, &ws)
	if len(ws.Workers) != 1 || ws.Workers[0].Worker != "registrar-2" || !ws.Workers[0].Registered ||
		ws.Workers[0].SilentSeconds < 0 || ws.Workers[0].SilentSeconds > 5 || len(ws.Workers[0].Holds) != 1 ||
		ws.Workers[0].Holds[0].Item != "VHR_IMAGE_2018/HELD" || !ws.Workers[0].Holds[0].Leased {
		t.Errorf("workers: %s", a.body)
	}
	testenv.Must(t, f.q.MarkDegraded(ctx, "registrar-2", "12 of the last 20 items had to be retried", time.Minute), "degrade")
	a = f.call(t, "GET", "/api/workers", testToken, nil)
	a.json(t, &ws)
	if ws.Workers[0].Degraded != "12 of the last 20 items had to be retried" || ws.Workers[0].DegradedSeconds <= 0 {
		t.Errorf("degraded worker: %s", a.body)
	}

	// Bad parameters are 400s naming the parameter.
	for _, tc := range []struct{ query, field, says string }{
		{"/api/items", "stage", "required"},
		{"/api/items?stage=nope", "stage", `unknown stage "nope"`},
		{"/api/items?stage=seed&set=lost", "set", `unknown set "lost"`},
		{"/api/items?stage=seed&limit=many", "limit", `"many" is not a whole number`},
		{"/api/items?stage=seed&limit=0", "limit", "0 is not within 1-10000"},
		{"/api/items?stage=seed&limit=20000", "limit", "not within 1-10000"},
		{"/api/item", "item", "required"},
		{"/api/item?item=a%01b", "item", "control character"},
	} {
		a := f.call(t, "GET", tc.query, testToken, nil)
		f.want(t, a, http.StatusBadRequest, tc.query)
		if e := a.apiErr(t); e.Field != tc.field || !strings.Contains(e.Error, tc.says) {
			t.Errorf("%s: error %+v, want field %q saying %q", tc.query, e, tc.field, tc.says)
		}
	}
}

func urlQuery(s string) string { return strings.NewReplacer("/", "%2F", ":", "%3A").Replace(s) }

// Enqueue and retry (one item, a stage's failures, those matching a
// pattern), with the request errors they answer.
func TestEnqueueAndRetry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()
	var res pushedAnswer
	a := f.call(t, "POST", "/api/enqueue", testToken, map[string]any{"items": []string{"in/a.tar", "in/b.tar", "in/c.zip"}})
	f.want(t, a, http.StatusOK, "enqueue")
	a.json(t, &res)
	if len(res.Results) != 3 || !res.Results[0].Pushed || res.Results[0].Queue != "preprocess_queue" {
		t.Errorf("enqueue: %+v", res)
	}
	a = f.call(t, "POST", "/api/enqueue", testToken, map[string]any{"queue": "preprocess_queue", "items": []string{"in/a.tar"}})
	f.want(t, a, http.StatusOK, "enqueue again")
	a.json(t, &res)
	if len(res.Results) != 1 || res.Results[0].Pushed {
		t.Errorf("an item queued already was pushed again: %+v", res)
	}
	a = f.call(t, "POST", "/api/enqueue", testToken, map[string]any{"queue": "preprocess-md_queue", "items": []string{`{"path":"in/d.tar"}`}})
	f.want(t, a, http.StatusOK, "enqueue a document")

	stop := run(t, f.q, queue.Preprocess, "preprocessor-1", func(ctx context.Context, it queue.Item) (string, error) {
		return "", queue.Permanent(errors.New("broken"))
	})
	testenv.Eventually(t, 10*time.Second, "four failures", func() (bool, error) {
		n, err := f.q.Redis().SCard(ctx, f.q.Key(queue.Preprocess.Failure)).Result()
		return n == 4, err
	})
	stop()

	queued := func() []string {
		a, _ := f.q.Redis().LRange(ctx, f.q.Key("preprocess_queue"), 0, -1).Result()
		b, _ := f.q.Redis().LRange(ctx, f.q.Key("preprocess-md_queue"), 0, -1).Result()
		out := append(a, b...)
		sort.Strings(out)
		return out
	}
	// One item, then by pattern, then the rest of the stage.
	a = f.call(t, "POST", "/api/retry", testToken, map[string]any{"stage": "preprocess", "items": []string{"in/b.tar"}})
	f.want(t, a, http.StatusOK, "retry one")
	if got := queued(); !slices.Equal(got, []string{"in/b.tar"}) {
		t.Errorf("after retrying one: queued %v", got)
	}
	a = f.call(t, "POST", "/api/retry", testToken, map[string]any{"stage": "preprocess", "match": "in/*.zip"})
	f.want(t, a, http.StatusOK, "retry by pattern")
	a.json(t, &res)
	if len(res.Results) != 1 || res.Results[0].Item != "in/c.zip" {
		t.Errorf("retry by pattern: %+v", res)
	}
	a = f.call(t, "POST", "/api/retry", testToken, map[string]any{"stage": "preprocess"})
	f.want(t, a, http.StatusOK, "retry the stage")
	a.json(t, &res)
	// in/b.tar and in/c.zip are queued already: left as they are.
	pushed := map[string]bool{}
	for _, r := range res.Results {
		pushed[r.Item] = r.Pushed
	}
	if len(res.Results) != 4 || !pushed["in/a.tar"] || pushed["in/b.tar"] || !pushed[`{"path":"in/d.tar"}`] {
		t.Errorf("retry the stage: %+v", res)
	}
	if got := queued(); !slices.Equal(got, []string{"in/a.tar", "in/b.tar", "in/c.zip", `{"path":"in/d.tar"}`}) {
		t.Errorf("after retrying the stage: queued %v (the document must go back on preprocess-md_queue)", got)
	}
	if n, _ := f.q.Redis().LLen(ctx, f.q.Key("preprocess-md_queue")).Result(); n != 1 {
		t.Errorf("preprocess-md_queue holds %d items, want the document retried there", n)
	}

	for _, tc := range []struct {
		path  string
		body  any
		field string
		says  string
	}{
		{"/api/enqueue", map[string]any{"queue": "nope_queue", "items": []string{"x"}}, "queue", `unknown queue "nope_queue"`},
		{"/api/enqueue", map[string]any{"items": []string{}}, "items", "no item"},
		{"/api/enqueue", map[string]any{"items": []string{""}}, "items", "empty item"},
		{"/api/enqueue", map[string]any{"queue": "preprocess-md_queue", "items": []string{"{not json"}}, "items", "JSON documents"},
		{"/api/enqueue", map[string]any{"itemz": []string{"x"}}, "", `unknown field "itemz"`},
		{"/api/enqueue", map[string]any{"items": "x"}, "", `field "items" must be an array`},
		{"/api/enqueue", `{"items": [`, "", "not JSON"},
		{"/api/enqueue", ``, "", "empty"},
		{"/api/enqueue", `{"items":["x"]} {}`, "", "found more"},
		{"/api/retry", map[string]any{}, "stage", "required"},
		{"/api/retry", map[string]any{"stage": "nope"}, "stage", `unknown stage "nope"`},
		{"/api/retry", map[string]any{"stage": "seed", "items": []string{"x"}, "match": "*"}, "match", "not both"},
	} {
		a := f.call(t, "POST", tc.path, testToken, tc.body)
		f.want(t, a, http.StatusBadRequest, fmt.Sprintf("%s %v", tc.path, tc.body))
		if e := a.apiErr(t); e.Field != tc.field || !strings.Contains(e.Error, tc.says) {
			t.Errorf("%s %v: error %+v, want field %q saying %q", tc.path, tc.body, e, tc.field, tc.says)
		}
	}
	a = f.send(t, "POST", "/api/enqueue", testToken, "text/plain", `{"items":["x"]}`, true)
	f.want(t, a, http.StatusUnsupportedMediaType, "enqueue as text/plain")
	a.apiErr(t)
	a = f.call(t, "POST", "/api/enqueue", testToken, `{"items":["`+strings.Repeat("x", maxBody)+`"]}`)
	f.want(t, a, http.StatusRequestEntityTooLarge, "enqueue of a huge body")
	a.apiErr(t)
}
