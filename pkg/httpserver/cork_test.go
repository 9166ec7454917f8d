package httpserver

import (
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

// corkState reads TCP_CORK on c.
func corkState(t *testing.T, c *net.TCPConn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	v := -1
	rc.Control(func(fd uintptr) { v, err = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK) })
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// corkWatcher records the connection's TCP_CORK at each write.
type corkWatcher struct {
	t     *testing.T
	conn  *net.TCPConn
	bytes int
	cork  []int
}

func (w *corkWatcher) Write(p []byte) (int, error) {
	w.cork = append(w.cork, corkState(w.t, w.conn))
	w.bytes += len(p)
	return len(p), nil
}

// TestCorkedFileCorksWhileCopying checks that a CorkedFile body is copied
// with the connection corked, only its size, and uncorks it after.
func TestCorkedFileCorksWhileCopying(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	f, err := os.CreateTemp(t.TempDir(), "tile")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 20000))
	f.Seek(0, io.SeekStart)
	body := &corkedFile{f: f, size: 15000, conn: server.(*net.TCPConn)}
	w := &corkWatcher{t: t, conn: body.conn}
	n, err := body.WriteTo(w)
	if err != nil || n != 15000 || w.bytes != 15000 {
		t.Fatalf("copied %d (%d written), %v; want 15000", n, w.bytes, err)
	}
	for _, c := range w.cork {
		if c != 1 {
			t.Errorf("TCP_CORK at the writes: %v, want 1 at each", w.cork)
			break
		}
	}
	if c := corkState(t, body.conn); c != 0 {
		t.Errorf("TCP_CORK after the copy: %d, want 0", c)
	}
	if err := body.Close(); err != nil {
		t.Error(err)
	}
	if _, err := f.Stat(); err == nil {
		t.Error("the file is still open after Close")
	}
}
