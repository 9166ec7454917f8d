package httpserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"testing"
)

// TestCorkHoldsTheConnectionUntilUncorked checks, on a served TCP
// connection, that TCP_CORK is set by Cork and cleared by its return.
func TestCorkHoldsTheConnectionUntilUncorked(t *testing.T) {
	corked := func(r *http.Request) int {
		c := r.Context().Value(connKey{}).(*net.TCPConn)
		rc, err := c.SyscallConn()
		if err != nil {
			t.Error(err)
			return -1
		}
		v := -1
		rc.Control(func(fd uintptr) {
			v, err = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK)
		})
		if err != nil {
			t.Error(err)
		}
		return v
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		before := corked(r)
		uncork := Cork(r.Context())
		during := corked(r)
		uncork()
		fmt.Fprintf(w, "%d %d %d", before, during, corked(r))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ServeListener(ctx, slog.New(slog.DiscardHandler), ln, h, Options{}) }()
	defer func() { cancel(); <-done }()
	resp, err := http.Get("http://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "0 1 0" {
		t.Fatalf("TCP_CORK before, during and after: %s, want 0 1 0", body)
	}
	// Off a TCP connection (a test recorder, a Unix socket) it does nothing.
	Cork(context.Background())()
}
