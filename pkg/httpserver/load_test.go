package httpserver

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoadPastTheLimit sends many more concurrent requests than the limit
// lets in, for a bounded time, through a real server: the excess is
// answered 503 at once, every request gets an answer, and memory does not
// grow with the load (nothing queues).
func TestLoadPastTheLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	const limit, clients = 4, 64
	work := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 1<<20) // a draw's working memory
		time.Sleep(20 * time.Millisecond)
		w.Write(buf[:1024])
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- ServeListener(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), ln, Limit(limit, work), Options{})
	}()
	defer func() { cancel(); <-served }()
	url := "http://" + ln.Addr().String() + "/ows"
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	var ok, busy, failed atomic.Int64
	round := func(d time.Duration) {
		var wg sync.WaitGroup
		stop := time.Now().Add(d)
		for i := 0; i < clients; i++ {
			wg.Go(func() {
				for time.Now().Before(stop) {
					resp, err := client.Get(url)
					if err != nil {
						failed.Add(1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					switch resp.StatusCode {
					case http.StatusOK:
						ok.Add(1)
					case http.StatusServiceUnavailable:
						if resp.Header.Get("Retry-After") == "" {
							failed.Add(1)
						}
						busy.Add(1)
					default:
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
	}
	round(500 * time.Millisecond) // warm up: connections, buffers
	before := heap()
	round(2 * time.Second)
	after := heap()
	t.Logf("%d clients, limit %d: %d served, %d refused with 503, %d failed; heap in use %d KiB before, %d KiB after",
		clients, limit, ok.Load(), busy.Load(), failed.Load(), before>>10, after>>10)
	if failed.Load() != 0 {
		t.Errorf("%d requests failed or got a 503 without Retry-After", failed.Load())
	}
	if busy.Load() == 0 || ok.Load() == 0 {
		t.Errorf("past the limit: %d served, %d refused; want both", ok.Load(), busy.Load())
	}
	// At most `limit` draws hold their memory at once, whatever the load.
	if after > before+16<<20 {
		t.Errorf("heap grew from %d to %d KiB under load", before>>10, after>>10)
	}
}
