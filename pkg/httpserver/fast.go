package httpserver

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sync"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// FastHandler answers the requests it can on fasthttp's hot path and
// reports whether it did; the others go to the net/http handler.
type FastHandler func(c *fasthttp.RequestCtx) bool

// readBufferSize bounds a request's line and headers together: more than
// Apache's 8190-byte request line and nginx's 8 KiB header buffers.
const readBufferSize = 16 << 10

// ServeFast is ServeListener on fasthttp: fast answers what it can (tile
// hits), handler the rest through fasthttp's net/http adaptor, which
// buffers each response. fasthttp has one read timeout, for a request's
// headers and body together: it is o.ReadHeaderTimeout, which suits a
// server of GETs. Its write timeout starts when the handler returns. The
// net/http handler runs under a context that the shutdown does not
// cancel, as in ServeListener; fasthttp does not see a client going away,
// so neither does that context.
func ServeFast(ctx context.Context, log *slog.Logger, ln net.Listener, fast FastHandler, handler http.Handler, o Options) error {
	o, err := o.withDefaults()
	if err != nil {
		ln.Close()
		return err
	}
	slow := fasthttpadaptor.NewFastHTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// r's context is the fasthttp request's, done at the start of a
		// shutdown: requests in flight get the grace instead.
		handler.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
	}))
	srv := &fasthttp.Server{
		Handler: func(c *fasthttp.RequestCtx) {
			// fasthttp does not recover a handler's panic (net/http
			// does, and the adaptor does for the net/http handler): one
			// bad request must not take the server down.
			defer func() {
				if v := recover(); v != nil {
					log.Error("panic serving a request", "uri", string(c.RequestURI()), "panic", v, "stack", string(debug.Stack()))
					c.ResetBody()
					c.Error("internal error; it is logged", fasthttp.StatusInternalServerError)
					c.SetConnectionClose()
				}
			}()
			if fast == nil || !fast(c) {
				slow(c)
			}
		},
		ReadTimeout:           o.ReadHeaderTimeout,
		WriteTimeout:          o.WriteTimeout,
		IdleTimeout:           o.IdleTimeout,
		ReadBufferSize:        readBufferSize,
		NoDefaultServerHeader: true,
		CloseOnShutdown:       true,
		Logger:                slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// fasthttp keeps no list of its connections to close those of the
	// requests past the grace: the server's state hook keeps one.
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	srv.ConnState = func(c net.Conn, st fasthttp.ConnState) {
		// Called at each request too (active, idle): only a connection's
		// first and last states take the lock.
		switch st {
		case fasthttp.StateNew:
			mu.Lock()
			conns[c] = struct{}{}
			mu.Unlock()
		case fasthttp.StateClosed, fasthttp.StateHijacked:
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		}
	}
	cutOff := func() {
		mu.Lock()
		defer mu.Unlock()
		for c := range conns {
			c.Close()
		}
	}
	return run(ctx, log, ln, o.ShutdownGrace, srv.Serve, srv.ShutdownWithContext, cutOff)
}

// CorkedFile is a response body of size bytes from f, sent with sendfile
// while the connection is corked, so that the header leaves in the body's
// first packet (as nginx's tcp_nopush): fasthttp writes the header out on
// its own before handing a large file to sendfile. Use it with
// c.SetBodyStream(CorkedFile(c, f, size), int(size)); it closes f.
func CorkedFile(c *fasthttp.RequestCtx, f *os.File, size int64) io.ReadCloser {
	tc, _ := c.Conn().(*net.TCPConn)
	return &corkedFile{f: f, size: size, conn: tc}
}

type corkedFile struct {
	f    *os.File
	size int64
	conn *net.TCPConn
}

func (b *corkedFile) Read(p []byte) (int, error) { return b.f.Read(p) }

func (b *corkedFile) Close() error { return b.f.Close() }

// WriteTo corks the connection, lets w (fasthttp's body writer, which
// flushes the header and calls sendfile for a file) copy the file, and
// uncorks it, which sends the last partial segment.
func (b *corkedFile) WriteTo(w io.Writer) (int64, error) {
	uncork := corkConn(b.conn)
	defer uncork()
	return io.Copy(w, io.LimitReader(b.f, b.size))
}
