package httpserver

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// server is a way to serve: ServeListener, or ServeFast with every request
// left to the net/http handler.
type server struct {
	name  string
	serve func(ctx context.Context, log *slog.Logger, ln net.Listener, h http.Handler, o Options) error
}

var servers = []server{
	{"net/http", ServeListener},
	{"fasthttp", func(ctx context.Context, log *slog.Logger, ln net.Listener, h http.Handler, o Options) error {
		return ServeFast(ctx, log, ln, nil, h, o)
	}},
}

// start serves h on a free port of the loopback until the test ends or
// stop is called; served reports what the server's serve returned.
func (s server) start(t *testing.T, h http.Handler, o Options) (url string, stop context.CancelFunc, served <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.serve(ctx, slog.New(slog.DiscardHandler), ln, h, o)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		for range done { // whether or not the test took the result
		}
	})
	return "http://" + ln.Addr().String(), cancel, done
}

// closedWithin reads from c until the server closes it, and fails the
// test if that takes longer than d.
func closedWithin(t *testing.T, c net.Conn, d time.Duration, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("%s: the connection is still open after %s", what, d)
	}
}

func TestTimeouts(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) { s.testTimeouts(t) })
	}
}

func (s server) testTimeouts(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(600 * time.Millisecond)
		}
		w.Write([]byte("ok"))
	})
	// ReadTimeout, which would also end slow headers and idle waits, is
	// longer than the tests wait: each shows its own timeout at work.
	url, _, _ := s.start(t, h, Options{ReadHeaderTimeout: 100 * time.Millisecond, ReadTimeout: 10 * time.Second,
		WriteTimeout: 300 * time.Millisecond, IdleTimeout: 200 * time.Millisecond})
	addr := strings.TrimPrefix(url, "http://")

	t.Run("a request within the timeouts is served", func(t *testing.T) {
		resp, err := http.Get(url + "/fast")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "ok" {
			t.Errorf("%d %q", resp.StatusCode, body)
		}
	})
	t.Run("headers sent too slowly", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /fast HTTP/1.1\r\nHost: x\r\n") // and never the blank line
		closedWithin(t, c, 2*time.Second, "ReadHeaderTimeout")
	})
	t.Run("a response past the write timeout is cut off", func(t *testing.T) {
		if s.name == "fasthttp" {
			t.Skip("fasthttp's write timeout starts when the handler returns")
		}
		resp, err := http.Get(url + "/slow")
		if err == nil {
			resp.Body.Close()
			t.Errorf("got a response, %d, from a handler that outlived the write timeout", resp.StatusCode)
		}
	})
	t.Run("an idle kept-alive connection is closed", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		closedWithin(t, c, 2*time.Second, "IdleTimeout")
	})
}

// On shutdown a request in flight finishes, and the server then returns
// without error; new connections are refused.
func TestGracefulShutdown(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) { s.testGracefulShutdown(t) })
	}
}

func (s server) testGracefulShutdown(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-time.After(300 * time.Millisecond):
			w.Write([]byte("finished"))
		case <-r.Context().Done():
			w.Write([]byte("cancelled by the shutdown"))
		}
	})
	url, stop, served := s.start(t, h, Options{ShutdownGrace: 5 * time.Second})
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-entered
	stop()
	if s := <-got; s != "finished" {
		t.Errorf("the request in flight got %q", s)
	}
	if err := <-served; err != nil {
		t.Errorf("serve: %v", err)
	}
	if _, err := http.Get(url); err == nil {
		t.Error("a request after shutdown was served")
	}
}

// A request that outlives the grace is cut off, and the server says so.
func TestShutdownGraceRunsOut(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) { s.testShutdownGraceRunsOut(t) })
	}
}

func (s server) testShutdownGraceRunsOut(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-r.Context().Done(): // net/http: closing the connection cancels it
		case <-time.After(3 * time.Second): // fasthttp: nothing does
		}
	})
	url, stop, served := s.start(t, h, Options{ShutdownGrace: 100 * time.Millisecond})
	freed := make(chan error, 1)
	go func() {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
		}
		freed <- err
	}()
	<-entered
	stop()
	select {
	case err := <-served:
		if err == nil || !strings.Contains(err.Error(), "cut off") {
			t.Errorf("serve: %v, want an error saying requests were cut off", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after the grace")
	}
	// Its connection is closed: the client is not left waiting.
	select {
	case err := <-freed:
		if err == nil {
			t.Error("the request cut off got a response")
		}
	case <-time.After(2 * time.Second):
		t.Error("the client of the request cut off is still waiting")
	}
}

func TestOptionsRefuseNegativeTimeouts(t *testing.T) {
	t.Parallel()
	err := Serve(context.Background(), slog.New(slog.DiscardHandler), "127.0.0.1:0", http.NotFoundHandler(), Options{WriteTimeout: -time.Second})
	if err == nil || !strings.Contains(err.Error(), "WriteTimeout") {
		t.Errorf("got %v, want an error naming WriteTimeout", err)
	}
	o, err := Options{WriteTimeout: time.Hour}.withDefaults()
	if err != nil || o.WriteTimeout != time.Hour || o.ReadHeaderTimeout != 5*time.Second || o.ShutdownGrace != 30*time.Second {
		t.Errorf("defaults: %+v %v", o, err)
	}
}

// A panic on fasthttp's path is logged and answered, and the server goes
// on serving.
func TestServeFastSurvivesAPanic(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fast := func(c *fasthttp.RequestCtx) bool {
		if string(c.Path()) == "/boom" {
			panic("boom")
		}
		return false
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeFast(ctx, slog.New(slog.DiscardHandler), ln, fast, ok, Options{}) }()
	defer func() { cancel(); <-done }()
	url := "http://" + ln.Addr().String()
	resp, err := http.Get(url + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("a panicking request got %d, want 500", resp.StatusCode)
	}
	resp, err = http.Get(url + "/after")
	if err != nil {
		t.Fatalf("the server is down after a panic: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" {
		t.Errorf("after the panic: %d %q", resp.StatusCode, body)
	}
}
