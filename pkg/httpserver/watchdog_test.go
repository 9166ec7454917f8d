package httpserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWatchdogFlagsAStuckRequestUntilItEnds(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	d := &Watchdog{Stuck: time.Minute, now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	release := make(chan struct{})
	entered := make(chan struct{})
	h := d.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/ows?REQUEST=GetMap&BBOX=1,2,3,4", nil))
		close(done)
	}()
	<-entered
	if err := d.Check(); err != nil {
		t.Fatalf("a fresh request is flagged: %v", err)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	err := d.Check()
	if err == nil || !strings.Contains(err.Error(), "REQUEST=GetMap") {
		t.Fatalf("a request running 2 minutes is not flagged: %v", err)
	}
	close(release)
	<-done
	if err := d.Check(); err != nil {
		t.Errorf("flagged after the request ended: %v", err)
	}
}

func TestWatchdogIgnoresRequestsThatAreAnswering(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	d := &Watchdog{Stuck: time.Minute, now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	release := make(chan struct{})
	writing := make(chan struct{})
	h := d.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("first bytes of a large coverage"))
		close(writing)
		<-release
	}))
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/wcs", nil))
		close(done)
	}()
	<-writing
	mu.Lock()
	now = now.Add(10 * time.Minute)
	mu.Unlock()
	if err := d.Check(); err != nil {
		t.Errorf("a request sending its answer is flagged: %v", err)
	}
	close(release)
	<-done
}
