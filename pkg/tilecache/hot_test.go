package tilecache

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/tile"
)

// memCache counts reads of the cache below.
type memCache struct {
	mu    sync.Mutex
	data  map[string][]byte
	reads int
}

func (m *memCache) Get(ctx context.Context, k tile.Key) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	d, ok := m.data[k.Path()]
	if !ok {
		return nil, ErrMiss
	}
	return d, nil
}

func (m *memCache) Set(ctx context.Context, k tile.Key, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[k.Path()] = data
	return nil
}

func (m *memCache) Purge(ctx context.Context, k tile.Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.data, k.Path())
	return nil
}

func body(t *testing.T, c Cache, k tile.Key) string {
	t.Helper()
	ct, err := c.(Opener).Open(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	defer ct.Body.Close()
	b, _ := io.ReadAll(ct.Body)
	if int64(len(b)) != ct.Size || !ct.Hit {
		t.Fatalf("size %d for %d bytes, hit %v", ct.Size, len(b), ct.Hit)
	}
	return string(b)
}

func TestHotServesFromMemoryAndForgetsOnChange(t *testing.T) {
	ctx := context.Background()
	below := &memCache{data: map[string][]byte{}}
	h := &Hot{Cache: below, MaxBytes: 10, TTL: time.Hour}
	k := tile.Key{Layer: "L", Grid: "G", Time: "default", Z: 1, Format: "png"}
	k2 := k
	k2.Col = 1
	below.Set(ctx, k, []byte("aaaa"))
	below.Set(ctx, k2, []byte("bbbbbb"))
	first, second := body(t, h, k), body(t, h, k)
	if first != "aaaa" || second != "aaaa" || below.reads != 1 {
		t.Fatalf("second hit read the cache below (%d reads)", below.reads)
	}
	// Set and Purge through it replace and drop the memory copy.
	if err := h.Set(ctx, k, []byte("cccc")); err != nil {
		t.Fatal(err)
	}
	if body(t, h, k) != "cccc" {
		t.Error("a Set is not seen")
	}
	h.Purge(ctx, k)
	if _, err := h.Open(ctx, k); !errors.Is(err, ErrMiss) {
		t.Errorf("a purged tile is still served: %v", err)
	}
	// Bounded: k (4 bytes) and k2 (6) fit in 10; a third tile pushes out
	// the least recently used.
	below.Set(ctx, k, []byte("dddd"))
	body(t, h, k)
	body(t, h, k2)
	k3 := k
	k3.Col = 2
	below.Set(ctx, k3, []byte("ee"))
	body(t, h, k3)
	if h.size > h.MaxBytes {
		t.Errorf("%d bytes kept, limit %d", h.size, h.MaxBytes)
	}
	reads := below.reads
	body(t, h, k)
	if below.reads != reads+1 {
		t.Error("the least recently used tile was not the one dropped")
	}
	// A copy older than TTL is read again from below.
	h.TTL = time.Nanosecond
	below.Set(ctx, k2, []byte("ffffff"))
	time.Sleep(time.Millisecond)
	if body(t, h, k2) != "ffffff" {
		t.Error("a copy older than TTL was served")
	}
}

// fileCache is a cache below that opens tiles as a file cache does.
type fileCache struct {
	memCache
}

func (f *fileCache) Open(ctx context.Context, k tile.Key) (tile.Content, error) {
	d, err := f.Get(ctx, k)
	if err != nil {
		return tile.Content{}, err
	}
	return tile.Content{Body: io.NopCloser(strings.NewReader(string(d))), Size: int64(len(d)), Hit: true}, nil
}

// Tiles opened from files are kept in memory while there is room, and
// then served from their files: a tile set larger than the memory served
// in a loop does not push out every copy before its next request.
func TestHotKeepsWhatItHoldsWhenFull(t *testing.T) {
	ctx := context.Background()
	below := &fileCache{memCache{data: map[string][]byte{}}}
	h := &Hot{Cache: below, MaxBytes: 10, TTL: time.Hour}
	keys := make([]tile.Key, 4)
	for i := range keys {
		keys[i] = tile.Key{Layer: "L", Grid: "G", Time: "default", Z: 1, Col: i, Format: "png"}
		below.Set(ctx, keys[i], []byte("aaaa"))
	}
	for round := 0; round < 3; round++ {
		for _, k := range keys {
			if body(t, h, k) != "aaaa" {
				t.Fatal("wrong tile")
			}
		}
	}
	// Two tiles fit: they are read once, the other two on every round.
	if below.reads != 2+2*3 {
		t.Errorf("%d reads below, want %d", below.reads, 2+2*3)
	}
	// Expired copies make room for others.
	h.TTL = time.Nanosecond
	time.Sleep(time.Millisecond)
	body(t, h, keys[3])
	h.TTL = time.Hour
	reads := below.reads
	body(t, h, keys[3])
	if below.reads != reads {
		t.Error("no room was made for a tile once the copies expired")
	}
}
